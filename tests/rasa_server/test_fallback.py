"""The fallback: Rasa's on low confidence or ambiguity, never on a best guess of an emergency."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from rasa_server.fallback import EmergencyAwareFallbackClassifier
from scripts.nlu_metrics import decide


def test_an_unsure_emergency_gets_the_emergency_reply_not_the_clarifying_question() -> None:
    component = EmergencyAwareFallbackClassifier({"threshold": 0.5, "ambiguity_threshold": 0.2})

    def classified(best: str) -> Message:
        ranking = [{"name": best, "confidence": 0.41}, {"name": "out_of_scope", "confidence": 0.38}]
        return Message(
            data={TEXT: "my mum is not herself tonight", INTENT: ranking[0], INTENT_RANKING_KEY: ranking}
        )

    unsure_emergency, unsure_topic = classified("emergency"), classified("recovery_time")
    component.process([unsure_emergency, unsure_topic])

    assert unsure_emergency.get(INTENT) == {"name": "emergency", "confidence": 0.41}
    assert [item["name"] for item in unsure_emergency.get(INTENT_RANKING_KEY)] == [
        "emergency",
        "out_of_scope",
    ]
    assert unsure_topic.get(INTENT)["name"] == "nlu_fallback"
    assert decide([("emergency", 0.41), ("out_of_scope", 0.38)], 0.5, 0.2) == "emergency"
    assert decide([("recovery_time", 0.41), ("out_of_scope", 0.38)], 0.5, 0.2) == "nlu_fallback"
