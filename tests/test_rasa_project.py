"""The Rasa project as Rasa sees it: data validation and dialogue test stories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from core.knowledge import KnowledgeBase
from core.settings import PROJECT_ROOT, child_environment
from tooling.launcher import BIN_DIR

CONVERSATION_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge",
    "out_of_scope", "book_appointment", "contact_human", "emergency",
}  # fmt: skip


def rasa(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN_DIR / "rasa"), *arguments],
        cwd=PROJECT_ROOT,
        env=child_environment(TF_CPP_MIN_LOG_LEVEL="3"),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_domain_has_every_topic_and_conversation_intent(knowledge: KnowledgeBase) -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    assert set(knowledge.topics) | CONVERSATION_INTENTS <= set(domain["intents"])


def test_every_topic_intent_is_answered_by_a_rule(knowledge: KnowledgeBase) -> None:
    rules = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text())["rules"]
    answered = {
        rule["steps"][0]["intent"]
        for rule in rules
        if len(rule["steps"]) == 2 and rule["steps"][1] == {"action": "action_answer_topic"}
    }
    assert answered == set(knowledge.topics)


@pytest.mark.model
def test_rasa_data_validate_is_clean_with_warnings_as_errors() -> None:
    result = rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.model
def test_dialogue_test_stories_pass(tmp_path: Path) -> None:
    result = rasa(
        "test", "core", "--stories", "tests/test_stories.yml", "--fail-on-prediction-errors",
        "--model", "models/current.tar.gz", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "None of the test stories failed" in (tmp_path / "failed_test_stories.yml").read_text()
