"""Labels in every form the course meets them, and accuracy: one helper for all of them."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.labels import accuracy, as_labels, one_hot


def test_integer_one_hot_and_row_labels_read_alike() -> None:
    y = np.array([3, 0, 9, 3, 1])
    np.testing.assert_array_equal(as_labels(one_hot(y)), y)
    np.testing.assert_array_equal(as_labels([3.0, 0.0, 9.0, 3.0, 1.0]), y)
    np.testing.assert_array_equal(as_labels(np.array([[1.0, 0.0, 1.0]])), [1, 0, 1])
    assert as_labels(y).dtype == np.int64
    assert as_labels(y) is not y


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (np.array([0.5, 1.0]), "integers"),
        (np.array([[0.2, 0.5], [0.8, 0.5]]), "not one-hot"),
        (np.zeros((2, 2, 2)), "1-D"),
        (np.array([0, 10]), r"outside 0\.\.9: 1 of them, e.g. \[10\]"),
    ],
)
def test_as_labels_says_what_is_wrong(labels, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        as_labels(labels, 10)


def test_accuracy_of_predictions_against_any_form_of_labels() -> None:
    y = np.array([2, 0, 1, 1])
    predictions = np.array([2, 0, 0, 1])
    assert accuracy(predictions, y) == accuracy(predictions, one_hot(y, 3)) == 0.75
    assert np.isnan(accuracy([], []))
    with pytest.raises(ValueError, match="differ"):
        accuracy(predictions, y[:3])


def test_one_hot_round_trip() -> None:
    y = np.array([3, 0, 9, 3, 1], dtype=np.int64)
    Y = one_hot(y)
    assert Y.shape == (10, 5) and Y.dtype == np.float64
    assert np.array_equal(Y.sum(axis=0), np.ones(5))
    assert np.array_equal(Y.argmax(axis=0), y)
    assert one_hot(np.array([], dtype=np.int64)).shape == (10, 0)
    assert one_hot([2, 0], num_classes=3).tolist() == [[0, 1], [0, 0], [1, 0]]


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (np.array([0, 10]), "out of range"),
        (np.array([-1, 2]), "out of range"),
        (np.array([0.0, 1.5]), "integers"),
        (np.array([True, False]), "integers"),
        (np.zeros((2, 2), dtype=np.int64), "1-D"),
    ],
)
def test_one_hot_rejects_bad_labels(labels: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        one_hot(labels)


