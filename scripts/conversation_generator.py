"""Plays patients against the project's real actions: one generated conversation session at a time.

Every event is one of Rasa's own event classes (UserUttered, BotUttered, ActionExecuted,
SlotSet, SessionStarted, ...). The assistant's replies come from running the project's real
actions (requests for a person and ratings, whose actions reach the handoff queue, get their
replies from core/messages.yml). Patient messages are the paraphrases of data/nlu plus
questions the assistant cannot answer, worded in many ways; button clicks send the offered
payloads, and about a third of quoted answers are rated "Helpful" or "Not helpful" (after
which some patients pick "None of these").
"""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import answers, conversation, fallback
from actions.common import topic_buttons
from core import messages
from core.knowledge import get_knowledge
from core.vocabulary import ActionName, EntityName, IntentName
from tooling.nlu_files import nlu_examples, training_files

META = {"model_id": "generated", "assistant_id": "synapse-muscle-atrophy"}
# Questions outside the article, as patients ask them; the first ones come up most often.
UNANSWERABLE = [
    "how much does one physio session cost",
    "do you accept insurance or panel clinics",
    "is there parking at the clinic",
    "can physio help frozen shoulder",
    "my knee clicks when i climb stairs, is that atrophy?",
    "what should i eat after gym to build muscle",
    "do you have female physiotherapists",
    "berapa harga satu sesi fisioterapi",
    "can i bring my mother who uses a wheelchair",
    "how long is the waiting time for an appointment",
    "is collagen supplement good for muscles",
    "my back pain is getting worse at night",
    "do you do home visits in Petaling Jaya",
    "can children get physiotherapy here",
    "what creatine dose do you recommend",
    "why does my calf cramp at night",
    "can you check my MRI report",
    "muscles how",
    "asdf",
    "is massage same as physio",
]
# How patients wrap the same question: the page that groups them must see past these.
OPENINGS = ["", "", "", "hi, ", "hello doctor, ", "excuse me, ", "sorry to ask, ", "quick question: ", "doc "]
CLOSINGS = ["", "", "?", "??", " please", " thanks", " thank you", ". urgent", " tq"]
RATED_SHARE = 0.32
HELPFUL_SHARE = 0.72
# Emergencies, booking and handing over are rare but matter: the dashboard shows them.
KINDS = [
    ("topic", 0.72),
    ("fallback", 0.1),
    ("out_of_scope", 0.06),
    ("book_appointment", 0.05),
    ("contact_human", 0.03),
    ("emergency", 0.015),
    ("bot_challenge", 0.01),
    ("tell_me_more", 0.015),
]


def load_examples() -> Dict[str, List[str]]:
    """Returns the NLU training examples per intent, entity markup removed."""
    examples: Dict[str, List[str]] = {}
    for path in training_files():
        for text, intent in nlu_examples(path):
            examples.setdefault(intent, []).append(text)
    return examples


def load_actions() -> Dict[str, Action]:
    """Returns the project's actions by name."""
    found: Dict[str, Action] = {}
    for module in (answers, conversation, fallback):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                try:
                    action = cls()
                    found[action.name()] = action
                except (TypeError, NotImplementedError):
                    continue
    return found


def weighted(rng: random.Random, options: Sequence[Tuple[Any, float]]) -> Any:
    """Picks one of (value, weight)."""
    return rng.choices([value for value, _ in options], weights=[weight for _, weight in options])[0]


@dataclass
class Session:
    """One generated conversation session and its events."""

    sender_id: str
    channel: str
    started_at: float
    events: List[Event] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=lambda: {"topic": None, "language": None})
    clock: float = 0.0
    offered: List[Dict[str, Any]] = field(default_factory=list)


class Generator:
    """Plays patients against the real actions."""

    def __init__(self, seed: int) -> None:
        """Loads the examples and actions; ``seed`` makes the output reproducible."""
        self.rng = random.Random(seed)  # noqa: S311 (reproducible test data, not security)
        self.examples = load_examples()
        self.actions = load_actions()
        self.topics = list(get_knowledge().topics)
        self.rng.shuffle(self.topics)
        # Popular topics first: a Zipf-like weighting, as real questions cluster.
        self.topic_weights = [(topic, 1.0 / (rank + 1) ** 0.8) for rank, topic in enumerate(self.topics)]
        self.loop = asyncio.new_event_loop()

    def _tick(self, session: Session, seconds: float = 0.004) -> float:
        session.clock += seconds
        return session.clock

    def _ranking(self, first: str, confidence: float) -> List[Dict[str, Any]]:
        others = self.rng.sample([t for t in self.topics if t != first], 4)
        rest = 1.0 - confidence
        shares = sorted((self.rng.random() for _ in others), reverse=True)
        total = sum(shares) or 1.0
        return [{"name": first, "confidence": confidence}] + [
            {"name": name, "confidence": rest * share / total}
            for name, share in zip(others, shares, strict=True)
        ]

    def _say(
        self,
        session: Session,
        text: str,
        intent: str,
        confidence: float,
        entities: Sequence[Dict[str, Any]] = (),
    ) -> None:
        ranking = self._ranking(intent, confidence)
        if intent == "nlu_fallback":
            ranking = [ranking[0], *self._ranking(self.rng.choice(self.topics), 0.3)[:3]]
        parse_data = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": list(entities),
            "text": text,
            "message_id": uuid.uuid4().hex,
            "metadata": {},
            "intent_ranking": ranking,
        }
        session.events.append(
            UserUttered(
                text,
                intent=parse_data["intent"],
                parse_data=parse_data,  # type: ignore[arg-type]
                timestamp=self._tick(session, self.rng.uniform(4, 80)),
                input_channel=session.channel,
                message_id=parse_data["message_id"],
                metadata=META,
            )
        )
        session.events.append(
            DefinePrevUserUtteredFeaturization(False, timestamp=self._tick(session), metadata=META)
        )
        action_name = self._action_for(intent, text)
        session.events.append(
            ActionExecuted(action_name, "RulePolicy", 1.0, timestamp=self._tick(session), metadata=META)
        )
        tracker = Tracker(
            session.sender_id, dict(session.slots), parse_data, [], False, None, {}, "action_listen"
        )
        dispatcher = CollectingDispatcher()
        if action_name in self.actions:
            returned = self.loop.run_until_complete(self.actions[action_name].run(dispatcher, tracker, {}))
        else:
            returned = self._scripted(dispatcher, action_name, intent, session)
        for message in dispatcher.messages:
            data = {"elements": None, "quick_replies": None, "buttons": message.get("buttons") or None}
            data.update({"attachment": None, "image": None, "custom": None})
            session.events.append(
                BotUttered(message.get("text"), data, metadata=META, timestamp=self._tick(session, 0.001))
            )
            if message.get("buttons"):
                session.offered = list(message["buttons"])
        for event in returned:
            if event.get("event") == "slot":
                session.slots[event["name"]] = event["value"]
                session.events.append(
                    SlotSet(event["name"], event["value"], timestamp=self._tick(session), metadata=META)
                )
        session.events.append(
            ActionExecuted("action_listen", "RulePolicy", 1.0, timestamp=self._tick(session), metadata=META)
        )

    def _scripted(
        self, dispatcher: CollectingDispatcher, action_name: str, intent: str, session: Session
    ) -> List[Dict[str, Any]]:
        """The replies of the actions that reach the handoff queue, without reaching it."""
        language = session.slots.get("language") or "en"
        if action_name == ActionName.CONTACT_HUMAN:
            dispatcher.utter_message(text=messages.with_contact("handoff_unavailable", language))
        elif intent == IntentName.RATE_HELPFUL:
            dispatcher.utter_message(text=messages.text("rated_helpful", language))
        else:
            topic = get_knowledge().topic(session.slots.get("topic") or "")
            buttons = topic_buttons(topic.related if topic else [], language)
            buttons.append(
                {"title": messages.text("none_of_these", language), "payload": fallback.NONE_OF_THESE_PAYLOAD}
            )
            dispatcher.utter_message(text=messages.text("rated_not_helpful", language), buttons=buttons)
        return []

    def _action_for(self, intent: str, text: str) -> str:
        if intent in (IntentName.RATE_HELPFUL, IntentName.RATE_NOT_HELPFUL):
            return ActionName.RATE_ANSWER
        if intent == IntentName.CONTACT_HUMAN:
            return ActionName.CONTACT_HUMAN
        if intent in self.topics:
            return "action_answer_topic"
        if intent == "nlu_fallback":
            return "action_clarify"
        if intent == "deny" and text == fallback.NONE_OF_THESE_PAYLOAD:
            return "action_cannot_answer"
        return f"action_{intent}" if f"action_{intent}" in self.actions else "action_cannot_answer"

    def _typed(self, intent: str) -> str:
        return self.rng.choice(self.examples.get(intent) or [intent.replace("_", " ")])

    def _unanswerable(self) -> str:
        rng = self.rng
        text = UNANSWERABLE[min(int(rng.expovariate(0.25)), len(UNANSWERABLE) - 1)]
        return f"{rng.choice(OPENINGS)}{text}{rng.choice(CLOSINGS)}"

    def _rate(self, session: Session, helpful: bool) -> None:
        """Clicks "Helpful" or "Not helpful" under the last answer; sometimes "None of these" next."""
        topic = session.slots.get("topic")
        intent = IntentName.RATE_HELPFUL if helpful else IntentName.RATE_NOT_HELPFUL
        entity = {EntityName.RATED_TOPIC: topic}
        payload = f"/{intent}{json.dumps(entity)}"
        self._say(session, payload, intent, 1.0, [{"entity": EntityName.RATED_TOPIC, "value": topic}])
        if not helpful and self.rng.random() < 0.4:
            self._say(session, fallback.NONE_OF_THESE_PAYLOAD, "deny", 1.0)

    def _answered(self, session: Session) -> None:
        """After a quoted answer, a third of patients rate it."""
        if session.slots.get("topic") and self.rng.random() < RATED_SHARE:
            self._rate(session, self.rng.random() < HELPFUL_SHARE)

    def _click(self, session: Session) -> bool:
        choices = [button for button in session.offered if not str(button["payload"]).startswith("/rate_")]
        if not choices:
            return False
        payload = str(self.rng.choice(choices)["payload"])
        intent = payload.lstrip("/")
        self._say(session, payload, intent, 1.0)
        if intent in self.topics:
            self._answered(session)
        return True

    def session(self, sender_id: str, channel: str, started_at: float) -> Session:
        """Returns one conversation session, played out."""
        rng = self.rng
        session = Session(sender_id=sender_id, channel=channel, started_at=started_at, clock=started_at)
        session.events += [
            ActionExecuted("action_session_start", None, 1.0, timestamp=self._tick(session), metadata=META),
            SessionStarted(timestamp=self._tick(session), metadata=META),
            ActionExecuted("action_listen", None, None, timestamp=self._tick(session), metadata=META),
        ]
        if rng.random() < 0.4:
            self._say(session, self._typed("greet"), "greet", rng.uniform(0.85, 0.99))
        for _ in range(weighted(rng, [(1, 0.35), (2, 0.3), (3, 0.18), (4, 0.1), (5, 0.07)])):
            kind = weighted(rng, KINDS)
            if kind == "topic":
                if rng.random() < 0.3 and self._click(session):
                    continue
                topic = weighted(rng, self.topic_weights)
                confidence = rng.uniform(0.5, 0.62) if rng.random() < 0.07 else rng.betavariate(9, 1.2)
                self._say(session, self._typed(topic), topic, max(confidence, 0.5))
                self._answered(session)
            elif kind == "fallback":
                self._say(session, self._unanswerable(), "nlu_fallback", rng.uniform(0.2, 0.49))
                choice = rng.random()
                if choice < 0.45:
                    self._click(session)
                elif choice < 0.8:
                    self._say(session, fallback.NONE_OF_THESE_PAYLOAD, "deny", 1.0)
            else:
                self._say(session, self._typed(kind), kind, rng.uniform(0.7, 0.99))
        ending = rng.random()
        if ending < 0.35:
            self._say(session, self._typed("thank"), "thank", rng.uniform(0.8, 0.99))
        elif ending < 0.5:
            self._say(session, self._typed("goodbye"), "goodbye", rng.uniform(0.8, 0.99))
        return session
