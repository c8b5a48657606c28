"""Start/end logits of one window -> the best answer spans as character offsets (the rules of utils_qa.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa import config


def _softmax(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    x = np.where(mask, logits.astype(np.float64), -np.inf)
    x = x - x.max()
    e = np.exp(x)
    return e / e.sum()


def decode_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: np.ndarray | Sequence[Sequence[int]],
    sequence_ids: Sequence[int | None] | np.ndarray,
    *,
    context_id: int = 1,
    cls_index: int = 0,
    attention_mask: np.ndarray | Sequence[int] | None = None,
    max_answer_tokens: int = config.READER_MAX_ANSWER_TOKENS,
    n_best: int = config.READER_N_BEST,
) -> tuple[list[tuple[int, int, float]], float]:
    """Best answer spans of one feature (one window of one passage) as character offsets.

    Scores share one scale in [0, 1]: softmax over the start logits and over the end logits of
    the whole feature (padding masked out, so dynamic padding does not change them), and a span
    scores p_start * p_end. The null score is p_start[cls] * p_end[cls].

    Rules as in transformers' ``utils_qa.py``: only context tokens (``sequence_ids == context_id``)
    may start or end a span, end >= start, at most ``max_answer_tokens`` tokens, and only the
    ``n_best`` most likely starts and ends are paired (start and end predictions are not
    conditioned on one another, so the best pair is not simply the two argmaxes).

    Returns ``([(char_start, char_end, score), ...] best first, null_score)``. Offsets are those
    of the tokenizer's ``offset_mapping`` for the context, so they index the passage text; callers
    strip surrounding whitespace.

    >>> import numpy as np
    >>> s = np.array([0.0, 0.0, 0.0, 5.0, 0.0]); e = np.array([0.0, 0.0, 0.0, 0.0, 5.0])
    >>> spans, null = decode_spans(s, e, [(0, 0), (0, 3), (0, 0), (0, 4), (5, 9)],
    ...                            [None, 0, None, 1, 1])
    >>> spans[0][:2]
    (0, 9)
    """
    start_logits = np.asarray(start_logits, dtype=np.float64)
    end_logits = np.asarray(end_logits, dtype=np.float64)
    n = start_logits.shape[0]
    if end_logits.shape[0] != n:
        raise ValueError(f"start and end logits differ in length: {n} != {end_logits.shape[0]}")
    if max_answer_tokens < 1:
        raise ValueError(f"max_answer_tokens must be at least 1, got {max_answer_tokens}")
    if n_best < 1:
        raise ValueError(f"n_best must be at least 1, got {n_best}")
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)[:n]
    seq = np.array([-1 if s is None else int(s) for s in list(sequence_ids)[:n]], dtype=np.int64)
    mask = np.ones(n, dtype=bool) if attention_mask is None else np.asarray(attention_mask)[:n] > 0

    p_start = _softmax(start_logits, mask)
    p_end = _softmax(end_logits, mask)
    null_score = float(p_start[cls_index] * p_end[cls_index])

    # Only context tokens with a real extent in the text can carry an answer.
    is_context = (seq == context_id) & mask & (offsets[:, 1] > offsets[:, 0])
    context_positions = np.flatnonzero(is_context)
    if context_positions.size == 0:
        return [], null_score
    # The n_best starts and ends among the context tokens (utils_qa takes them over the whole
    # sequence and then drops non-context ones, which can leave nothing).
    starts = context_positions[np.argsort(-p_start[context_positions], kind="stable")[:n_best]]
    ends = context_positions[np.argsort(-p_end[context_positions], kind="stable")[:n_best]]

    best: dict[tuple[int, int], float] = {}
    for s in starts:
        for e in ends:
            if e < s or e - s + 1 > max_answer_tokens:
                continue
            char_span = (int(offsets[s, 0]), int(offsets[e, 1]))
            score = float(p_start[s] * p_end[e])
            if score > best.get(char_span, -1.0):
                best[char_span] = score
    spans = sorted(((a, b, sc) for (a, b), sc in best.items()), key=lambda t: (-t[2], t[0], t[1]))
    return spans[:n_best], null_score
