"""The real-question corpus: provenance of every item, the page split, and no leak into training."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from core.settings import PROJECT_ROOT
from scripts.real_corpus import (
    CorpusFileError,
    Item,
    add,
    add_paraphrases,
    judge_paraphrases,
    known_labels,
    load_corpus,
    normalise,
    page_split,
    place,
    read_paraphrase_file,
    validate,
)
from tooling.nlu_files import EVALUATION_SETS, HELD_OUT_SPLITS, SPLIT_FILES, nlu_examples, training_files

TRAINING_FILES = training_files()
# The test split is frozen: this digest changes only with a deliberate new data round
# (docs/nlu.md: the history table records every round's figures).
FROZEN_TEST_SPLIT = PROJECT_ROOT / "tests" / "nlu_real" / "test.sha256"


@pytest.fixture(scope="module")
def corpus() -> Dict[str, List[Item]]:
    return load_corpus()


@pytest.fixture(scope="module")
def intents() -> List[str]:
    return known_labels()


@pytest.fixture
def empty_splits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dict[str, Path]:
    """The corpus's split files, pointed at a temporary folder where none exists yet."""
    files = {name: tmp_path / f"{name}.yml" for name in SPLIT_FILES}
    monkeypatch.setattr("scripts.real_corpus.SPLIT_FILES", files)
    return files


def test_every_item_has_a_source_address_a_kind_a_language_and_known_labels(
    corpus: Dict[str, List[Item]], intents: List[str]
) -> None:
    problems = [(item.text[:60], validate(item, intents)) for items in corpus.values() for item in items]
    assert [problem for problem in problems if problem[1]] == []


def test_the_corpus_is_as_large_and_as_real_as_the_issue_asks(corpus: Dict[str, List[Item]]) -> None:
    every = [item for items in corpus.values() for item in items]
    assert len(every) >= 600
    assert len(corpus["test"]) >= 150
    assert sum(item.kind == "user_post" for item in every) / len(every) >= 0.40
    assert Counter(item.lang for item in every)["ms"] + Counter(item.lang for item in every)["mixed"] >= 30


def test_no_page_feeds_two_splits(corpus: Dict[str, List[Item]]) -> None:
    pages = {name: {item.url for item in items} for name, items in corpus.items()}
    assert pages["train"] & pages["dev"] == set()
    assert pages["train"] & pages["test"] == set()
    assert pages["dev"] & pages["test"] == set()


def test_no_held_out_text_or_page_is_in_any_training_file(corpus: Dict[str, List[Item]]) -> None:
    trained_texts = {normalise(text) for path in TRAINING_FILES for text, _ in nlu_examples(path)}
    trained_pages = {
        str((example.get("metadata") or {}).get("url"))
        for path in TRAINING_FILES
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or [])
        for example in (block.get("examples") if isinstance(block.get("examples"), list) else [])
    }
    for split in HELD_OUT_SPLITS:
        assert [item.text for item in corpus[split] if normalise(item.text) in trained_texts] == []
        assert {item.url for item in corpus[split]} & trained_pages == set()


def test_the_test_split_is_frozen() -> None:
    digest = hashlib.sha256(SPLIT_FILES["test"].read_bytes()).hexdigest()
    assert FROZEN_TEST_SPLIT.read_text().split()[0] == digest


def test_adding_items_keeps_each_pages_split_and_refuses_bad_ones(
    tmp_path: Path, empty_splits: Dict[str, Path], intents: List[str]
) -> None:
    files = empty_splits
    new = tmp_path / "new.yml"
    entries = [
        {"text": f"will my calf come back {n}", "intent": "reversibility", "url": f"https://forum.example/t/{n}",
         "kind": "user_post", "lang": "en"}
        for n in range(40)
    ]  # fmt: skip
    entries.append({**entries[0], "text": "Will my calf come back 0?!"})  # same text, other punctuation
    entries.append({**entries[1], "text": "from the clinic", "url": "https://synapse.com.my/x"})
    entries.append({**entries[2], "text": "no such label", "intent": "weather"})
    pages = (f"https://forum.example/p/{n}" for n in range(99))
    training_page = next(url for url in pages if page_split(url) == "train")
    written_text, written_intent = nlu_examples(EVALUATION_SETS["eval"]["en"])[0]
    entries.append({**entries[3], "text": written_text, "intent": written_intent, "url": training_page})
    new.write_text(yaml.safe_dump(entries))

    _, verdicts = place([new], intents)
    assert not any(path.exists() for path in files.values()), "checking writes nothing"
    outcome = add([new], intents)

    assert Counter(verdict for _, verdict in verdicts) == outcome
    assert [item.text for item, verdict in verdicts if verdict.startswith("refused")] == [
        "Will my calf come back 0?!", "from the clinic", "no such label", written_text,
    ]  # fmt: skip
    assert outcome["refused: duplicate text"] == 1
    assert outcome["refused: text of a set never trained on"] == 1
    assert sum(count for reason, count in outcome.items() if reason.startswith("refused")) == 4
    corpus = load_corpus()
    assert sum(len(items) for items in corpus.values()) == 40
    assert all(page_split(item.url) == name for name, items in corpus.items() for item in items)
    assert {name for name, items in corpus.items() if items} == {"train", "dev", "test"}


def test_adding_paraphrases_refuses_every_held_out_text_and_keeps_the_file_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, intents: List[str], corpus: Dict[str, List[Item]]
) -> None:
    paraphrases = tmp_path / "real_paraphrases.yml"
    paraphrases.write_text(
        "# Paraphrases, kept header.\nversion: '3.1'\nnlu:\n- intent: reversibility\n  examples: |\n"
        "    - will my thigh ever fill out again after the cast\n"
    )
    monkeypatch.setattr("scripts.real_corpus.PARAPHRASE_FILE", paraphrases)
    written_dev, written_intent = nlu_examples(EVALUATION_SETS["dev"]["en"])[0]
    held_out = {split: corpus[split][0] for split in HELD_OUT_SPLITS}
    new = tmp_path / "new.yml"
    new.write_text(yaml.safe_dump([
        {"intent": written_intent, "text": f"  {written_dev.upper()}!! "},
        *({"intent": item.intent, "text": item.text} for item in held_out.values()),
        {"intent": corpus["train"][0].intent, "text": corpus["train"][0].text},
        {"intent": "reversibility", "text": "Will my thigh ever fill out again after the cast?"},
        {"intent": "weather", "text": "will it rain on my physio day"},
        {"intent": "reversibility", "text": "   "},
        "just a sentence",
        {"intent": "recovery_time", "text": "how many weeks till my   calf is back after the boot"},
    ]))  # fmt: skip

    before = paraphrases.read_text()
    _, judged = judge_paraphrases([new], intents)
    assert paraphrases.read_text() == before, "checking writes nothing"
    outcome = add_paraphrases([new], intents)

    assert Counter(verdict for _, _, verdict in judged) == outcome
    assert [text for _, text, verdict in judged if verdict == "added"] == [
        "how many weeks till my calf is back after the boot"
    ]
    assert outcome["refused: text of a set never trained on"] == 1 + len(HELD_OUT_SPLITS)
    assert outcome["refused: already trained on"] == 2
    assert outcome["added"] == 1
    assert sum(outcome.values()) == 9
    header, texts = read_paraphrase_file(paraphrases)
    assert header == ["# Paraphrases, kept header."]
    assert sorted(nlu_examples(paraphrases)) == [
        ("how many weeks till my calf is back after the boot", "recovery_time"),
        ("will my thigh ever fill out again after the cast", "reversibility"),
    ]


def test_a_malformed_entry_is_refused_by_name_and_a_malformed_file_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_splits: Dict[str, Path], intents: List[str]
) -> None:
    files = empty_splits
    paraphrases = tmp_path / "real_paraphrases.yml"
    paraphrases.write_text("version: '3.1'\nnlu: []\n")
    monkeypatch.setattr("scripts.real_corpus.PARAPHRASE_FILE", paraphrases)
    good = {"text": "will my calf come back", "intent": "reversibility", "url": "https://forum.example/t/1",
            "kind": "user_post", "lang": "en"}  # fmt: skip
    new = tmp_path / "new.yml"
    new.write_text(yaml.safe_dump([good, {**good, "text": "no address", "url": None}, "just a sentence"]))

    verdicts = [verdict for _, verdict in place([new], intents)[1]]

    assert verdicts[0] in SPLIT_FILES
    assert verdicts[1] == "refused: missing url"
    assert verdicts[2] == "refused: missing intent, url, kind, lang"

    for body in ("- text: [unclosed", "text: not a list"):
        new.write_text(body)
        with pytest.raises(CorpusFileError, match="new.yml"):
            add([new], intents)
        with pytest.raises(CorpusFileError, match="new.yml"):
            add_paraphrases([new], intents)
    assert not any(path.exists() for path in files.values())
    assert paraphrases.read_text() == "version: '3.1'\nnlu: []\n"


def test_the_command_line_names_a_malformed_file_without_a_traceback(tmp_path: Path) -> None:
    new = tmp_path / "new.yml"
    new.write_text("text: not a list")

    run = subprocess.run(
        [sys.executable, "-m", "scripts.real_corpus", "check", str(new)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert run.returncode == 2
    assert "new.yml: expected a YAML list, found dict" in run.stderr
    assert "Traceback" not in run.stderr
