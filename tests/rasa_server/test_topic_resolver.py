"""What is asked combined with what is named: the vocabulary and the resolver component."""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List

import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.knowledge import KnowledgeBase
from rasa_server.fallback import EmergencyAwareFallbackClassifier
from rasa_server.topic_resolver import DEFAULT_VOCABULARY, TopicResolver, Vocabulary, load_vocabulary, resolve

CATEGORIES = (
    "disuse_atrophy",
    "neurogenic_atrophy",
    "inflammatory_conditions",
    "nutritional_deficiency",
    "endocrine_disorders",
    "chronic_diseases",
)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return load_vocabulary()


def ranked(*names: str) -> List[Dict[str, Any]]:
    return [{"name": name, "confidence": round(0.9 - 0.1 * index, 2)} for index, name in enumerate(names)]


def test_the_vocabulary_has_200_terms_in_english_and_malay_for_every_category(
    knowledge: KnowledgeBase,
) -> None:
    data = yaml.safe_load(DEFAULT_VOCABULARY.read_text(encoding="utf-8"))
    assert set(data["categories"]) == set(CATEGORIES)
    assert all(
        set(languages) == {"en", "ms"} and all(languages.values())
        for languages in data["categories"].values()
    )
    terms = [
        term for languages in data["categories"].values() for group in languages.values() for term in group
    ]
    assert len(terms) >= 200
    assert set(data["types"]) <= set(knowledge.topics)


def test_no_term_is_listed_under_two_topics() -> None:
    data = yaml.safe_load(DEFAULT_VOCABULARY.read_text(encoding="utf-8"))
    owners: Dict[str, set] = {}
    for topic, languages in data["categories"].items():
        for group in languages.values():
            for term in group:
                owners.setdefault(term.lower(), set()).add(topic)
    for topic, group in data["types"].items():
        for term in group:
            owners.setdefault(term.lower(), set()).add(topic)
    assert {term: topics for term, topics in owners.items() if len(topics) > 1} == {}
    counts = Counter(
        term.lower() for languages in data["categories"].values() for g in languages.values() for term in g
    )
    assert [term for term, count in counts.items() if count > 1] == []


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("can a slipped disc make my calf shrink?", "neurogenic_atrophy"),
        ("my mum had a stroke last year, is that why her arm is so thin", "neurogenic_atrophy"),
        ("does prednisone cause muscle wasting", "chronic_diseases"),
        ("after 6 weeks in a plaster cast my thigh is tiny, why", "disuse_atrophy"),
        ("could my overactive thyroid be eating my muscles", "endocrine_disorders"),
        ("is lupus the reason my legs got weak and thin", "inflammatory_conditions"),
        ("been on a crash diet, can that waste muscle?", "nutritional_deficiency"),
        ("apa itu sarkopenia", "pathologic_atrophy"),
        ("boleh ke saraf terkepit buat otot kaki mengecil", "neurogenic_atrophy"),
        ("kanser boleh sebabkan otot susut ke", "chronic_diseases"),
    ],
)
def test_a_cause_question_that_names_a_condition_gets_its_category(
    vocabulary: Vocabulary, text: str, topic: str
) -> None:
    ranking = resolve(text, ranked("atrophy_causes", "muscle_atrophy_overview"), vocabulary)
    assert ranking is not None and ranking[0] == {"name": topic, "confidence": 0.9}


def test_what_is_asked_wins_over_what_is_named(vocabulary: Vocabulary) -> None:
    text = "will my leg come back after the cast comes off?"
    assert resolve(text, ranked("reversibility", "disuse_atrophy"), vocabulary) is None


def test_among_several_named_causes_the_classifiers_favourite_answers(vocabulary: Vocabulary) -> None:
    text = "after my stroke I was on bed rest for three months, why is my leg so thin"
    ranking = resolve(text, ranked("atrophy_causes", "disuse_atrophy", "neurogenic_atrophy"), vocabulary)
    assert ranking is not None and ranking[0]["name"] == "disuse_atrophy"


def test_a_cause_question_naming_nothing_is_left_alone(vocabulary: Vocabulary) -> None:
    assert resolve("why do muscles waste away", ranked("atrophy_causes"), vocabulary) is None


def test_muscle_loss_is_never_out_of_scope_at_full_confidence(vocabulary: Vocabulary) -> None:
    text = "I broke my wrist in March and now my forearm muscle wasting is obvious, what do I do"
    ranking = resolve(text, ranked("out_of_scope", "physical_therapy", "disuse_atrophy"), vocabulary)
    assert ranking is not None
    assert [item["name"] for item in ranking] == ["physical_therapy", "disuse_atrophy", "out_of_scope"]
    assert {item["confidence"] for item in ranking} == {0.0}


def test_a_demoted_out_of_scope_leaves_an_emergency_under_the_bar_behind(vocabulary: Vocabulary) -> None:
    # The fallback never takes a best guess of emergency: a calm story ranked out of scope,
    # then emergency (under the bar; here none is set), gets the clarifying question.
    text = "my thumb muscle twitches when my hand is relaxed, no loss of strength, should I see a doctor?"
    ranking = resolve(text, ranked("out_of_scope", "emergency", "atrophy_symptoms"), vocabulary)
    assert ranking is not None
    assert [item["name"] for item in ranking] == ["atrophy_symptoms", "emergency", "out_of_scope"]
    fallback = EmergencyAwareFallbackClassifier({"threshold": 0.5, "ambiguity_threshold": 0.2})
    message = Message(data={TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking})
    fallback.process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"


def test_a_likely_emergency_under_a_demoted_out_of_scope_comes_first(vocabulary: Vocabulary) -> None:
    # At or above the bar (config.yml sets it), an emergency runner-up gets the way to urgent care.
    text = "since last night everything below my neck is numb and weak and it is getting worse"
    ranking = ranked("out_of_scope", "emergency", "atrophy_symptoms")
    below = resolve(text, ranking, vocabulary, urgent_runner_up=0.81)
    assert below is not None and below[0]["name"] == "atrophy_symptoms"
    at_bar = resolve(text, ranking, vocabulary, urgent_runner_up=0.8)
    assert at_bar is not None
    assert at_bar[0] == {"name": "emergency", "confidence": 0.8}
    assert [item["name"] for item in at_bar] == ["emergency", "atrophy_symptoms", "out_of_scope"]
    assert [item["confidence"] for item in at_bar[1:]] == [0.0, 0.0]
    fallback = EmergencyAwareFallbackClassifier({"threshold": 0.9, "ambiguity_threshold": 0.2})
    message = Message(data={TEXT: text, INTENT: at_bar[0], INTENT_RANKING_KEY: at_bar})
    fallback.process([message])
    assert message.get(INTENT)["name"] == "emergency"


def test_the_component_applies_its_bar_for_the_emergency_runner_up() -> None:
    text = "my legs went numb and weak this morning and now my arms too"
    ranking = ranked("out_of_scope", "emergency", "neurogenic_atrophy")
    for bar, expected in ((0.8, "emergency"), (None, "neurogenic_atrophy")):
        message = Message(data={TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking})
        TopicResolver(load_vocabulary(), urgent_runner_up=bar).process([message])
        assert message.get(INTENT)["name"] == expected


def test_out_of_scope_without_muscle_loss_stays(vocabulary: Vocabulary) -> None:
    assert (
        resolve("what is the price of a knee brace", ranked("out_of_scope", "disuse_atrophy"), vocabulary)
        is None
    )


def test_words_match_whole_words_only(vocabulary: Vocabulary) -> None:
    assert vocabulary.named_topics("my castle is nerveless") == []
    assert vocabulary.named_topics("paralysed since the accident") == ["neurogenic_atrophy"]


def test_the_component_rewrites_intent_and_ranking() -> None:
    component = TopicResolver(load_vocabulary())
    message = Message(
        data={
            TEXT: "can sciatica cause my calf to shrink",
            INTENT: {"name": "atrophy_causes", "confidence": 0.8},
            INTENT_RANKING_KEY: [{"name": "atrophy_causes", "confidence": 0.8}],
        }
    )
    component.process([message])
    assert message.get(INTENT) == {"name": "neurogenic_atrophy", "confidence": 0.8}
    assert [item["name"] for item in message.get(INTENT_RANKING_KEY)] == [
        "neurogenic_atrophy",
        "atrophy_causes",
    ]
