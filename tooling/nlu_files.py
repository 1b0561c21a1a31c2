"""Reading Rasa NLU files: the one loader that evaluation, benchmarks, generators and tests share."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    """Returns the (text, intent) pairs of a Rasa NLU YAML file, entity markup removed, as Rasa reads them."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(message.get("text"), message.get("intent")) for message in data.intent_examples]
