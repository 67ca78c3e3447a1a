"""The given forward pass: shapes, memories, numerical stability and seeded initialisation."""

import numpy as np
import pytest

from helpers.forward import (
    L_layer_forward,
    initialize_parameters,
    layer_forward,
    relu,
    sigmoid,
    softmax,
)


def test_activations_return_values_and_their_input_as_memory(rng):
    Z = rng.standard_normal((3, 5))
    for activation in (sigmoid, relu, softmax):
        H, memory = activation(Z)
        assert H.shape == Z.shape
        assert memory is Z


def test_sigmoid_matches_definition_and_saturates_without_warnings():
    Z = np.array([[-1000.0, -20.0, -1.0, 0.0, 1.0, 20.0, 1000.0]])
    H, _ = sigmoid(Z)  # RuntimeWarnings are errors under pytest's settings here
    expected = np.array(
        [
            [
                0.0,
                1 / (1 + np.exp(20)),
                1 / (1 + np.e),
                0.5,
                1 / (1 + np.exp(-1)),
                1 / (1 + np.exp(-20)),
                1.0,
            ]
        ]
    )
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=0)


def test_relu_zeroes_negatives_only():
    H, _ = relu(np.array([[-2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(H, [[0.0, 0.0, 3.0]])


def test_softmax_columns_sum_to_one_and_survive_huge_logits():
    Z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1.0], [999.0, 1000.0, 2.0]])
    H, _ = softmax(Z)
    assert np.all(np.isfinite(H))
    np.testing.assert_allclose(H.sum(axis=0), 1.0)
    # first column: exp(0) vs exp(-1) (the third logit is 1 below the first), second: one-hot
    np.testing.assert_allclose(H[:, 0], [1 / (1 + np.exp(-1)), 0, np.exp(-1) / (1 + np.exp(-1))])
    np.testing.assert_allclose(H[:, 1], [0, 0, 1])
    small = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(H[:, 2], np.exp(small) / np.exp(small).sum())


def test_layer_forward_memory_layout(rng):
    H_prev, W, b = (
        rng.standard_normal((4, 6)),
        rng.standard_normal((3, 4)),
        rng.standard_normal((3, 1)),
    )
    H, ((H_prev_m, W_m, b_m), Z) = layer_forward(H_prev, W, b, "relu")
    assert H_prev_m is H_prev and W_m is W and b_m is b
    np.testing.assert_allclose(Z, W @ H_prev + b)
    np.testing.assert_allclose(H, np.maximum(Z, 0))


def test_layer_forward_rejects_bad_shapes_and_names(rng):
    H_prev, W = rng.standard_normal((4, 6)), rng.standard_normal((3, 5))
    with pytest.raises(ValueError, match="n_prev = 4"):
        layer_forward(H_prev, W, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="column"):
        layer_forward(H_prev, W[:, :4], np.zeros(3))
    with pytest.raises(ValueError, match="unknown activation"):
        layer_forward(H_prev, W[:, :4], np.zeros((3, 1)), "tanh")


@pytest.mark.parametrize("output, n_out", [("softmax", 10), ("sigmoid", 1)])
def test_L_layer_forward_shapes_and_one_memory_per_layer(rng, output, n_out):
    parameters = initialize_parameters([784, 45, 20, n_out], scheme="he", rng=rng)
    X = rng.random((784, 7))
    HL, memories = L_layer_forward(X, parameters, output=output)
    assert HL.shape == (n_out, 7)
    assert len(memories) == 3
    assert memories[0][0][0] is X
    assert [memory[1].shape for memory in memories] == [(45, 7), (20, 7), (n_out, 7)]
    if output == "softmax":
        np.testing.assert_allclose(HL.sum(axis=0), 1.0)
    else:
        assert np.all((HL > 0) & (HL < 1))


def test_L_layer_forward_rejects_incomplete_parameters(rng):
    parameters = initialize_parameters([4, 3, 2], rng=rng)
    del parameters["b2"]
    with pytest.raises(ValueError, match="W1, b1"):
        L_layer_forward(rng.random((4, 2)), parameters)


def test_initialisation_is_seeded_shaped_and_scaled():
    dims = [784, 200, 10]
    a = initialize_parameters(dims, scheme="he", rng=0)
    b = initialize_parameters(dims, scheme="he", rng=np.random.default_rng(0))
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert a["W1"].shape == (200, 784) and a["b1"].shape == (200, 1) and a["W2"].shape == (10, 200)
    assert not np.any(a["b1"]) and not np.any(a["b2"])
    assert abs(a["W1"].std() - np.sqrt(2 / 784)) < 0.05 * np.sqrt(2 / 784)
    course = initialize_parameters(dims, scheme="course", rng=0)
    assert abs(course["W1"].std() - 0.01) < 0.0005


def test_initialisation_leaves_global_random_state_alone():
    np.random.seed(7)  # noqa: NPY002 - the global state is what this test watches
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    initialize_parameters([5, 4, 3], rng=1)
    assert np.random.random() == expected  # noqa: NPY002


@pytest.mark.parametrize("dims", [[784], [784, 0, 10], [784, 4.5, 10]])
def test_initialisation_rejects_bad_dimensions(dims):
    with pytest.raises(ValueError, match="dimensions"):
        initialize_parameters(dims)
