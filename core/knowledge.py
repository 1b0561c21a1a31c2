"""The clinic's article as structured knowledge, loaded from ``knowledge/knowledge.yml``.

The knowledge file is the single source for every medical sentence the assistant says:
actions quote it, tests check it against the article, and nothing else copies its text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from core.settings import get_settings


@dataclass(frozen=True)
class Section:
    """One quotable passage of the article under its heading."""

    id: str
    group: str
    heading: str
    heading_added: bool
    text: str
    group_heading: Optional[str] = None


@dataclass(frozen=True)
class Topic:
    """An answerable topic: the contract id and the sections that answer it."""

    id: str
    titles: Dict[str, str]
    sections: Tuple[Section, ...]
    subtopics: Tuple[str, ...] = ()
    related: Tuple[str, ...] = ()
    terms: Tuple[str, ...] = ()

    def title(self, language: str) -> str:
        """Returns the button label in ``language``, English when it has none."""
        return self.titles.get(language) or self.titles["en"]

    @property
    def is_overview(self) -> bool:
        """Whether the topic summarises a group and lists its sub-topics."""
        return bool(self.subtopics)


@dataclass(frozen=True)
class KnowledgeBase:
    """All sections and topics of the article, with the article file they came from."""

    article_path: Path
    sections: Dict[str, Section]
    topics: Dict[str, Topic]
    _term_index: Dict[str, str] = field(default_factory=dict, compare=False)

    def topic(self, topic_id: str) -> Optional[Topic]:
        """Returns the topic with ``topic_id``, or None when there is none."""
        return self.topics.get(topic_id)

    def topic_for_term(self, term: str) -> Optional[Topic]:
        """Returns the topic a condition or treatment term belongs to, if any."""
        topic_id = self._term_index.get(normalise_term(term))
        return self.topics.get(topic_id) if topic_id else None


def normalise_term(term: str) -> str:
    """Folds case, typographic apostrophes and spacing so terms match loosely."""
    return " ".join(term.replace("\u2019", "'").lower().split())


def load_knowledge(path: Path) -> KnowledgeBase:
    """Reads and cross-checks a knowledge file.

    Args:
        path: The knowledge YAML file.

    Returns:
        The knowledge base.

    Raises:
        ValueError: If a topic names a section or topic that does not exist.

    """
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    sections = {
        raw["id"]: Section(
            id=raw["id"],
            group=raw["group"],
            heading=raw["heading"],
            heading_added=bool(raw["heading_added"]),
            text=raw["text"],
            group_heading=raw.get("group_heading"),
        )
        for raw in document["sections"]
    }
    topics: Dict[str, Topic] = {}
    for raw in document["topics"]:
        missing = [section for section in raw["sections"] if section not in sections]
        if missing:
            raise ValueError(f"Topic {raw['id']} names unknown sections {missing}")
        topics[raw["id"]] = Topic(
            id=raw["id"],
            titles=dict(raw["title"]),
            sections=tuple(sections[section] for section in raw["sections"]),
            subtopics=tuple(raw.get("subtopics", ())),
            related=tuple(raw.get("related", ())),
            terms=tuple(raw.get("terms", ())),
        )
    for topic in topics.values():
        unknown = [other for other in topic.subtopics + topic.related if other not in topics]
        if unknown:
            raise ValueError(f"Topic {topic.id} links to unknown topics {unknown}")
    term_index = {normalise_term(term): topic.id for topic in topics.values() for term in topic.terms}
    return KnowledgeBase(
        article_path=path.parent / document["article"],
        sections=sections,
        topics=topics,
        _term_index=term_index,
    )


@lru_cache(maxsize=1)
def get_knowledge() -> KnowledgeBase:
    """Returns the configured knowledge base, loaded once per process."""
    return load_knowledge(get_settings().core.knowledge_file)


def render_heading(section: Section, added_marker: str) -> str:
    """Returns a section's heading, marking one the article does not have."""
    if section.heading_added:
        return f"{section.heading} {added_marker}"
    return section.heading


def render_quote(topic: Topic, added_marker: str) -> str:
    """Renders a topic's sections as one verbatim quote, each under its heading.

    A topic whose sections all sit under one article heading (an overview) shows
    that heading once; otherwise each section names its group heading too, so two
    sections both called "Disuse Atrophy" stay distinguishable.

    Args:
        topic: The topic to quote.
        added_marker: The note appended to headings the article lacks.

    Returns:
        The quote, blocks separated by blank lines.

    """
    group_headings = {section.group_heading for section in topic.sections}
    shared_group = len(topic.sections) > 1 and len(group_headings) == 1
    blocks: List[str] = []
    if shared_group and topic.sections[0].group_heading:
        blocks.append(topic.sections[0].group_heading)
    for section in topic.sections:
        heading = render_heading(section, added_marker)
        if section.group_heading and not shared_group:
            heading = f"{section.group_heading} \u203a {heading}"
        blocks.append(f"{heading}\n{section.text}")
    return "\n\n".join(blocks)
