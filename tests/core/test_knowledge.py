"""The knowledge file against the clinic's article: verbatim, complete, and the topic contract."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.knowledge import KnowledgeBase, render_quote
from core.settings import PROJECT_ROOT

SHARED_ARTICLE = PROJECT_ROOT.parent / "shared" / "article" / "muscle-atrophy-article.txt"

CONTRACT_TOPICS = {
    "muscle_atrophy_overview", "atrophy_types", "disuse_atrophy", "neurogenic_atrophy",
    "pathologic_atrophy", "atrophy_causes", "inflammatory_conditions", "nutritional_deficiency",
    "endocrine_disorders", "chronic_diseases", "atrophy_symptoms", "atrophy_treatments",
    "physical_therapy", "nutritional_support", "electrical_stimulation", "medical_management",
    "surgery", "lifestyle_modifications", "prevention", "reversibility", "recovery_time",
    "permanent_disability", "physiotherapy_role", "about_clinic",
}  # fmt: skip
GROUPS = {"types", "causes", "symptoms", "treatments", "faqs", "introduction", "conclusion"}


def article_text(knowledge: KnowledgeBase) -> str:
    return knowledge.article_path.read_text(encoding="utf-8")


def content_lines(knowledge: KnowledgeBase) -> list[str]:
    """Returns the article's non-empty lines without the page furniture.

    The first line is the web page's title and the last one its share button (see the
    article's README): neither is article content.
    """
    lines = [line for line in article_text(knowledge).splitlines() if line.strip()]
    return lines[1:-1]


def test_article_copy_is_byte_identical_to_the_clinics_file(knowledge: KnowledgeBase) -> None:
    if not SHARED_ARTICLE.exists():
        pytest.skip(f"the clinic's original is not beside the checkout ({SHARED_ARTICLE})")
    assert knowledge.article_path.read_bytes() == SHARED_ARTICLE.read_bytes()


def test_every_section_text_is_verbatim_in_the_article(knowledge: KnowledgeBase) -> None:
    article = article_text(knowledge)
    for section in knowledge.sections.values():
        assert section.text and section.text in article, section.id


def test_headings_are_the_articles_own_unless_marked_added(knowledge: KnowledgeBase) -> None:
    lines = set(article_text(knowledge).splitlines())
    for section in knowledge.sections.values():
        assert (section.heading in lines) is not section.heading_added, section.id
        if section.group_heading:
            assert section.group_heading in lines, section.id


def test_the_three_lost_headings_and_the_intro_and_conclusion_are_marked_added(
    knowledge: KnowledgeBase,
) -> None:
    added = {section.id for section in knowledge.sections.values() if section.heading_added}
    assert added == {
        "introduction",
        "conclusion",
        "cause_nutritional",
        "treatment_medical_management",
        "treatment_surgery",
    }


def test_every_paragraph_of_the_article_belongs_to_a_section(knowledge: KnowledgeBase) -> None:
    headings = {section.heading for section in knowledge.sections.values()}
    headings |= {section.group_heading for section in knowledge.sections.values() if section.group_heading}
    quoted = [section.text for section in knowledge.sections.values()]
    for line in content_lines(knowledge):
        if line in headings:
            continue
        assert any(line in text for text in quoted), f"unreachable article line: {line[:60]!r}"


def test_sections_have_known_groups_and_unique_ids(knowledge: KnowledgeBase) -> None:
    assert {section.group for section in knowledge.sections.values()} == GROUPS
    assert len(knowledge.sections) == 23


def test_topics_are_exactly_the_contract(knowledge: KnowledgeBase) -> None:
    assert set(knowledge.topics) == CONTRACT_TOPICS


def test_every_section_is_answered_by_some_topic(knowledge: KnowledgeBase) -> None:
    used = {section.id for topic in knowledge.topics.values() for section in topic.sections}
    assert used == set(knowledge.sections)


def test_overviews_list_their_subtopics(knowledge: KnowledgeBase) -> None:
    overviews = {topic.id for topic in knowledge.topics.values() if topic.is_overview}
    assert overviews == {"atrophy_types", "atrophy_causes", "atrophy_treatments"}
    for topic_id in overviews:
        topic = knowledge.topics[topic_id]
        assert len(topic.subtopics) == len(topic.sections)


def test_every_topic_offers_two_or_three_next_topics(knowledge: KnowledgeBase) -> None:
    for topic in knowledge.topics.values():
        assert topic.is_overview or 2 <= len(topic.related) <= 3, topic.id
        assert topic.id not in topic.related


@pytest.mark.parametrize("language", ["en", "ms"])
def test_every_topic_has_a_button_title(knowledge: KnowledgeBase, language: str) -> None:
    for topic in knowledge.topics.values():
        assert topic.titles[language].strip(), topic.id


def test_quote_keeps_each_section_whole_under_its_heading(knowledge: KnowledgeBase) -> None:
    for topic in knowledge.topics.values():
        quote = render_quote(topic, "(added)")
        for section in topic.sections:
            heading = section.heading + (" (added)" if section.heading_added else "")
            assert f"{heading}\n{section.text}" in quote, (topic.id, section.id)


def test_terms_find_their_topic(knowledge: KnowledgeBase) -> None:
    chronic = knowledge.topic_for_term("Corticosteroids")
    endocrine = knowledge.topic_for_term("cushing\u2019s  Syndrome")
    assert chronic is not None and chronic.id == "chronic_diseases"
    assert endocrine is not None and endocrine.id == "endocrine_disorders"
    assert knowledge.topic_for_term("a broken phone") is None


def long_sentences(lines: list[str]) -> set[str]:
    """Returns the article's sentences long enough that a copy cannot be a coincidence."""
    sentences = set()
    for line in lines:
        for sentence in line.replace("\u2019", "'").split(". "):
            if len(sentence) >= 45:
                sentences.add(sentence.strip().rstrip("."))
    return sentences


def test_nothing_else_in_the_repository_copies_the_article(knowledge: KnowledgeBase) -> None:
    allowed = {Path("knowledge/knowledge.yml"), Path("knowledge/muscle-atrophy-article.txt")}
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sentences = long_sentences(content_lines(knowledge))
    copies = []
    for name in tracked:
        path = PROJECT_ROOT / name
        if Path(name) in allowed or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            content = path.read_text(encoding="utf-8").replace("\u2019", "'")
        except UnicodeDecodeError:
            continue
        copies += [f"{name}: {sentence[:50]}" for sentence in sentences if sentence in content]
    assert not copies
