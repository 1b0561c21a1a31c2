"""Builds the project's spaCy pipeline, since spaCy 3.4's English models cannot be downloaded.

The pipeline is a blank English tokenizer, a lookup lemmatizer from spacy-lookups-data,
and an entity ruler that tags the condition and treatment terms of the knowledge file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List

import spacy

from core.knowledge import KnowledgeBase, load_knowledge
from core.settings import get_settings

ENTITY_BY_GROUP = {"types": "condition", "causes": "condition", "treatments": "treatment"}


def entity_patterns(knowledge: KnowledgeBase) -> List[Dict[str, str]]:
    """Returns an entity-ruler pattern per term of a condition or treatment topic."""
    patterns = []
    for topic in knowledge.topics.values():
        label = ENTITY_BY_GROUP.get(topic.sections[0].group)
        if label is None:
            continue
        for term in topic.terms:
            patterns.append({"label": label, "pattern": term, "id": topic.id})
    return patterns


def build(output: Path, knowledge: KnowledgeBase) -> None:
    """Builds the pipeline and saves it to ``output``."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()
    ruler.add_patterns(entity_patterns(knowledge))  # type: ignore[attr-defined]
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)


def main() -> None:
    """Parses the command line and builds the pipeline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path, help="folder to write the spaCy pipeline to")
    args = parser.parse_args()
    build(args.output, load_knowledge(get_settings().core.knowledge_file))
    print(f"spaCy pipeline written to {args.output}")


if __name__ == "__main__":
    main()
