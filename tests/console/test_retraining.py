"""The NLU export: a patient's words come out as plain examples, never as entity markup."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from console.retraining import example_line


@pytest.mark.parametrize(
    "text",
    [
        'my [calf]{"entity": "condition", "value": "cancer"} is thin',
        "my [leg](condition) shrank",
        'both [arms][{"entity": "condition"}, {"entity": "treatment"}] are weak',
        "[a][b](c){d}",
        "my [phone] is hidden",
    ],
)
def test_patient_text_never_becomes_an_entity_annotation(text: str) -> None:
    document = f'version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n    - {example_line(text)}\n'
    (example,) = RasaYAMLReader().reads(document).intent_examples
    assert example.get("entities") in (None, [])
    assert example.get("text").replace(" ", "") == text.replace(" ", "")


def test_a_message_over_several_lines_is_one_example() -> None:
    assert example_line("my leg\n  is   weak") == "my leg is weak"
