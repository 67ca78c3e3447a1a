"""The forward pass of a fully connected network: the given code of the course.

Students import this module; it holds nothing that answers an exercise.

Conventions (used everywhere in the course):
    * one example per column: ``X`` is ``(n_0, m)``, layer ``l`` activations ``H`` are ``(n_l, m)``;
    * ``W{l}`` is ``(n_l, n_{l-1})`` and ``b{l}`` is ``(n_l, 1)``;
    * every forward step returns its output and a *memory* of what its backward step needs:
      ``linear_memory = (H_prev, W, b)``, ``activation_memory = Z`` and
      ``memory = (linear_memory, activation_memory)``; ``memories`` lists them input side first.

Interface:
    sigmoid(Z), relu(Z), softmax(Z)                  -> (H, activation_memory)
    linear_forward(H_prev, W, b)                     -> (Z, linear_memory)
    layer_forward(H_prev, W, b, activation)          -> (H, memory)
    L_layer_forward(X, parameters, output="softmax") -> (HL, memories)
    initialize_parameters(dimensions, scheme="course", rng=None) -> parameters
    as_generator(rng)                                -> numpy.random.Generator
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "softmax")
OUTPUTS = ("softmax", "sigmoid")
INIT_SCHEMES = ("course", "he")


def sigmoid(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic function ``1 / (1 + exp(-Z))``, element-wise.

    Args:
        Z: pre-activations, any shape, e.g. ``(n_l, m)``.

    Returns:
        ``(H, sigmoid_memory)``: ``H`` has the shape of ``Z`` with values in [0, 1];
        the memory is ``Z`` itself.
    """
    # exp(-|Z|) never overflows, so saturated units give exact 0 or 1 without a warning.
    e = np.exp(-np.abs(Z))
    H = np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return H, Z


def relu(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rectified linear unit ``max(0, Z)``, element-wise.

    Args:
        Z: pre-activations, any shape, e.g. ``(n_l, m)``.

    Returns:
        ``(H, relu_memory)``: ``H`` has the shape of ``Z``; the memory is ``Z`` itself.
    """
    return np.maximum(Z, 0), Z


def softmax(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax over each column: ``exp(Z) / sum(exp(Z))`` down the classes.

    Args:
        Z: logits ``(n_classes, m)``.

    Returns:
        ``(H, softmax_memory)``: ``H`` is ``(n_classes, m)`` with columns that sum to 1;
        the memory is ``Z`` itself.
    """
    # Subtracting each column's maximum leaves the result unchanged and keeps exp() <= 1,
    # so logits of +-1000 neither overflow nor turn into nan.
    shifted = Z - Z.max(axis=0, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=0, keepdims=True), Z


_ACTIVATION_FUNCTIONS = {"relu": relu, "sigmoid": sigmoid, "softmax": softmax}


def linear_forward(H_prev: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Affine part of a layer: ``Z = W H_prev + b``.

    Args:
        H_prev: activations of the previous layer ``(n_{l-1}, m)``.
        W: weights ``(n_l, n_{l-1})``.
        b: biases ``(n_l, 1)``, broadcast over the ``m`` columns.

    Returns:
        ``(Z, linear_memory)`` with ``Z`` of shape ``(n_l, m)`` and
        ``linear_memory = (H_prev, W, b)``.
    """
    if W.shape[1] != H_prev.shape[0]:
        raise ValueError(
            f"W has shape {W.shape} but H_prev has {H_prev.shape[0]} rows: "
            f"W must be (n_l, n_prev) with n_prev = {H_prev.shape[0]}"
        )
    if b.shape != (W.shape[0], 1):
        raise ValueError(f"b must be a column of shape {(W.shape[0], 1)}, got {b.shape}")
    return W @ H_prev + b, (H_prev, W, b)


def layer_forward(H_prev: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str = "relu"):
    """One layer: affine map then activation.

    Args:
        H_prev: ``(n_{l-1}, m)``.
        W: ``(n_l, n_{l-1})``.
        b: ``(n_l, 1)``.
        activation: ``"relu"``, ``"sigmoid"`` or ``"softmax"``.

    Returns:
        ``(H, memory)``: ``H`` is ``(n_l, m)``; ``memory = ((H_prev, W, b), Z)`` with ``Z``
        the ``(n_l, m)`` pre-activations.
    """
    if activation not in _ACTIVATION_FUNCTIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {ACTIVATIONS}")
    Z, linear_memory = linear_forward(H_prev, W, b)
    H, activation_memory = _ACTIVATION_FUNCTIONS[activation](Z)
    return H, (linear_memory, activation_memory)


def L_layer_forward(X: np.ndarray, parameters: dict, output: str = "softmax"):
    """The whole network: ReLU hidden layers, then a softmax (or sigmoid) output layer.

    Args:
        X: inputs ``(n_0, m)``.
        parameters: ``{"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL": (n_L, n_{L-1}), "bL": ...}``.
        output: ``"softmax"`` for several classes, ``"sigmoid"`` for one binary output unit.

    Returns:
        ``(HL, memories)``: ``HL`` is ``(n_L, m)``, the output probabilities; ``memories`` is
        the list of the ``L`` layer memories, input side first.
    """
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; expected one of {OUTPUTS}")
    L = number_of_layers(parameters)
    memories = []
    H = X
    for l in range(1, L + 1):
        activation = output if l == L else "relu"
        H, memory = layer_forward(H, parameters[f"W{l}"], parameters[f"b{l}"], activation)
        memories.append(memory)
    return H, memories


def number_of_layers(parameters: dict) -> int:
    """``L`` for a parameters dict holding ``W1, b1, ..., WL, bL``; checks that none is missing."""
    L = len(parameters) // 2
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    if L == 0 or set(parameters) != expected:
        raise ValueError(f"parameters must hold W1, b1, ..., WL, bL; got keys {sorted(parameters)}")
    return L


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy Generator from a seed, an existing Generator, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def initialize_parameters(
    dimensions: list[int],
    scheme: str = "course",
    rng: int | np.random.Generator | None = None,
) -> dict:
    """Random weights and zero biases for a network with layer sizes ``dimensions``.

    Args:
        dimensions: layer sizes, input first, e.g. ``[784, 45, 10]``.
        scheme: ``"course"``: standard normal times 0.01 (the course text's choice: a layer
            scales the size of its input by about ``0.01 * sqrt(n_{l-1})``, ``sqrt(2)`` less
            after a ReLU, so the logits start near 0 and the first loss near ln 10; with one
            hidden layer a good learning rate soon overcomes it, but in a deep network the
            signal and its gradients vanish);
            ``"he"``: standard normal times ``sqrt(2 / n_{l-1})``, which keeps ReLU activations
            at a steady scale.
        rng: a seed or a ``numpy.random.Generator``; None draws fresh entropy.

    Returns:
        ``{"W1": (n_1, n_0), "b1": (n_1, 1), ..., "WL", "bL"}`` in float64.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {INIT_SCHEMES}")
    if len(dimensions) < 2 or any(int(n) != n or n < 1 for n in dimensions):
        raise ValueError(
            f"dimensions must list at least two positive layer sizes, got {dimensions}"
        )
    generator = as_generator(rng)
    parameters = {}
    for l in range(1, len(dimensions)):
        n_out, n_in = dimensions[l], dimensions[l - 1]
        scale = 0.01 if scheme == "course" else np.sqrt(2.0 / n_in)
        parameters[f"W{l}"] = generator.standard_normal((n_out, n_in)) * scale
        parameters[f"b{l}"] = np.zeros((n_out, 1))
    return parameters
