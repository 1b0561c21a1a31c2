"""The learning curve's training data: whole pages, the asked share, files Rasa reads."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from scripts.learning_curve import page_fraction, paraphrase_fraction, write_training_data
from scripts.real_corpus import Item, load_split
from tooling.nlu_files import DATA_DIR, PARAPHRASE_FILE, SPLIT_FILES, nlu_examples


def _items(pages: int, per_page: int) -> list[Item]:
    return [
        Item(text=f"question {page}.{number}", intent="atrophy_causes", url=f"https://forum.example/{page}",
             kind="user_post", lang="en")
        for page in range(pages)
        for number in range(per_page)
    ]  # fmt: skip


def test_a_share_of_pages_keeps_each_page_whole_and_is_drawn_the_same_way_each_time() -> None:
    items = _items(pages=40, per_page=3)

    kept = page_fraction(items, 0.25, random.Random(7))

    pages = {item.url for item in kept}
    assert len(pages) == 10
    assert len(kept) == 30
    assert kept == page_fraction(items, 0.25, random.Random(7))
    assert {item.url for item in page_fraction(items, 0.25, random.Random(8))} != pages
    assert page_fraction(items, 0.0, random.Random(7)) == []
    assert page_fraction(items, 1.0, random.Random(7)) == items


def test_a_share_of_paraphrases_is_about_that_share_of_each_intent() -> None:
    texts = {"prevention": [f"p{n}" for n in range(400)], "surgery": [f"s{n}" for n in range(400)]}

    kept = paraphrase_fraction(texts, 0.5, random.Random(29))

    assert set(kept) == {"prevention", "surgery"}
    for intent, group in kept.items():
        assert 160 < len(group) < 240
        assert set(group) <= set(texts[intent])
    assert paraphrase_fraction(texts, 0.0, random.Random(29)) == {}


def test_the_whole_share_trains_on_exactly_the_shipped_real_data(tmp_path: Path) -> None:
    counts = write_training_data(tmp_path / "all", 1.0, seed=29)

    for shipped in (SPLIT_FILES["train"], PARAPHRASE_FILE):
        written = tmp_path / "all" / shipped.relative_to(DATA_DIR)
        assert nlu_examples(written) == nlu_examples(shipped)
    assert counts["items"] == len(load_split(SPLIT_FILES["train"]))


def test_a_quarter_keeps_a_quarter_of_the_training_pages_and_the_other_data(tmp_path: Path) -> None:
    training_pages = {item.url for item in load_split(SPLIT_FILES["train"])}

    counts = write_training_data(tmp_path / "quarter", 0.25, seed=29)

    questions = tmp_path / "quarter" / SPLIT_FILES["train"].relative_to(DATA_DIR)
    kept = load_split(questions)
    assert {item.url for item in kept} <= training_pages
    assert counts["pages"] == round(0.25 * len(training_pages))
    assert len(nlu_examples(questions)) == counts["items"] == len(kept)
    paraphrases = tmp_path / "quarter" / PARAPHRASE_FILE.relative_to(DATA_DIR)
    assert len(nlu_examples(paraphrases)) == counts["paraphrases"]
    for other in DATA_DIR.rglob("*.yml"):
        if other not in (SPLIT_FILES["train"], PARAPHRASE_FILE):
            assert (tmp_path / "quarter" / other.relative_to(DATA_DIR)).read_bytes() == other.read_bytes()


def test_no_share_leaves_out_both_real_files_and_keeps_the_written_data(tmp_path: Path) -> None:
    counts = write_training_data(tmp_path / "none", 0.0, seed=29)

    assert counts == {"pages": 0, "items": 0, "paraphrases": 0}
    assert not (tmp_path / "none" / SPLIT_FILES["train"].relative_to(DATA_DIR)).exists()
    assert not (tmp_path / "none" / PARAPHRASE_FILE.relative_to(DATA_DIR)).exists()
    assert nlu_examples(tmp_path / "none" / "nlu" / "topics.yml")


@pytest.mark.parametrize("bad", ["1.5", "-0.1", "half"])
def test_a_share_outside_nothing_to_all_is_refused_without_a_traceback(bad: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "scripts.learning_curve", "0.5", bad],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert run.returncode == 2
    assert bad in run.stderr
    assert "Traceback" not in run.stderr
