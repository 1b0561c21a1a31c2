"""The corpus of real patients' questions: each item reworded from one question on one page.

Items live in three Rasa NLU files with each example's provenance as metadata (``url``,
``kind``, ``lang``, and ``alt_labels`` where two labels are equally right):

- ``data/nlu/real_questions.yml``: the training split;
- ``tests/nlu_real/dev.yml``: the development split (never trained on; errors read);
- ``tests/nlu_real/test.yml``: the frozen test split (never trained on; errors never read
  while writing data; scored once per data round).

The split is by source page, so no page feeds both training and a held-out split. A page
already in the corpus keeps its split; a new page's split comes from a hash of its address.
``check`` says where each item of a file of new items would go, or why it would be refused,
and writes nothing; ``add`` brings the file in (docs/nlu.md describes the form);
``check-paraphrases`` and ``add-paraphrases`` do the same for paraphrases of training items,
refusing any text of a set never trained on; ``counts`` prints the provenance counts.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Set, Tuple

import yaml

from core.settings import PROJECT_ROOT
from tooling.nlu_files import PARAPHRASE_FILE, SPLIT_FILES, held_out_files, nlu_examples, training_files

KINDS = ("user_post", "faq_heading", "title")
# What every new item must have (``alt_labels`` is optional).
ITEM_FIELDS = ("text", "intent", "url", "kind", "lang")
LANGUAGES = ("en", "ms", "mixed")
# Share of new pages per split, by the first byte of the address's hash.
TEST_SHARE, DEV_SHARE = 0.30, 0.20
BANNED_SITES = ("synapse.com.my",)
# ``counts`` lists only the most used sites: the corpus draws on well over a thousand.
MOST_USED_SITES = 20
# The commands that take files of new entries, and what each does.
FILE_COMMANDS = {
    "check": "where new items would go, or why refused; writes nothing",
    "add": "add new items (YAML lists) to the corpus",
    "check-paraphrases": "which paraphrases would be added, or why refused; writes nothing",
    "add-paraphrases": "add paraphrases of training items (YAML lists of intent and text)",
}
HEADER = {
    "train": "Real patients' questions, training split: each reworded from one question on its page.",
    "dev": "Real patients' questions, development split (never trained on): scripts/real_corpus.py.",
    "test": "Real patients' questions, FROZEN test split: never trained on, errors never read (docs/nlu.md).",
}


class CorpusFileError(ValueError):
    """A file of new items that cannot be read at all (not YAML, or not a list)."""


@dataclass(frozen=True)
class Item:
    """One reworded real question and where it comes from."""

    text: str
    intent: str
    url: str
    kind: str
    lang: str
    alt_labels: Tuple[str, ...] = field(default=())

    @property
    def labels(self) -> Tuple[str, ...]:
        """The intent and its equally right alternatives."""
        return (self.intent, *self.alt_labels)


def normalise(text: str) -> str:
    """Lower case, punctuation and whitespace folded: "What is it?!" == "what is it"."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", text.lower()).split())


def page_split(url: str) -> str:
    """The split a new page goes to, stable for its address."""
    share = hashlib.sha256(url.strip().encode("utf-8")).digest()[0] / 256
    if share < TEST_SHARE:
        return "test"
    return "dev" if share < TEST_SHARE + DEV_SHARE else "train"


def known_labels() -> List[str]:
    """The labels an item may carry: the domain's intents, every topic among them."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [str(name) for name in domain["intents"]]


def validate(item: Item, intents: Iterable[str]) -> List[str]:
    """Returns what is wrong with ``item`` (nothing when it is fit for the corpus)."""
    known = set(intents)
    missing = [name for name in ITEM_FIELDS if not getattr(item, name).strip()]
    if missing:
        return [f"missing {', '.join(missing)}"]
    problems = []
    if not re.match(r"https?://", item.url) or any(site in item.url for site in BANNED_SITES):
        problems.append(f"bad source address {item.url!r}")
    if item.kind not in KINDS:
        problems.append(f"kind {item.kind!r}")
    if item.lang not in LANGUAGES:
        problems.append(f"lang {item.lang!r}")
    problems += [f"unknown label {label!r}" for label in item.labels if label not in known]
    return problems


def load_split(path: Path) -> List[Item]:
    """Reads one split file."""
    if not path.exists():
        return []
    items = []
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        for example in block.get("examples") or []:
            metadata = example.get("metadata") or {}
            items.append(
                Item(
                    text=str(example["text"]).strip(),
                    intent=str(block["intent"]),
                    url=str(metadata.get("url", "")),
                    kind=str(metadata.get("kind", "")),
                    lang=str(metadata.get("lang", "")),
                    alt_labels=tuple(metadata.get("alt_labels") or ()),
                )
            )
    return items


def load_corpus() -> Dict[str, List[Item]]:
    """Reads every split."""
    return {name: load_split(path) for name, path in SPLIT_FILES.items()}


def _example(item: Item) -> Dict[str, Any]:
    metadata: Dict[str, Any] = {"url": item.url, "kind": item.kind, "lang": item.lang}
    if item.alt_labels:
        metadata["alt_labels"] = list(item.alt_labels)
    return {"text": item.text, "metadata": metadata}


def write_split(name: str, items: Sequence[Item]) -> None:
    """Writes one split of the corpus in place."""
    write_items(SPLIT_FILES[name], name, items)


def write_items(path: Path, name: str, items: Sequence[Item]) -> None:
    """Writes split ``name``'s items to ``path`` as Rasa NLU YAML: by intent, provenance as metadata."""
    by_intent: Dict[str, List[Item]] = {}
    for item in sorted(items, key=lambda item: (item.intent, item.url, item.text)):
        by_intent.setdefault(item.intent, []).append(item)
    document = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": [_example(item) for item in group]}
            for intent, group in by_intent.items()
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(f"# {HEADER[name]}\n{body}", encoding="utf-8")


def read_entries(path: Path) -> List[Any]:
    """Reads a file of new entries (items or paraphrases): a YAML list.

    Raises:
        CorpusFileError: the file is not YAML, or not a list.

    """
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as error:
        raise CorpusFileError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(entries, list):
        raise CorpusFileError(f"{path}: expected a YAML list, found {type(entries).__name__}")
    return entries


def read_new_items(path: Path) -> List[Item]:
    """Reads a file of new items: a YAML list of text, intent, alt_labels, url, kind, lang.

    An entry that lacks a field (or is not a mapping at all) is read with that field empty,
    so that ``validate`` refuses it by name instead of the whole file failing on it.
    """
    items = []
    for entry in read_entries(path):
        fields = entry if isinstance(entry, dict) else {"text": entry}
        intent = str(fields.get("intent") or "")
        items.append(
            Item(
                text=" ".join(str(fields.get("text") or "").split()),
                intent=intent,
                url=str(fields.get("url") or "").strip(),
                kind=str(fields.get("kind") or ""),
                lang=str(fields.get("lang") or ""),
                alt_labels=tuple(str(label) for label in fields.get("alt_labels") or () if label != intent),
            )
        )
    return items


def normalised_texts(paths: Iterable[Path]) -> Set[str]:
    """Every text of the NLU files ``paths``, normalised."""
    return {normalise(text) for path in paths for text, _ in nlu_examples(path)}


def held_out_texts() -> Set[str]:
    """Every text of a set never trained on (the written sets and the real held-out splits), normalised."""
    return normalised_texts(held_out_files())


def place(
    paths: Sequence[Path], intents: Iterable[str]
) -> Tuple[Dict[str, List[Item]], List[Tuple[Item, str]]]:
    """Decides where each new item of ``paths`` goes, writing nothing.

    Returns the corpus with the accepted items added, and each new item with its verdict: the
    split its page belongs to (a page already in the corpus keeps its split), or why it is
    refused.
    """
    corpus = load_corpus()
    split_of_page = {item.url: name for name, items in corpus.items() for item in items}
    seen = {normalise(item.text) for items in corpus.values() for item in items}
    held_out = held_out_texts()
    verdicts: List[Tuple[Item, str]] = []
    known = list(intents)
    for path in paths:
        for item in read_new_items(path):
            problems = validate(item, known)
            split = split_of_page.get(item.url, page_split(item.url))
            if problems:
                verdict = f"refused: {problems[0]}"
            elif normalise(item.text) in seen:
                verdict = "refused: duplicate text"
            elif split == "train" and normalise(item.text) in held_out:
                verdict = "refused: text of a set never trained on"
            else:
                verdict = split
                seen.add(normalise(item.text))
                split_of_page[item.url] = split
                corpus[split].append(item)
            verdicts.append((item, verdict))
    return corpus, verdicts


def add(paths: Sequence[Path], intents: Iterable[str]) -> Counter[str]:
    """Adds new items to the corpus: pages keep their split, duplicates are dropped.

    Returns how many items went where (and how many were refused, by reason).
    """
    corpus, verdicts = place(paths, intents)
    for name, items in corpus.items():
        write_split(name, items)
    return Counter(verdict for _, verdict in verdicts)


def read_paraphrase_file(path: Path) -> Tuple[List[str], Dict[str, List[str]]]:
    """Reads the paraphrase file as written: its header comment lines and its texts per intent."""
    text = path.read_text(encoding="utf-8")
    header = list(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines()))
    blocks = (yaml.safe_load(text) or {}).get("nlu") or []
    texts = {
        str(block["intent"]): [
            line.strip()[2:] for line in str(block["examples"]).splitlines() if line.strip()
        ]
        for block in blocks
    }
    return header, texts


def write_paraphrase_file(path: Path, header: Sequence[str], texts: Mapping[str, Sequence[str]]) -> None:
    """Writes the paraphrase file: the header, then each intent's texts sorted, as Rasa's block lists."""
    body = ["version: '3.1'", "nlu:"]
    for intent in sorted(texts):
        body += [f"- intent: {intent}", "  examples: |"]
        body += [f"    - {text}" for text in sorted(texts[intent])]
    path.write_text("\n".join([*header, *body]) + "\n", encoding="utf-8")


def judge_paraphrases(
    paths: Sequence[Path], intents: Iterable[str]
) -> Tuple[Dict[str, List[str]], List[Tuple[str, str, str]]]:
    """Decides which paraphrases of training items (YAML lists of intent and text) to accept, writing nothing.

    Refuses an unknown label, an empty text, a text already trained on and, above all, a text of
    any set never trained on (the written sets and the real corpus's held-out splits), all
    compared normalised. Returns the paraphrase file's texts per intent with the accepted ones
    added, and each entry's intent, text and verdict (``added`` or why it is refused).
    """
    known = set(intents)
    held_out = held_out_texts()
    trained = normalised_texts(training_files())
    _, texts = read_paraphrase_file(PARAPHRASE_FILE)
    trained |= {normalise(text) for group in texts.values() for text in group}
    verdicts: List[Tuple[str, str, str]] = []
    for path in paths:
        for entry in read_entries(path):
            if not isinstance(entry, dict):
                verdicts.append(("", str(entry), "refused: not an intent and a text"))
                continue
            text, intent = " ".join(str(entry.get("text", "")).split()), str(entry.get("intent", ""))
            key = normalise(text)
            if not key:
                verdict = "refused: empty text"
            elif intent not in known:
                verdict = f"refused: unknown label {intent!r}"
            elif key in held_out:
                verdict = "refused: text of a set never trained on"
            elif key in trained:
                verdict = "refused: already trained on"
            else:
                verdict = "added"
                trained.add(key)
                texts.setdefault(intent, []).append(text)
            verdicts.append((intent, text, verdict))
    return texts, verdicts


def add_paraphrases(paths: Sequence[Path], intents: Iterable[str]) -> Counter[str]:
    """Adds the paraphrases ``judge_paraphrases`` accepts to the paraphrase file.

    Returns how many were added and how many refused, by reason.
    """
    texts, verdicts = judge_paraphrases(paths, intents)
    header, _ = read_paraphrase_file(PARAPHRASE_FILE)
    write_paraphrase_file(PARAPHRASE_FILE, header, texts)
    return Counter(verdict for _, _, verdict in verdicts)


def counts(corpus: Dict[str, List[Item]]) -> Dict[str, Counter[str]]:
    """Provenance counts: items per split, kind, language, and pages per split."""
    every = [item for items in corpus.values() for item in items]
    return {
        "items per split": Counter({name: len(items) for name, items in corpus.items()}),
        "pages per split": Counter(
            {name: len({item.url for item in items}) for name, items in corpus.items()}
        ),
        "kind": Counter(item.kind for item in every),
        "language": Counter(item.lang for item in every),
        "intent": Counter(item.intent for item in every),
        "sites": Counter(re.sub(r"^https?://(www\.)?([^/]+).*$", r"\2", item.url) for item in every),
    }


def main() -> None:
    """Parses the command line and runs its command: one of ``FILE_COMMANDS``, or ``counts``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, summary in FILE_COMMANDS.items():
        commands.add_parser(name, help=summary).add_argument("files", nargs="+", type=Path)
    commands.add_parser("counts", help="print the provenance counts")
    args = parser.parse_args()
    try:
        _run(args.command, getattr(args, "files", []))
    except (CorpusFileError, OSError) as error:
        parser.error(str(error))


def _run(command: str, files: Sequence[Path]) -> None:
    """Runs one command on ``files``, printing its verdicts or the corpus's counts."""
    intents = known_labels()
    if command == "check":
        _, placed = place(files, intents)
        _print_verdicts([(item.intent, item.text, verdict) for item, verdict in placed])
        return
    if command == "check-paraphrases":
        _print_verdicts(judge_paraphrases(files, intents)[1])
        return
    if command == "add":
        print(dict(add(files, intents)))
    elif command == "add-paraphrases":
        print(dict(add_paraphrases(files, intents)))
    for title, counter in counts(load_corpus()).items():
        if title == "sites":
            print(f"sites: {len(counter)}, most used {dict(counter.most_common(MOST_USED_SITES))}")
        else:
            print(f"{title}: {dict(counter.most_common())}")


def _print_verdicts(verdicts: Sequence[Tuple[str, str, str]]) -> None:
    """Prints each entry's verdict, intent and the start of its text, then the verdicts counted."""
    for intent, text, verdict in verdicts:
        print(f"{verdict:<8} {intent:<24} {text[:70]!r}")
    print(dict(Counter(verdict for _, _, verdict in verdicts)))


if __name__ == "__main__":
    main()
