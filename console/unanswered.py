"""Questions we could not answer: the period's misses, grouped by meaning.

A miss is a typed patient message the assistant answered with "cannot answer" or a
clarifying question, or the question of an answer a patient rated "Not helpful". Misses
are grouped by the meaning of their words: e5 sentence vectors (console.sentence_vectors)
clustered by average-linkage agglomerative clustering under a cosine-distance threshold.
At most the ``MAX_GROUPED`` most recent misses of a period are grouped; a grouping is
cached per period and set of messages, so reloading a page costs no clustering.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console import outcomes, sentence_vectors
from console.schema import message_vectors, messages, ratings

NOT_HELPFUL = "not_helpful"
KIND_LABELS = {
    outcomes.CANNOT_ANSWER: "could not answer",
    outcomes.CLARIFIED: "asked to clarify",
    NOT_HELPFUL: "rated not helpful",
}
MAX_GROUPED = 2000
# Cosine distance (after removing e5's shared direction) under which questions group:
# tests/console/test_unanswered.py measures it on labelled paraphrases.
DISTANCE_THRESHOLD = 0.55
EXAMPLES = 5
# A page computes missing vectors for at most this long; the background thread does the rest.
ON_DEMAND_SECONDS = 0.6
CACHE_SIZE = 16


@dataclass(frozen=True)
class Miss:
    """One message the assistant could not answer well."""

    event_id: int
    conversation_id: int
    timestamp: float
    text: str
    text_key: str
    kinds: Tuple[str, ...]


@dataclass(frozen=True)
class Example:
    """A distinct wording in a group, how often it came, and its latest conversation."""

    text: str
    count: int
    conversation_id: int
    event_id: int


@dataclass(frozen=True)
class Group:
    """Misses of one meaning; ``key`` is the normalised text of its most central message."""

    key: str
    central: Miss
    misses: Tuple[Miss, ...]

    @property
    def size(self) -> int:
        """How many messages the group has."""
        return len(self.misses)

    @property
    def text_keys(self) -> frozenset[str]:
        """The normalised texts of its messages."""
        return frozenset(miss.text_key for miss in self.misses)

    def kind_counts(self) -> List[Tuple[str, int]]:
        """(kind label, count) of its messages, most first."""
        counts = Counter(kind for miss in self.misses for kind in miss.kinds)
        return [(KIND_LABELS[kind], count) for kind, count in counts.most_common()]

    def examples(self, limit: int = EXAMPLES) -> List[Example]:
        """Up to ``limit`` distinct wordings, the most frequent first (the central one leads)."""
        by_key: Dict[str, List[Miss]] = {}
        for miss in self.misses:
            by_key.setdefault(miss.text_key, []).append(miss)
        ordered = sorted(by_key.values(), key=lambda items: (items[0].text_key != self.key, -len(items)))
        return [
            Example(items[0].text, len(items), items[0].conversation_id, items[0].event_id)
            for items in ordered[:limit]
        ]


@dataclass(frozen=True)
class Grouping:
    """The period's misses and their groups, biggest first."""

    first: date
    last: date
    total: int
    grouped: int
    waiting: int
    groups: Tuple[Group, ...]

    def find(self, key: str) -> Optional[Group]:
        """The group holding a message whose normalised text is ``key``."""
        return next((group for group in self.groups if key in group.text_keys), None)


def misses(engine: Engine, first: date, last: date) -> List[Miss]:
    """Returns the period's misses, newest first."""
    m = messages.c
    columns = (m.event_id, m.conversation_id, m.timestamp, m.text, m.text_key)
    kinds: Dict[int, List[str]] = {}
    rows: Dict[int, sa.engine.Row] = {}
    with engine.connect() as connection:
        for row in connection.execute(
            sa.select(*columns, m.outcome).where(
                m.day >= first,
                m.day <= last,
                m.is_payload.is_(False),
                m.outcome.in_([outcomes.CANNOT_ANSWER, outcomes.CLARIFIED]),
            )
        ):
            rows[row.event_id] = row
            kinds.setdefault(row.event_id, []).append(row.outcome)
        for row in connection.execute(
            sa.select(*columns)
            .select_from(ratings.join(messages, m.event_id == ratings.c.question_event_id))
            .where(
                ratings.c.day >= first,
                ratings.c.day <= last,
                ratings.c.helpful.is_(False),
                m.is_payload.is_(False),
            )
        ):
            rows.setdefault(row.event_id, row)
            if NOT_HELPFUL not in kinds.setdefault(row.event_id, []):
                kinds[row.event_id].append(NOT_HELPFUL)
    found = [
        Miss(row.event_id, row.conversation_id, row.timestamp, row.text, row.text_key, tuple(kinds[event_id]))
        for event_id, row in rows.items()
    ]
    return sorted(found, key=lambda miss: (-miss.timestamp, -miss.event_id))


def vectors_for(engine: Engine, chosen: Sequence[Miss], budget: float) -> Dict[int, np.ndarray]:
    """Returns the stored vectors of ``chosen``, computing missing ones for about ``budget`` seconds."""
    found = sentence_vectors.load(engine, [miss.event_id for miss in chosen])
    missing = [miss for miss in chosen if miss.event_id not in found]
    deadline = time.monotonic() + budget
    while missing and time.monotonic() < deadline:
        chunk, missing = missing[:8], missing[8:]
        found.update(sentence_vectors.store(engine, [(x.event_id, x.conversation_id, x.text) for x in chunk]))
    return found


def _central(indices: List[int], similarity: np.ndarray, weights: np.ndarray) -> int:
    """The member most similar, on average, to every message of its group."""
    scores = similarity[np.ix_(indices, indices)] @ weights[indices]
    return indices[int(np.argmax(scores))]


def cluster(chosen: Sequence[Miss], vectors: Dict[int, np.ndarray]) -> List[Group]:
    """Groups misses by meaning; identical normalised texts always share a group."""
    by_key: Dict[str, List[Miss]] = {}
    for miss in chosen:
        if miss.event_id in vectors:
            by_key.setdefault(miss.text_key, []).append(miss)
    if not by_key:
        return []
    keys = list(by_key)
    matrix = sentence_vectors.centred(np.stack([vectors[by_key[key][0].event_id] for key in keys]))
    similarity = matrix @ matrix.T
    if len(keys) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(
            n_clusters=None,
            affinity="precomputed",
            linkage="average",
            distance_threshold=DISTANCE_THRESHOLD,
        ).fit_predict(np.clip(1.0 - similarity, 0.0, 2.0).astype(np.float64))
    weights = np.array([len(by_key[key]) for key in keys], dtype=np.float32)
    groups = []
    for label in set(labels.tolist()):
        indices = [index for index, value in enumerate(labels) if value == label]
        central = keys[_central(indices, similarity, weights)]
        members = sorted(
            (miss for index in indices for miss in by_key[keys[index]]),
            key=lambda miss: (-miss.timestamp, -miss.event_id),
        )
        groups.append(Group(key=central, central=by_key[central][0], misses=tuple(members)))
    return sorted(groups, key=lambda group: (-group.size, -group.misses[0].timestamp, group.key))


_cache: OrderedDict[Tuple[date, date, str], Tuple[Group, ...]] = OrderedDict()
_cache_lock = threading.Lock()


def group(engine: Engine, first: date, last: date, budget: float = ON_DEMAND_SECONDS) -> Grouping:
    """Returns the period's misses grouped (the ``MAX_GROUPED`` most recent), from the cache when it can."""
    found = misses(engine, first, last)
    chosen = found[:MAX_GROUPED]
    vectors = vectors_for(engine, chosen, budget)
    ids = np.array(sorted(miss.event_id for miss in chosen if miss.event_id in vectors), dtype=np.int64)
    key = (first, last, hashlib.sha256(ids.tobytes()).hexdigest())
    with _cache_lock:
        groups = _cache.get(key)
        if groups is not None:
            _cache.move_to_end(key)
    if groups is None:
        groups = tuple(cluster(chosen, vectors))
        with _cache_lock:
            _cache[key] = groups
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return Grouping(
        first=first,
        last=last,
        total=len(found),
        grouped=len(ids),
        waiting=len(chosen) - len(ids),
        groups=groups,
    )


def prepare(engine: Engine, budget: float, limit: int = 256) -> int:
    """Computes vectors of misses that have none, newest first, for about ``budget`` seconds.

    The console's background thread calls it after indexing. Returns how many it computed.
    """
    m = messages.c
    rated_not_helpful = sa.select(ratings.c.question_event_id).where(ratings.c.helpful.is_(False))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(m.event_id, m.conversation_id, m.text)
            .where(
                m.is_payload.is_(False),
                sa.or_(
                    m.outcome.in_([outcomes.CANNOT_ANSWER, outcomes.CLARIFIED]),
                    m.event_id.in_(rated_not_helpful),
                ),
                ~sa.exists().where(message_vectors.c.event_id == m.event_id),
            )
            .order_by(m.event_id.desc())
            .limit(limit)
        ).fetchall()
    deadline = time.monotonic() + budget
    done = 0
    for start in range(0, len(rows), 16):
        if time.monotonic() > deadline:
            break
        chunk = rows[start : start + 16]
        sentence_vectors.store(engine, [(row.event_id, row.conversation_id, row.text) for row in chunk])
        done += len(chunk)
    if not sentence_vectors.is_warm() and (done or _has_vectors(engine)):
        # Once per process, so that the page groups at once.
        sentence_vectors.reference_mean()
        from sklearn.cluster import AgglomerativeClustering  # noqa: F401
    return done


def _has_vectors(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(sa.select(message_vectors.c.event_id).limit(1)).first() is not None
