"""helpers.instructor.hidden: the hidden tests' tools, and the random cases and numerical
gradients of helpers.gradcheck they use, checked against the reference.

The student's answer called with reference versions of earlier steps and on copies of its
inputs, warnings silenced, random cases away from ReLU's kink.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import answers
from helpers.answers import load_answers
from helpers.forward import L_layer_forward
from helpers.gradcheck import (
    numerical_activation_backward,
    numerical_layer_backward,
    numerical_network_gradients,
    random_layer,
    random_network,
)
from helpers.instructor import hidden, judge, reference
from helpers.instructor.hidden import quiet

REFERENCE = reference.__name__

# ---------------------------------------------------------------- call


def student_namespace(code: str) -> dict:
    namespace = {"np": np}
    exec(code, namespace)
    return namespace


def test_call_runs_the_student_function_with_reference_versions_and_stand_ins():
    namespace = student_namespace(
        "def layer_backward(dH, Z):\n    return relu_backward(dH, Z) * scale()\n"
    )
    Z, dH = np.array([[-1.0, 2.0]]), np.array([[3.0, 4.0]])
    got = hidden.call(
        namespace, "layer_backward", dH, Z, uses=("relu_backward",), stand_ins={"scale": lambda: 2}
    )
    np.testing.assert_array_equal(got, [[0.0, 8.0]])
    assert set(namespace) == {"np", "layer_backward", "__builtins__"}  # bindings restored


def test_call_hands_copies_so_changes_in_place_never_reach_the_test():
    namespace = student_namespace("def update_parameters(p):\n    p['W1'] -= 1\n    return p\n")
    parameters = {"W1": np.ones((2, 2))}
    got = hidden.call(namespace, "update_parameters", parameters)
    np.testing.assert_array_equal(parameters["W1"], np.ones((2, 2)))
    np.testing.assert_array_equal(got["W1"], np.zeros((2, 2)))


def test_call_with_unchanged_fails_an_answer_that_changes_its_inputs():
    namespace = student_namespace("def relu_backward(dH, Z):\n    dH[Z <= 0] = 0\n    return dH\n")
    Z, dH = np.array([-1.0, 1.0]), np.array([5.0, 6.0])
    assert hidden.call(namespace, "relu_backward", dH, Z).tolist() == [0.0, 6.0]
    with pytest.raises(AssertionError, match="relu_backward changed its inputs"):
        hidden.call(namespace, "relu_backward", dH, Z, unchanged=True)


def test_start_gives_a_seeded_generator():
    assert hidden.start(7).integers(0, 1000) == np.random.default_rng(7).integers(0, 1000)


# ---------------------------------------------------------------- quiet


def test_quiet_silences_numpy_warnings():
    with quiet():
        assert np.log(np.array(0.0)) == -np.inf
        assert np.isnan(np.array(0.0) / np.array(0.0))
        warnings.warn("hidden", RuntimeWarning, stacklevel=1)
    with pytest.raises(RuntimeWarning):  # the error filter is back afterwards
        np.log(np.array(0.0))


# ---------------------------------------------------------------- random cases


@pytest.mark.parametrize("dimensions", [[5, 4, 3], [6, 4, 4, 10], [3, 2]])
def test_random_network_shapes_and_one_hot_targets(rng, dimensions):
    parameters, X, Y = random_network(rng, dimensions, m=7)
    for l in range(1, len(dimensions)):
        assert parameters[f"W{l}"].shape == (dimensions[l], dimensions[l - 1])
        assert parameters[f"b{l}"].shape == (dimensions[l], 1)
        assert np.any(parameters[f"b{l}"] != 0)  # random biases, not zeros
    assert len(parameters) == 2 * (len(dimensions) - 1)
    assert X.shape == (dimensions[0], 7)
    assert Y.shape == (dimensions[-1], 7)
    assert set(np.unique(Y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(Y.sum(axis=0), np.ones(7))


def test_random_network_sigmoid_output_has_a_0_1_row(rng):
    parameters, X, Y = random_network(rng, [4, 3, 1], m=9, output="sigmoid")
    assert X.shape == (4, 9)
    assert Y.shape == (1, 9)
    assert set(np.unique(Y)) <= {0.0, 1.0}
    HL, _ = L_layer_forward(X, parameters, output="sigmoid")
    assert HL.shape == (1, 9)


def test_random_network_default_m_is_4(rng):
    _, X, Y = random_network(rng, [3, 2, 2])
    assert X.shape == (3, 4) and Y.shape == (2, 4)


@pytest.mark.parametrize("seed", range(5))
def test_random_network_hidden_pre_activations_avoid_the_kink(seed):
    rng = np.random.default_rng(seed)
    parameters, X, _ = random_network(rng, [3, 8, 8, 3], m=20)
    _, memories = L_layer_forward(X, parameters)
    for _, Z in memories[:-1]:
        assert np.min(np.abs(Z)) > 1e-3


def test_random_network_is_reproducible():
    first = random_network(np.random.default_rng(7), [4, 3, 2])
    second = random_network(np.random.default_rng(7), [4, 3, 2])
    for a, b in zip(first[0].values(), second[0].values(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2], second[2])


@pytest.mark.parametrize("seed", range(5))
def test_random_layer_shapes_and_kink(seed):
    rng = np.random.default_rng(seed)
    dH, ((H_prev, W, b), Z) = random_layer(rng, 3, 6, 10, "relu")
    assert dH.shape == (6, 10)
    assert H_prev.shape == (3, 10) and W.shape == (6, 3) and b.shape == (6, 1)
    np.testing.assert_allclose(Z, W @ H_prev + b)
    assert np.min(np.abs(Z)) > 1e-3


def test_random_layer_sigmoid(rng):
    dH, ((H_prev, W, b), Z) = random_layer(rng, 2, 1, 5, "sigmoid")
    assert dH.shape == (1, 5) and Z.shape == (1, 5)
    assert H_prev.shape == (2, 5) and W.shape == (1, 2) and b.shape == (1, 1)


# ---------------------------------------------------------------- numerical_*


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_numerical_backward_agrees_with_the_reference(rng, activation):
    dH, memory = random_layer(rng, 4, 3, 5, activation)
    Z = memory[1]
    backward = {"relu": reference.relu_backward, "sigmoid": reference.sigmoid_backward}[activation]
    np.testing.assert_allclose(
        numerical_activation_backward(dH, Z, activation), backward(dH, Z), rtol=1e-6, atol=1e-9
    )
    for numeric, exact in zip(
        numerical_layer_backward(dH, memory, activation),
        reference.layer_backward(dH, memory, activation),
        strict=True,
    ):
        np.testing.assert_allclose(numeric, exact, rtol=1e-6, atol=1e-9)
    assert np.array_equal(memory[1], Z), "the memory must be left as it was"


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_numerical_network_gradients_follow_the_course_convention(rng, output):
    dimensions = [5, 4, 3] if output == "softmax" else [5, 4, 1]
    parameters, X, Y = random_network(rng, dimensions, m=6, output=output)
    HL, memories = L_layer_forward(X, parameters, output=output)
    exact = reference.L_layer_backward(HL, Y, memories)
    numeric = numerical_network_gradients(
        parameters, X, lambda HL: reference.compute_loss(HL, Y), output
    )
    assert set(numeric) == {"dW1", "db1", "dW2", "db2", "dH0"}
    for name, value in numeric.items():
        np.testing.assert_allclose(value, exact[name], rtol=1e-5, atol=1e-8, err_msg=name)
    # a missing 1/m is told apart
    assert not np.allclose(numeric["dW1"], exact["dW1"] * 6)


def test_only_the_tests_namespace_gets_earlier_answers_from_the_reference(tmp_path, monkeypatch):
    """The grading process builds its tests' namespace inside answers_from; a kernel, graded
    or not, keeps the student's own. helpers.answers names no instructor module."""
    stub = "def compute_loss(HL, Y):\n    raise NotImplementedError\n"
    cell = nbformat.v4.new_code_cell(stub, metadata={"nbgrader": {"solution": True}})
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "01_loss.ipynb")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    def loaded():
        return load_answers("01_loss.ipynb", "compute_loss", folder=tmp_path)

    assert loaded() is not reference.compute_loss
    with answers.answers_from(judge._reference_versions):
        assert loaded() is reference.compute_loss
    assert loaded() is not reference.compute_loss
    assert "helpers.instructor" not in Path(answers.__file__).read_text()
