"""Class labels in the forms the course meets them, and the accuracy of predictions.

Labels come as integers ``y`` of shape ``(m,)``, as one-hot columns ``Y`` of shape ``(k, m)``
(one example per column, as everywhere in the course), or as one 0/1 row ``(1, m)`` (the
targets of a sigmoid output). Every function here accepts all three and says plainly what is
wrong with anything else; nothing is ever rounded silently.

Interface:
    as_labels(y, num_classes=None, *, name="labels") -> int64 array (m,)
    one_hot(y, num_classes=10)                       -> float64 array (num_classes, m)
    accuracy(predictions, y)                         -> float in [0, 1]
"""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 10


def as_labels(y: object, num_classes: int | None = None, *, name: str = "labels") -> np.ndarray:
    """Integer labels ``(m,)`` (a new array) from ``(m,)`` integers, one-hot ``(k, m)`` or a
    0/1 row ``(1, m)``; with ``num_classes``, every label must lie in ``0..num_classes - 1``."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    elif arr.ndim == 2:
        if arr.size and not (np.isin(arr, (0, 1)).all() and (arr.sum(axis=0) == 1).all()):
            raise ValueError(f"{name} of shape {arr.shape} are not one-hot columns")
        arr = arr.argmax(axis=0)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D of shape (m,), one-hot (k, m) or a row (1, m); got {arr.shape}"
        )
    whole = np.issubdtype(arr.dtype, np.integer) or (
        np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))
    )
    if arr.size and not whole:
        raise ValueError(f"{name} must be integers (class numbers), got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if num_classes is not None and arr.size:
        bad = arr[(arr < 0) | (arr >= num_classes)]
        if bad.size:
            raise ValueError(
                f"{name} out of range, outside 0..{num_classes - 1}: "
                f"{bad.size} of them, e.g. {bad[:5].tolist()}"
            )
    return arr


def one_hot(y: object, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Integer labels ``(m,)`` -> one-hot float64 matrix ``(num_classes, m)``, one column per
    example."""
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if np.ndim(y) != 1:
        raise ValueError(f"labels must be a 1-D array of shape (m,), got shape {np.shape(y)}")
    labels = as_labels(y, num_classes)
    Y = np.zeros((num_classes, labels.shape[0]), dtype=np.float64)
    Y[labels, np.arange(labels.shape[0])] = 1.0
    return Y


def accuracy(predictions: object, y: object) -> float:
    """Fraction of ``predictions`` equal to the true labels ``y`` (both as ``as_labels`` takes
    them); NaN when there are no examples."""
    predicted, labels = as_labels(predictions, name="predictions"), as_labels(y)
    if predicted.shape != labels.shape:
        raise ValueError(f"predictions {predicted.shape} and labels {labels.shape} differ")
    return float(np.mean(predicted == labels)) if labels.size else float("nan")
