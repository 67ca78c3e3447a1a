"""The reference solutions: every backward function and the whole network against numerical
gradients (one contract test over all of them), the course text's worked sample, saturation,
and inputs left untouched.

Tolerance: float64 centred differences with h = 1e-5 agree with a correct analytic gradient to
a relative error far below 1e-7. ReLU's kink is the one place they cannot agree (the two
evaluations straddle it), so the inputs are drawn with every pre-activation at least 1e-3 away
from zero (``helpers.gradcheck.random_network`` and ``random_layer``,
``away_from_kink`` here) and the bound stays 1e-7.
"""

import copy

import numpy as np
import pytest

from helpers.forward import L_layer_forward, layer_forward, sigmoid
from helpers.gradcheck import (
    numerical_gradient,
    numerical_gradient_array,
    numerical_parameter_gradients,
    random_layer,
    random_network,
    rel_error,
)
from helpers.instructor import reference as ref
from helpers.labels import accuracy

TOLERANCE = 1e-7


def away_from_kink(rng, shape):
    """Standard normal values pushed at least 0.1 away from 0."""
    Z = rng.standard_normal(shape)
    return Z + np.sign(Z) * 0.1 + (Z == 0) * 0.1


# ---------------------------------------------------------------- contract over backward steps
# Each case returns (name, analytic gradients, numerical gradients) for one backward function.


def case_sigmoid_backward(rng):
    Z, dH = rng.standard_normal((4, 5)) * 3, rng.standard_normal((4, 5))
    numeric = numerical_gradient_array(lambda: sigmoid(Z)[0], Z, dH)
    return [("dZ", ref.sigmoid_backward(dH, Z), numeric)]


def case_relu_backward(rng):
    Z, dH = away_from_kink(rng, (4, 5)), rng.standard_normal((4, 5))
    numeric = numerical_gradient_array(lambda: np.maximum(Z, 0), Z, dH)
    return [("dZ", ref.relu_backward(dH, Z), numeric)]


def _layer_case(rng, activation):
    dH, memory = random_layer(rng, 3, 4, 6, activation)
    (H_prev, W, b), _ = memory
    dH_prev, dW, db = ref.layer_backward(dH, memory, activation)
    out = lambda: layer_forward(H_prev, W, b, activation)[0]  # noqa: E731
    return [
        ("dH_prev", dH_prev, numerical_gradient_array(out, H_prev, dH)),
        ("dW", dW, numerical_gradient_array(out, W, dH) / H_prev.shape[1]),
        ("db", db, numerical_gradient_array(out, b, dH) / H_prev.shape[1]),
    ]


def case_layer_backward_relu(rng):
    return _layer_case(rng, "relu")


def case_layer_backward_sigmoid(rng):
    return _layer_case(rng, "sigmoid")


def _network_case(rng, dimensions, output):
    """Every gradient of L_layer_backward against differences of compute_loss o L_layer_forward."""
    parameters, X, Y = random_network(rng, dimensions, output=output)

    def loss(params):
        return ref.compute_loss(L_layer_forward(X, params, output=output)[0], Y)

    HL, memories = L_layer_forward(X, parameters, output=output)
    gradients = ref.L_layer_backward(HL, Y, memories)
    numeric = numerical_parameter_gradients(loss, parameters)
    # dH carries no 1/m (see helpers.instructor.reference): it is the gradient of the summed loss.
    numeric["dH0"] = numerical_gradient(lambda: loss(parameters), X) * X.shape[1]
    assert set(gradients) >= set(numeric)
    return [(name, gradients[name], numeric[name]) for name in sorted(numeric)]


def case_network_softmax_one_hidden(rng):
    return _network_case(rng, [6, 5, 4], "softmax")


def case_network_softmax_three_hidden(rng):
    return _network_case(rng, [5, 6, 4, 3, 4], "softmax")


def case_network_softmax_no_hidden(rng):
    return _network_case(rng, [5, 3], "softmax")


def case_network_sigmoid_output(rng):
    return _network_case(rng, [6, 4, 3, 1], "sigmoid")


CASES = [
    case_sigmoid_backward,
    case_relu_backward,
    case_layer_backward_relu,
    case_layer_backward_sigmoid,
    case_network_softmax_one_hidden,
    case_network_softmax_three_hidden,
    case_network_softmax_no_hidden,
    case_network_sigmoid_output,
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.removeprefix("case_"))
@pytest.mark.parametrize("seed", range(3))
def test_backward_matches_numerical_gradient(case, seed):
    for name, analytic, numeric in case(np.random.default_rng(seed)):
        assert analytic.shape == numeric.shape, name
        assert rel_error(analytic, numeric) < TOLERANCE, (name, rel_error(analytic, numeric))


def test_contract_covers_every_backward_function():
    backward = {
        name for name in dir(ref) if name.endswith("_backward") and not name.startswith("_")
    }
    covered = {"sigmoid_backward", "relu_backward", "layer_backward", "L_layer_backward"}
    # linear_backward is exercised through layer_backward and L_layer_backward
    assert backward - covered == {"linear_backward"}


def test_a_wrong_gradient_fails_the_check(rng):
    """The check has teeth: dropping the 1/m of dW is caught."""
    (_, dH_prev, _), (_, dW, numeric_dW), _ = case_layer_backward_sigmoid(rng)
    assert rel_error(dW * 6, numeric_dW) > 0.5


# ---------------------------------------------------------------- the course text's sample
def test_layer_backward_on_the_course_sample():
    H_prev = np.array([[1.0, 0, 5, 10, 2], [2, 5, 3, 10, 2]])
    W = np.array([[10.0, 5], [2, 0], [1, 0]])
    b = np.array([[10.0], [5], [0]])
    # the text's `np.random.seed(2); dH = np.random.rand(3, 5)`, without touching global state
    dH = np.random.RandomState(2).rand(3, 5)
    _, memory = layer_forward(H_prev, W, b, "relu")
    dH_prev, dW, db = ref.layer_backward(dH, memory, "relu")

    # Independent computation, one scalar at a time, straight from the chain rule.
    m = 5
    Z = [
        [sum(W[i][k] * H_prev[k][j] for k in range(2)) + b[i][0] for j in range(m)]
        for i in range(3)
    ]
    dZ = [[dH[i][j] if Z[i][j] > 0 else 0.0 for j in range(m)] for i in range(3)]
    expected_dW = [
        [sum(dZ[i][j] * H_prev[k][j] for j in range(m)) / m for k in range(2)] for i in range(3)
    ]
    expected_db = [[sum(dZ[i]) / m] for i in range(3)]
    expected_dH_prev = [
        [sum(W[i][k] * dZ[i][j] for i in range(3)) for j in range(m)] for k in range(2)
    ]
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-12)
    np.testing.assert_allclose(db, expected_db, rtol=1e-12)
    np.testing.assert_allclose(dH_prev, expected_dH_prev, rtol=1e-12)
    # Every Z here is positive except in the third row's second example (0): that unit is off.
    assert Z[2][1] == 0 and dZ[2][1] == 0.0


# ---------------------------------------------------------------- loss and saturation
def test_loss_of_uniform_guess_is_ln_10_and_of_perfect_guess_is_0():
    Y = np.eye(10)[:, [3, 1, 4, 1, 5]]
    assert ref.compute_loss(np.full((10, 5), 0.1), Y) == pytest.approx(np.log(10))
    assert ref.compute_loss(Y.copy(), Y) == 0.0


def test_loss_on_a_small_example_from_its_definition():
    HL = np.array([[0.5, 0.25, 0.125], [0.5, 0.75, 0.875]])
    Y = np.array([[1.0, 1, 1], [0, 0, 0]])
    assert ref.compute_loss(HL, Y) == pytest.approx(np.log(2) * (1 + 2 + 3) / 3)


def test_loss_stays_finite_when_outputs_saturate():
    Y = np.eye(3)[:, [0, 1, 2]]
    HL = np.eye(3)[:, [1, 1, 0]]  # two confidently wrong answers with probability exactly 0
    loss = ref.compute_loss(HL, Y)
    assert np.isfinite(loss) and loss > 400
    binary = ref.compute_loss(np.array([[0.0, 1.0, 1.0]]), np.array([[1.0, 0.0, 1.0]]))
    assert np.isfinite(binary) and binary > 400


def test_binary_loss_is_binary_cross_entropy():
    HL, Y = np.array([[0.9, 0.2]]), np.array([[1.0, 0.0]])
    assert ref.compute_loss(HL, Y) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2)


def test_gradients_stay_finite_for_saturated_network(rng):
    parameters, X, Y = random_network(rng, [5, 4, 3])
    parameters["W2"] *= 1e4  # softmax outputs of exactly 0 and 1
    HL, memories = L_layer_forward(X, parameters)
    assert np.any(HL == 0)
    gradients = ref.L_layer_backward(HL, Y, memories)
    assert all(np.all(np.isfinite(g)) for g in gradients.values())
    assert np.isfinite(ref.compute_loss(HL, Y))


def test_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        ref.compute_loss(np.full((10, 3), 0.1), np.zeros((10, 4)))


# ---------------------------------------------------------------- update, model, predict
def test_update_parameters_takes_a_step_against_the_gradient(rng):
    parameters, X, Y = random_network(rng, [5, 4, 3])
    gradients = {f"d{k}": rng.standard_normal(v.shape) for k, v in parameters.items()}
    new = ref.update_parameters(parameters, gradients, 0.1)
    for name, value in parameters.items():
        np.testing.assert_allclose(new[name], value - 0.1 * gradients[f"d{name}"])


def test_a_tiny_batch_is_overfitted(rng):
    X = rng.standard_normal((8, 5))
    Y = np.eye(3)[:, [0, 1, 2, 1, 0]]
    parameters, losses = ref.L_layer_model(
        X,
        Y,
        [8, 16, 3],
        learning_rate=0.5,
        num_iterations=300,
        init="he",
        seed=0,
        return_losses=True,
    )
    assert losses[-1] < 0.01
    np.testing.assert_array_equal(ref.predict(X, Y, parameters, verbose=False), [0, 1, 2, 1, 0])


def test_initial_loss_with_small_weights_is_ln_of_the_number_of_classes(rng):
    X, Y = rng.random((784, 50)), np.eye(10)[:, rng.integers(0, 10, 50)]
    _, losses = ref.L_layer_model(X, Y, [784, 45, 10], num_iterations=1, seed=0, return_losses=True)
    assert losses[0] == pytest.approx(np.log(10), abs=0.01)


def test_model_is_reproducible_with_a_seed_and_counts_iterations(rng):
    X, Y = rng.standard_normal((6, 20)), np.eye(4)[:, rng.integers(0, 4, 20)]
    kwargs = dict(num_iterations=7, init="he", seed=3, batch_size=5, return_losses=True)
    p1, l1 = ref.L_layer_model(X, Y, [6, 5, 4], 0.1, **kwargs)
    p2, l2 = ref.L_layer_model(X, Y, [6, 5, 4], 0.1, **kwargs)
    assert len(l1) == 7 and l1 == l2
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)


def test_model_prints_loss_every_100_iterations(rng, capsys):
    X, Y = rng.standard_normal((4, 6)), np.eye(2)[:, rng.integers(0, 2, 6)]
    ref.L_layer_model(X, Y, [4, 3, 2], num_iterations=201, print_loss=True, seed=0)
    assert capsys.readouterr().out.count("loss after iteration") == 3


def test_predict_accepts_one_hot_and_integer_labels_and_reports_accuracy(rng, capsys):
    parameters, X, Y = random_network(rng, [5, 4, 3], m=8)
    predicted = ref.predict(X, Y, parameters)
    HL, _ = L_layer_forward(X, parameters)
    np.testing.assert_array_equal(predicted, HL.argmax(axis=0))
    expected = np.mean(predicted == Y.argmax(axis=0))
    assert f"Accuracy: {expected:.4f}" in capsys.readouterr().out
    assert accuracy(predicted, Y.argmax(axis=0)) == expected


def test_predict_thresholds_a_sigmoid_output(rng):
    parameters, X, Y = random_network(rng, [5, 4, 1], m=8, output="sigmoid")
    HL, _ = L_layer_forward(X, parameters, output="sigmoid")
    np.testing.assert_array_equal(
        ref.predict(X, Y, parameters, verbose=False), (HL[0] > 0.5).astype(int)
    )


# ---------------------------------------------------------------- inputs are left untouched
def test_no_reference_function_mutates_its_inputs(rng):
    parameters, X, Y = random_network(rng, [5, 4, 3])
    HL, memories = L_layer_forward(X, parameters)
    dH = rng.standard_normal(memories[0][1].shape)
    gradients = ref.L_layer_backward(HL, Y, memories)
    snapshot = copy.deepcopy((parameters, X, Y, HL, memories, dH, gradients))

    ref.compute_loss(HL, Y)
    ref.relu_backward(dH, memories[0][1])
    ref.sigmoid_backward(dH, memories[0][1])
    ref.layer_backward(dH, memories[0], "relu")
    ref.L_layer_backward(HL, Y, memories)
    ref.update_parameters(parameters, gradients, 0.5)
    ref.predict(X, Y, parameters, verbose=False)

    after = (parameters, X, Y, HL, memories, dH, gradients)
    for before_item, after_item in zip(_leaves(snapshot), _leaves(after), strict=True):
        np.testing.assert_array_equal(before_item, after_item)


def _leaves(tree):
    if isinstance(tree, dict):
        for key in sorted(tree):
            yield from _leaves(tree[key])
    elif isinstance(tree, (list, tuple)):
        for item in tree:
            yield from _leaves(item)
    else:
        yield tree
