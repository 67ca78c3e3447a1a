"""The numerical gradient itself, checked against derivatives known in closed form."""

import numpy as np
import pytest

from helpers.gradcheck import (
    numerical_gradient,
    numerical_gradient_array,
    numerical_parameter_gradients,
    rel_error,
)


def test_numerical_gradient_of_a_quadratic_and_restores_x(rng):
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    before = x.copy()
    grad = numerical_gradient(lambda: x @ A @ x, x)
    np.testing.assert_array_equal(x, before)
    assert rel_error(grad, (A + A.T) @ x) < 1e-9


def test_numerical_gradient_array_applies_the_upstream_gradient(rng):
    x = rng.standard_normal((3, 2))
    df = rng.standard_normal((3, 2))
    grad = numerical_gradient_array(lambda: np.sin(x), x, df)
    assert rel_error(grad, np.cos(x) * df) < 1e-9


def test_numerical_parameter_gradients_names_and_values(rng):
    params = {"W1": rng.standard_normal((2, 3)), "b1": rng.standard_normal((2, 1))}
    grads = numerical_parameter_gradients(
        lambda p: np.sum(p["W1"] ** 2) + 3 * p["b1"].sum(), params
    )
    assert set(grads) == {"dW1", "db1"}
    assert rel_error(grads["dW1"], 2 * params["W1"]) < 1e-9
    assert rel_error(grads["db1"], np.full((2, 1), 3.0)) < 1e-9


def test_rel_error_is_zero_for_equal_and_large_for_different():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / 4.2)
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.ones(2), np.ones(3))


def test_integer_arrays_are_refused():
    with pytest.raises(TypeError, match="float"):
        numerical_gradient(lambda: 0.0, np.arange(3))
