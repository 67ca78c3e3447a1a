"""helpers.stand_ins: notebook 2's and 3's steps by differences, and the calls they refuse."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.checks import CheckFailed
from helpers.gradcheck import random_backward_case, random_layer
from helpers.instructor import reference
from helpers.stand_ins import activation_backward_stand_ins, layer_backward_stand_in


@pytest.fixture
def case():
    return random_backward_case(np.random.default_rng(0), [5, 4, 6, 3, 4])


def test_the_activation_stand_ins_agree_with_the_reference():
    rng = np.random.default_rng(1)
    stand_ins = activation_backward_stand_ins()
    for activation in ("relu", "sigmoid"):
        dH, ((_, _, _), Z) = random_layer(rng, 3, 4, 5, activation)
        expected = getattr(reference, f"{activation}_backward")(dH, Z)
        got = stand_ins[f"{activation}_backward"](dH, Z)
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-10)


def test_the_layer_stand_in_agrees_with_the_reference_on_a_right_call(case):
    HL, Y, memories, _ = case
    stand_in = layer_backward_stand_in(memories)
    dH = np.random.default_rng(2).standard_normal(memories[1][1].shape)
    pairs = zip(stand_in(dH, memories[1]), reference.layer_backward(dH, memories[1]), strict=True)
    for got, expected in pairs:
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("call, words", [
    (lambda s, m: s(np.ones(m[1][1].shape), m[2]),
     "given memories[2] (layer 3) with a gradient of shape (6, 3), which is not layer 3's: a "
     "wrong memory index? The memory of layer l is memories[l-1]; for dH2 that is memories[1]"),
    (lambda s, m: s(np.ones(m[3][1].shape), m[3]), "the output layer's memory"),
    (lambda s, m: s(np.ones(m[0][1].shape), m[0], "sigmoid"), "every hidden layer is a ReLU"),
])
def test_the_layer_stand_in_names_a_wrong_call(case, call, words):
    _, _, memories, _ = case
    with pytest.raises(CheckFailed, match="layer_backward was") as caught:
        call(layer_backward_stand_in(memories), memories)
    assert words in str(caught.value)


def test_the_lenient_stand_in_returns_zeros_of_the_right_shapes(case):
    _, _, memories, _ = case
    (H_prev, W, b), _ = memories[3]
    got = layer_backward_stand_in(memories, numerical=False)(np.ones((7, 7)), memories[3])
    assert [g.shape for g in got] == [H_prev.shape, W.shape, b.shape]
    assert not any(np.any(g) for g in got)
