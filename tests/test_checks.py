"""helpers.checks: the notebooks' assertions pass on right answers and explain wrong ones.

A failed check names the array, compares shapes (expected first), reports the count and the
largest error with its index, and adds a hint for the common mistakes (transpose, missing
keepdims, a sum over every axis or the wrong one, a missing or doubled 1/m, a flipped sign).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers.checks import (
    CheckFailed,
    assert_answer,
    assert_close,
    assert_finite,
    assert_gradient,
    assert_printed_number,
    assert_scalar_close,
    replaced,
    route_warnings_to_stdout,
)


def failure(check, *args, **kwargs) -> str:
    """The message of the AssertionError that ``check(*args, **kwargs)`` must raise."""
    with pytest.raises(AssertionError) as caught:
        check(*args, **kwargs)
    return str(caught.value)


# ---------------------------------------------------------------- assert_close: passing cases


def test_assert_close_passes_on_equal_arrays(rng):
    expected = rng.standard_normal((3, 4))
    assert_close("dW", expected.copy(), expected)
    assert_close("dW", expected, expected, m=4)


def test_assert_close_passes_within_tolerance(rng):
    expected = rng.standard_normal((2, 5))
    assert_close("dW", expected * (1 + 1e-9), expected)


def test_assert_close_accepts_lists_and_scalars():
    assert_close("db", [[1.0], [2.0]], np.array([[1.0], [2.0]]))
    assert_close("loss", 0.5, 0.5)


# ---------------------------------------------------------------- assert_close: shapes


def test_shape_mismatch_names_the_array_and_both_shapes(rng):
    message = failure(assert_close, "dW", rng.standard_normal((2, 5)), np.zeros((3, 4)))
    assert message.startswith("dW: ")
    assert "expected shape (3, 4), got (2, 5)" in message
    assert ";" not in message  # no hint fits this one


@pytest.mark.parametrize(
    "got_shape, expected_shape, hints",
    [
        ((4, 3), (3, 4), ["transposed", ".T"]),
        ((3,), (3, 1), ["keepdims=True"]),
        ((), (3, 1), ["single number", "every axis"]),
        ((4,), (3, 4), ["wrong axis"]),
        ((1, 5), (3, 1), ["a row instead of a column", "axis=1"]),
    ],
    ids=["transpose", "keepdims", "scalar", "axis", "row"],
)
def test_shape_mistakes_get_their_hint(rng, got_shape, expected_shape, hints):
    message = failure(assert_close, "dW", rng.standard_normal(got_shape), np.zeros(expected_shape))
    assert f"expected shape {expected_shape}, got {got_shape}" in message
    assert all(hint in message for hint in hints), message


# ---------------------------------------------------------------- assert_close: values


def test_value_mismatch_reports_count_largest_error_and_index():
    expected = np.zeros((2, 3))
    got = expected.copy()
    got[0, 2] = 0.5
    got[1, 1] = -2.0
    message = failure(assert_close, "dH", got, expected)
    assert message.startswith("dH: ")
    assert "2 of 6 entries differ" in message
    assert "largest error is 2 at index [1, 1]" in message
    assert "(expected 0, got -2)" in message


def test_largest_error_index_ignores_entries_within_tolerance():
    expected = np.array([1000.0, 1.0])
    got = np.array([1000.0 + 1e-4, 1.5])  # the first is within rtol, the second is not
    message = failure(assert_close, "x", got, expected)
    assert "1 of 2 entries differ" in message
    assert "at index [1]" in message


def test_m_times_too_large_hints_at_the_missing_1_over_m(rng):
    expected = rng.standard_normal((3, 4))
    message = failure(assert_close, "dW", expected * 5, expected, m=5)
    assert "12 of 12 entries differ" in message
    assert "m = 5" in message and "1/m" in message and "too large" in message


def test_m_times_too_small_hints_that_1_over_m_was_applied_twice(rng):
    expected = rng.standard_normal((3, 1))
    message = failure(assert_close, "db", expected / 7, expected, m=7)
    assert "applied twice" in message


def test_no_1_over_m_hint_without_m(rng):
    expected = rng.standard_normal((3, 4))
    message = failure(assert_close, "dW", expected * 5, expected)
    assert "1/m" not in message


def test_flipped_sign_is_spotted(rng):
    expected = rng.standard_normal((2, 3))
    message = failure(assert_close, "dZ", -expected, expected)
    assert "the sign is flipped" in message


def test_all_zero_answer_is_spotted(rng):
    expected = rng.standard_normal((2, 3))
    message = failure(assert_close, "dZ", np.zeros((2, 3)), expected)
    assert "every entry is 0" in message


# ---------------------------------------------------------------- assert_close: bad inputs


def test_none_asks_about_a_missing_return():
    message = failure(assert_close, "dW", None, np.zeros((2, 2)))
    assert message.startswith("dW is None")
    assert "return" in message


def test_tuple_says_several_values_were_returned(rng):
    got = (rng.standard_normal((2, 2)), rng.standard_normal((2, 1)))
    message = failure(assert_close, "dW", got, np.zeros((2, 2)))
    assert "dW should be an array but is a tuple of 2 items" in message
    assert "several values" in message


def test_non_numeric_values_are_rejected():
    message = failure(assert_close, "dW", "abc", np.zeros(3))
    assert "dW should hold numbers" in message


def test_nan_in_the_answer_is_reported_before_values(rng):
    expected = rng.standard_normal((2, 2))
    got = expected.copy()
    got[0, 0] = np.nan
    message = failure(assert_close, "dW", got, expected)
    assert "dW holds 1 nan and 0 inf values" in message


# ---------------------------------------------------------------- assert_finite


def test_assert_finite_passes_on_finite_values(rng):
    assert_finite("H", rng.standard_normal((3, 3)))
    assert_finite("loss", 0.25)


def test_assert_finite_counts_nan_and_inf():
    values = np.array([[np.nan, 1.0, np.inf], [-np.inf, np.nan, np.nan]])
    message = failure(assert_finite, "HL", values)
    assert "HL holds 3 nan and 2 inf values" in message
    assert "log" in message


def test_assert_finite_rejects_a_scalar_inf():
    assert "0 nan and 1 inf" in failure(assert_finite, "loss", float("inf"))


# ---------------------------------------------------------------- assert_scalar_close


def test_assert_scalar_close_passes_on_numbers():
    assert_scalar_close("loss", 0.6931471805599453, np.log(2))
    assert_scalar_close("loss", np.float64(1.5), 1.5)
    assert_scalar_close("loss", np.array(2.0), 2.0)


def test_assert_scalar_close_rejects_arrays():
    message = failure(assert_scalar_close, "loss", np.array([[0.5]]), 0.5)
    assert "loss should be a single number" in message
    assert "shape (1, 1)" in message


def test_assert_scalar_close_reports_wrong_values():
    message = failure(assert_scalar_close, "loss", 2.5, 2.0)
    assert message == "loss: expected 2, got 2.5"  # a number, not "1 of 1 entries at index []"


def test_assert_scalar_close_spots_a_missing_mean():
    message = failure(assert_scalar_close, "loss", 5 * np.log(10), np.log(10), m=5)
    assert message == (
        "loss: expected 2.30259, got 11.5129; it is m = 5 times too large: "
        "the mean needs a factor 1/m"
    )
    message = failure(assert_scalar_close, "loss", np.log(10) / 5, np.log(10), m=5)
    assert "it is m = 5 times too small: 1/m was applied twice" in message


def test_assert_scalar_close_rejects_nan():
    assert "1 nan" in failure(assert_scalar_close, "loss", float("nan"), 2.0)


# ---------------------------------------------------------------- how a failure shows in IPython


def test_a_failed_check_shows_its_message_first_and_no_frame_of_helpers():
    def test_cell():
        assert_scalar_close("loss", 2.5, 2.0)

    with pytest.raises(CheckFailed) as caught:
        test_cell()
    lines = caught.value._render_traceback_()
    assert lines[0] == "\x1b[0;31mCheckFailed\x1b[0m: loss: expected 2, got 2.5"
    # the failing line of the caller closes the message; nothing of helpers/checks.py
    assert lines[-1] == (
        f"    line {test_cell.__code__.co_firstlineno + 1}: "
        'assert_scalar_close("loss", 2.5, 2.0)'
    )
    assert "assert_close(" not in "".join(lines) and len(lines) == 3  # pytest's frame, ours


def test_replaced_swaps_names_for_the_block_and_restores_them():
    namespace = {"f": "original"}
    with pytest.raises(ZeroDivisionError), replaced(namespace, f="stand-in", g="new"):
        assert (namespace["f"], namespace["g"]) == ("stand-in", "new")
        raise ZeroDivisionError
    assert namespace == {"f": "original"}


# ---------------------------------------------------------------- assert_gradient


def test_assert_gradient_passes_on_a_correct_gradient(rng):
    numeric = rng.standard_normal((3, 4))
    assert_gradient("dW", numeric * (1 + 1e-10), numeric, m=4)


def test_assert_gradient_spots_a_missing_1_over_m(rng):
    numeric = rng.standard_normal((3, 4))
    message = failure(assert_gradient, "dW", numeric * 8, numeric, m=8)
    assert message.startswith("dW: ")
    assert "1/m" in message and "m = 8" in message


def test_assert_gradient_reports_the_relative_error_when_entries_look_close(rng):
    # Every entry passes the elementwise tolerance, but the relative error is too large.
    numeric = np.full((2, 2), 1e-8)
    message = failure(assert_gradient, "db", numeric * 2, numeric, tolerance=1e-7)
    assert "relative error" in message


def test_assert_gradient_checks_shapes_and_none(rng):
    message = failure(assert_gradient, "dW", rng.standard_normal((4, 3)), np.zeros((3, 4)))
    assert "expected shape (3, 4), got (4, 3)" in message and "transposed" in message
    assert "is None" in failure(assert_gradient, "dW", None, np.zeros((3, 4)))


# ---------------------------------------------------------------- route_warnings_to_stdout


def test_warnings_go_to_stdout_not_stderr(capsys, monkeypatch):
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    route_warnings_to_stdout()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("harmless but visible", UserWarning, stacklevel=1)
    out, err = capsys.readouterr()
    assert err == ""
    assert "UserWarning: harmless but visible" in out


# ---------------------------------------------------------------- named slips, numbers


def test_a_named_slip_gets_its_hint_before_the_generic_ones(rng):
    expected = rng.standard_normal((3, 4))
    slips = {"took the mask from dH": expected * 2, "unrelated": expected + 1}
    message = failure(assert_close, "dZ", expected * 2, expected, m=2, slips=slips)
    assert message.endswith("; took the mask from dH")
    # a slip that changes the shape is named instead of the shape's generic hint
    slips = {"argmax along the wrong axis": np.arange(10)}
    message = failure(assert_close, "p", np.arange(10), np.arange(8), slips=slips)
    assert message == "p: expected shape (8,), got (10,); argmax along the wrong axis"
    # a slip with variants: either result gets the hint
    slips = {"a matrix product": (expected @ expected.T, expected.T @ expected)}
    assert failure(assert_close, "dZ", expected.T @ expected, expected.T @ expected + 1,
                   slips=slips).endswith("; a matrix product")
    # an answer that is not the slip gets no slip hint
    assert "mask" not in failure(assert_close, "dZ", expected * 3, expected,
                                 slips={"took the mask from dH": expected * 2})


def test_a_number_is_reported_as_a_number():
    message = failure(assert_close, "loss", np.float64(6.0), 2.0, m=3)
    assert message == ("loss: expected 2, got 6; it is m = 3 times too large: the mean needs a "
                       "factor 1/m")
    assert "entries" not in message and "index" not in message


@pytest.mark.parametrize("printed", [
    "Accuracy: 0.08695652173913043", "Accuracy: 0.087", "Accuracy: 0.09", "accuracy 8.7%",
    "Accuracy: 9 %", "Accuracy: 8.696e-02", "Accuracy:\n0.0870",
])
def test_any_honest_rendering_of_a_printed_number_is_accepted(printed):
    assert_printed_number("accuracy", printed, 2 / 23)


@pytest.mark.parametrize("printed, words", [
    ("Accuracy: 0.1", "expected 0.0869565 (e.g. 0.087 or 8.7%), printed 'Accuracy: 0.1'"),
    ("Accuracy: 0.0869", "printed 'Accuracy: 0.0869'"),  # cut, not rounded
    ("", "nothing was printed"),
    ("Accuracy: 8.7", "printed 8.7, which is the accuracy as a percentage: print the fraction "
                      "(0.087) or add a % sign (8.7%)"),
])
def test_a_wrong_printed_number_says_what_was_expected(printed, words):
    assert words in failure(assert_printed_number, "accuracy", printed, 2 / 23)


def test_an_exact_printed_number_needs_no_decimals():
    assert_printed_number("accuracy", "Accuracy: 0.5", 0.5)
    assert_printed_number("accuracy", "Accuracy: 1", 1.0)
    assert_printed_number("accuracy", "Accuracy: 50%", 0.5)


@pytest.mark.parametrize("got", ["b", " B ", "b\n"])
def test_a_chosen_letter_is_right_whatever_its_case_and_spaces(got):
    assert_answer("q1", got, "b")


@pytest.mark.parametrize("got, message", [
    ("c", "'c' is not the right choice"), (2, "2 is not the right choice"),
])
def test_a_wrong_letter_fails(got, message):
    with pytest.raises(CheckFailed, match=message):
        assert_answer("q1", got, "b")


def test_a_pair_may_be_written_with_spaces():
    assert_answer("pair", "4, 9", "4,9")


def test_an_unanswered_question_is_unfinished_work():
    with pytest.raises(NotImplementedError, match="q1 is not answered yet"):
        assert_answer("q1", None, "b")


def test_a_number_may_be_rounded_but_not_wrong():
    assert_answer("q3", 2.30, 2.302585)
    assert_answer("q3", "2.3", 2.302585)
    with pytest.raises(CheckFailed, match="2.5 is not the right value"):
        assert_answer("q3", 2.5, 2.302585)
    with pytest.raises(CheckFailed, match="should be a number"):
        assert_answer("q3", "ln 10", 2.302585)
