"""Every name the code shares about a conversation exists where Rasa and the console keep it."""

from __future__ import annotations

from typing import Any, Dict

import pytest
import yaml
from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

from console.schema import conversations, messages
from console.template_helpers import FLAG_LABELS
from core.settings import PROJECT_ROOT
from core.vocabulary import (
    FALLBACK_ACTIONS,
    FLAG_OF_INTENT,
    FLAGS,
    SMALL_TALK,
    ActionName,
    IntentName,
    SlotName,
    names,
)


@pytest.fixture(scope="module")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_every_intent_named_in_code_is_in_the_domain(domain: Dict[str, Any]) -> None:
    assert names(IntentName) - {IntentName.NLU_FALLBACK} <= set(domain["intents"])
    assert SMALL_TALK | set(FLAG_OF_INTENT) <= names(IntentName)


def test_every_action_named_in_code_is_in_the_domain_or_rasas_own(domain: Dict[str, Any]) -> None:
    assert names(ActionName) <= set(domain["actions"]) | set(DEFAULT_ACTION_NAMES)
    assert set(domain["actions"]) >= FALLBACK_ACTIONS


def test_every_slot_named_in_code_is_in_the_domain(domain: Dict[str, Any]) -> None:
    assert names(SlotName) == set(domain["slots"])


def test_every_flag_is_a_column_with_a_label() -> None:
    assert set(FLAGS) <= set(conversations.c.keys())
    assert set(FLAG_OF_INTENT.values()) <= set(FLAGS)
    assert set(FLAG_LABELS) == set(FLAGS)
    assert {"fallback", "low_confidence"} <= set(messages.c.keys())
