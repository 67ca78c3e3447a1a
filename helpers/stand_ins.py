"""Stand-ins for the exercises of earlier notebooks, for the visible tests.

A test of notebook 3 or 4 calls the student's function, which calls the student's answers to
earlier notebooks. Judged with those, a mistake made once would cost points in every later
notebook, and the student's check would disagree with grading (which gives the tests the
reference versions). So the visible tests put these in their place: the same steps computed
by centred differences of the forward pass, which hold no answer.

Interface:
    activation_backward_stand_ins() -> {"relu_backward": f, "sigmoid_backward": g}
    layer_backward_stand_in(memories, *, numerical=True) -> f(dH, memory, activation="relu")
"""

from __future__ import annotations

import numpy as np

from helpers.checks import CheckFailed
from helpers.gradcheck import numerical_activation_backward, numerical_layer_backward


def activation_backward_stand_ins() -> dict:
    """``relu_backward`` and ``sigmoid_backward`` by centred differences (notebook 2's)."""
    return {
        "relu_backward": lambda dH, Z: numerical_activation_backward(dH, Z, "relu"),
        "sigmoid_backward": lambda dH, Z: numerical_activation_backward(dH, Z, "sigmoid"),
    }


def layer_backward_stand_in(memories: list, *, numerical: bool = True):
    """A ``layer_backward`` (notebook 3's) for a network whose layer memories are ``memories``.

    With ``numerical=True`` it returns ``(dH_prev, dW, db)`` by centred differences, after
    checking that it was called as the loop of ``L_layer_backward`` must call it: with a
    hidden layer's memory, the gradient of that layer's output and ``"relu"``. With
    ``numerical=False`` it checks nothing and returns zeros of the right shapes (for tests of
    the output layer alone).
    """

    def layer_backward(dH, memory, activation="relu"):
        (H_prev, W, b), _ = memory
        if not numerical:
            return np.zeros_like(H_prev), np.zeros_like(W), np.zeros_like(b)
        layer = _layer_of(memory, memories)
        _check_call(dH, memory, activation, layer, memories)
        return numerical_layer_backward(np.asarray(dH, dtype=float), memory, activation)

    return layer_backward


def _layer_of(memory, memories: list) -> int | None:
    """The layer (1 to L) whose memory ``memory`` is, compared by value."""
    (_, W, _), Z = memory
    for layer, ((_, W_l, _), Z_l) in enumerate(memories, start=1):
        if np.shape(W) == np.shape(W_l) and np.array_equal(W, W_l) and np.array_equal(Z, Z_l):
            return layer
    return None


def _check_call(dH, memory, activation, layer: int | None, memories: list) -> None:
    if layer is None:
        raise CheckFailed("layer_backward was given a memory that is not one of the network's")
    if np.shape(dH) != np.shape(memory[1]):
        meant = next((k for k, (_, Z) in enumerate(memories[:-1], start=1)
                      if np.shape(Z) == np.shape(dH)), None)
        needed = f"; for dH{meant} that is memories[{meant - 1}]" if meant else ""
        raise CheckFailed(
            f"layer_backward was given memories[{layer - 1}] (layer {layer}) with a gradient of "
            f"shape {np.shape(dH)}, which is not layer {layer}'s: a wrong memory index? The "
            f"memory of layer l is memories[l-1]{needed}")
    if layer == len(memories):
        raise CheckFailed(
            "layer_backward was given the output layer's memory: the output layer's gradients "
            "come from dZ = HL - Y; the loop covers the hidden layers only")
    if activation != "relu":
        raise CheckFailed(
            f"layer_backward was called with activation {activation!r} for layer {layer}: every "
            'hidden layer is a ReLU layer, pass "relu"')
