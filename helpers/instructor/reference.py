"""Reference solutions of every exercise: instructor-only.

Hidden tests compare the students' functions with these. The student kit does not hold this
package (a test enforces it), so nothing here reaches students. Plain solutions only: what keeps
an answer from calling them lives in the hidden-test kit (``helpers.instructor.hidden``).

Conventions are those of ``helpers.forward``: one example per column, ``memory =
((H_prev, W, b), Z)``, and the loss is the mean over the ``m`` examples. As in the course text,
``dW`` and ``db`` are gradients of that mean loss, while activation gradients ``dH`` and ``dZ``
are taken per example: column ``j`` of ``dH`` is the gradient of example ``j``'s own loss, so the
``1/m`` of the mean is applied once, where examples are summed into ``dW`` and ``db``.
An output layer with one row is a sigmoid unit trained with binary cross-entropy; with several
rows it is a softmax trained with categorical cross-entropy. For both, ``dZ_L = HL - Y``.

Interface:
    compute_loss(HL, Y)                                   -> float
    sigmoid_backward(dH, sigmoid_memory)                  -> dZ
    relu_backward(dH, relu_memory)                        -> dZ
    linear_backward(dZ, linear_memory)                    -> (dH_prev, dW, db)
    layer_backward(dH, memory, activation="relu")         -> (dH_prev, dW, db)
    L_layer_backward(HL, Y, memories)                     -> gradients
    update_parameters(parameters, gradients, learning_rate) -> new parameters
    L_layer_model(X, Y, dimensions, learning_rate=0.0075, num_iterations=3000,
                  print_loss=False, *, init, seed, batch_size, return_losses, progress)
    predict(X, y, parameters, *, verbose=True)            -> predicted classes (m,)
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from helpers.forward import (
    L_layer_forward,
    as_generator,
    initialize_parameters,
    number_of_layers,
    sigmoid,
)
from helpers.labels import accuracy
from helpers.training import minibatches


def _safe_log(P: np.ndarray) -> np.ndarray:
    """``log(P)`` with ``P`` clipped to the smallest positive float: finite where ``P`` is 0."""
    return np.log(np.clip(P, np.finfo(np.float64).tiny, 1.0))


def compute_loss(HL: np.ndarray, Y: np.ndarray) -> float:
    """Cross-entropy averaged over the examples.

    Args:
        HL: output probabilities ``(n_L, m)``: softmax columns, or one row of sigmoid outputs.
        Y: targets of the same shape: one-hot columns, or one row of 0/1 labels.

    Returns:
        ``-1/m sum(Y log HL)`` for softmax outputs, ``-1/m sum(Y log HL + (1-Y) log(1-HL))``
        for a single sigmoid row; a Python float, finite even when a probability is 0 or 1
        (the log is taken of probabilities clipped to the smallest positive float, so a
        confident wrong answer costs about 708 instead of infinity).
    """
    _check_same_shape(HL, Y)
    m = Y.shape[1]
    log_likelihood = Y * _safe_log(HL)
    if HL.shape[0] == 1:
        log_likelihood = log_likelihood + (1 - Y) * _safe_log(1 - HL)
    return float(-np.sum(log_likelihood) / m)


def sigmoid_backward(dH: np.ndarray, sigmoid_memory: np.ndarray) -> np.ndarray:
    """Backward step of the sigmoid: ``dZ = dH * s * (1 - s)`` with ``s = sigmoid(Z)``.

    Args:
        dH: upstream gradient, shape of ``Z``.
        sigmoid_memory: ``Z``, the pre-activations the forward step received.

    Returns:
        ``dZ``, shape of ``Z``.
    """
    s, _ = sigmoid(sigmoid_memory)
    return dH * s * (1 - s)


def relu_backward(dH: np.ndarray, relu_memory: np.ndarray) -> np.ndarray:
    """Backward step of the ReLU: the gradient passes where ``Z > 0`` and is 0 elsewhere.

    Args:
        dH: upstream gradient, shape of ``Z``.
        relu_memory: ``Z``, the pre-activations the forward step received.

    Returns:
        ``dZ``, shape of ``Z`` (a new array; ``dH`` is left untouched). At ``Z == 0`` the
        derivative is taken as 0, as in the course text.
    """
    return np.where(relu_memory > 0, dH, 0.0)


def linear_backward(dZ: np.ndarray, linear_memory: tuple):
    """Backward step of ``Z = W H_prev + b``.

    Args:
        dZ: ``(n_l, m)``.
        linear_memory: ``(H_prev, W, b)`` with shapes ``(n_{l-1}, m)``, ``(n_l, n_{l-1})``,
            ``(n_l, 1)``.

    Returns:
        ``(dH_prev, dW, db)`` with shapes ``(n_{l-1}, m)``, ``(n_l, n_{l-1})``, ``(n_l, 1)``.
        ``dW`` and ``db`` carry the ``1/m`` of the mean loss; ``dH_prev`` does not, because
        each example's activations only affect that example's term.
    """
    H_prev, W, _ = linear_memory
    m = H_prev.shape[1]
    dW = dZ @ H_prev.T / m
    db = dZ.sum(axis=1, keepdims=True) / m
    dH_prev = W.T @ dZ
    return dH_prev, dW, db


_ACTIVATION_BACKWARD = {"relu": relu_backward, "sigmoid": sigmoid_backward}


def layer_backward(dH: np.ndarray, memory: tuple, activation: str = "relu"):
    """Backward step of one layer (activation, then the affine map).

    Args:
        dH: gradient w.r.t. this layer's activations ``(n_l, m)``.
        memory: ``((H_prev, W, b), Z)`` from ``layer_forward``.
        activation: ``"relu"`` or ``"sigmoid"``.

    Returns:
        ``(dH_prev, dW, db)`` with shapes ``(n_{l-1}, m)``, ``(n_l, n_{l-1})``, ``(n_l, 1)``.
    """
    if activation not in _ACTIVATION_BACKWARD:
        raise ValueError(
            f"unknown activation {activation!r}; expected one of {tuple(_ACTIVATION_BACKWARD)}"
        )
    linear_memory, activation_memory = memory
    dZ = _ACTIVATION_BACKWARD[activation](dH, activation_memory)
    return linear_backward(dZ, linear_memory)


def L_layer_backward(HL: np.ndarray, Y: np.ndarray, memories: list) -> dict:
    """Gradients of the mean cross-entropy for the whole network.

    Args:
        HL: output probabilities ``(n_L, m)`` (softmax columns or one sigmoid row).
        Y: targets of the same shape (or of the same size, e.g. labels ``(m,)`` for one row).
        memories: the ``L`` memories of ``L_layer_forward``, input side first.

    Returns:
        ``gradients`` with ``dW{l}`` ``(n_l, n_{l-1})`` and ``db{l}`` ``(n_l, 1)`` for
        ``l = 1..L``, and ``dH{l}`` ``(n_l, m)`` for ``l = 0..L-1`` (``dH{L-1}`` is the
        gradient w.r.t. the last hidden activations, ``dH0`` w.r.t. the inputs).

    Softmax with cross-entropy and sigmoid with binary cross-entropy both give
    ``dZ_L = HL - Y``: computing it directly never divides by ``HL`` or ``1 - HL``, so
    saturated outputs are harmless.
    """
    if np.size(Y) != np.size(HL):
        raise ValueError(f"Y has {np.size(Y)} entries, HL has shape {HL.shape}")
    Y = np.reshape(Y, HL.shape)
    L = len(memories)
    gradients = {}
    linear_memory, _ = memories[-1]
    dH_prev, dW, db = linear_backward(HL - Y, linear_memory)
    gradients[f"dH{L - 1}"], gradients[f"dW{L}"], gradients[f"db{L}"] = dH_prev, dW, db
    for l in reversed(range(1, L)):
        dH_prev, dW, db = layer_backward(gradients[f"dH{l}"], memories[l - 1], "relu")
        gradients[f"dH{l - 1}"], gradients[f"dW{l}"], gradients[f"db{l}"] = dH_prev, dW, db
    return gradients


def update_parameters(parameters: dict, gradients: dict, learning_rate: float) -> dict:
    """One step of gradient descent: ``W{l} - learning_rate * dW{l}`` (and likewise ``b``).

    Args:
        parameters: ``W1, b1, ..., WL, bL``.
        gradients: at least ``dW1, db1, ..., dWL, dbL`` of the same shapes.
        learning_rate: the step size, a positive float.

    Returns:
        A new parameters dict; the one passed in is left untouched.
    """
    L = number_of_layers(parameters)
    updated = {}
    for l in range(1, L + 1):
        for name in (f"W{l}", f"b{l}"):
            updated[name] = parameters[name] - learning_rate * gradients[f"d{name}"]
    return updated


def L_layer_model(
    X: np.ndarray,
    Y: np.ndarray,
    dimensions: list[int],
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    print_loss: bool = False,
    *,
    init: str = "course",
    seed: int | np.random.Generator | None = None,
    batch_size: int | None = None,
    return_losses: bool = False,
    progress: bool = False,
):
    """Train the network by gradient descent.

    The first six arguments and their defaults are the course text's. Its recipe (``init=
    "course"``, learning rate 0.0075) learns slowly; ``init="he"`` with a learning rate near
    0.5 full-batch, or 0.1 with ``batch_size=64``, reaches better accuracy many times faster.

    Args:
        X: inputs ``(n_0, m)``.
        Y: targets ``(n_L, m)`` (one-hot columns, or one 0/1 row for a sigmoid output).
        dimensions: layer sizes, input first; ``dimensions[-1] == 1`` means a sigmoid output.
        learning_rate: step size.
        num_iterations: number of gradient steps (full-batch, or one minibatch each).
        print_loss: print the loss every 100 iterations.
        init: ``"course"`` or ``"he"``, see ``initialize_parameters``.
        seed: a seed or Generator for the initial weights and the minibatch order.
        batch_size: None for full-batch descent, else the minibatch size; examples are
            reshuffled at the start of every pass over the data.
        return_losses: also return the loss of every iteration (of its minibatch).
        progress: show a progress bar.

    Returns:
        ``parameters``, or ``(parameters, losses)`` when ``return_losses`` is set.
    """
    if num_iterations < 0 or learning_rate <= 0:
        raise ValueError("num_iterations must be >= 0 and learning_rate > 0")
    rng = as_generator(seed)
    output = "sigmoid" if dimensions[-1] == 1 else "softmax"
    parameters = initialize_parameters(dimensions, scheme=init, rng=rng)
    batches = minibatches(X.shape[1], batch_size, rng)
    losses = []
    for i in tqdm(range(num_iterations), disable=not progress, desc="training"):
        columns = next(batches)
        X_batch, Y_batch = (X, Y) if columns is None else (X[:, columns], Y[:, columns])
        HL, memories = L_layer_forward(X_batch, parameters, output=output)
        loss = compute_loss(HL, Y_batch)
        gradients = L_layer_backward(HL, Y_batch, memories)
        parameters = update_parameters(parameters, gradients, learning_rate)
        losses.append(loss)
        if print_loss and i % 100 == 0:
            print(f"loss after iteration {i}: {loss:.6f}")
    return (parameters, losses) if return_losses else parameters


def predict(X: np.ndarray, y: np.ndarray, parameters: dict, *, verbose: bool = True):
    """Predicted classes of a trained network, with its accuracy on the true labels.

    Args:
        X: inputs ``(n_0, m)``.
        y: true labels: one-hot ``(n_L, m)``, a 0/1 row ``(1, m)`` or integers ``(m,)``.
        parameters: trained parameters.
        verbose: print the accuracy.

    Returns:
        Predicted classes ``(m,)`` as integers: the most probable class for a softmax output,
        ``HL > 0.5`` for a sigmoid output.
    """
    output = (
        "sigmoid" if parameters[f"W{number_of_layers(parameters)}"].shape[0] == 1 else "softmax"
    )
    HL, _ = L_layer_forward(X, parameters, output=output)
    predictions = (HL[0] > 0.5).astype(int) if output == "sigmoid" else HL.argmax(axis=0)
    if verbose:
        print(f"Accuracy: {accuracy(predictions, y):.4f}")
    return predictions


def _check_same_shape(HL: np.ndarray, Y: np.ndarray) -> None:
    if HL.shape != Y.shape:
        raise ValueError(f"HL has shape {HL.shape} but Y has shape {Y.shape}; they must match")
