"""Tests for the gallery of mistakes of notebook 7: ``helpers.instructor.gallery`` and the file
it writes, ``helpers/mistake_curves.json``.

The file is committed; these tests keep it true to the sample catalogue (every curve names a
sample that exists, with its description), to the script (regenerating a curve gives the same
numbers), and to what notebook 7 says about the curves.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from helpers.data import load_bundled
from helpers.instructor import gallery
from helpers.instructor.samples import load_catalogue
from helpers.plots import MISTAKE_CURVES

from project import PROJECT


@pytest.fixture(scope="module")
def curves() -> dict:
    return json.loads(MISTAKE_CURVES.read_text())


@pytest.fixture(scope="module")
def catalogue() -> dict:
    return {sample.name: sample for sample in load_catalogue()}


@pytest.fixture(scope="module")
def train():
    return load_bundled().train


def as_array(losses) -> np.ndarray:
    return np.array([math.nan if loss is None else loss for loss in losses])


def entries(curves: dict) -> list[dict]:
    return [curves["correct"], *curves["mistakes"]]


def test_every_curve_names_a_sample_of_the_catalogue_with_its_description(curves, catalogue):
    assert curves["correct"]["name"] == gallery.CORRECT
    assert catalogue[gallery.CORRECT].kind == "solved"
    assert [entry["name"] for entry in curves["mistakes"]] == list(gallery.GALLERY)
    for entry in curves["mistakes"]:
        sample = catalogue[entry["name"]]
        assert sample.kind == "mistake", entry["name"]
        assert entry["title"] == gallery.GALLERY[entry["name"]]
        # notebook 7 calls them "slips of notebooks 2 to 5"
        assert {edit.notebook[:2] for edit in sample.edits} <= {"02", "03", "04", "05"}
    for entry in entries(curves):
        assert entry["description"] == catalogue[entry["name"]].description, entry["name"]


def test_the_file_holds_one_loss_per_step_with_the_gallery_settings(curves, train):
    assert curves["network"] == gallery.NETWORK | {
        "data": f"the bundled MNIST images, {train.m} for training"}
    for entry in entries(curves):
        assert len(entry["losses"]) == gallery.NETWORK["num_iterations"], entry["name"]
        assert all(loss is None or loss > 0 for loss in entry["losses"]), entry["name"]


def test_the_file_is_as_the_script_writes_it(curves):
    assert MISTAKE_CURVES.read_text() == gallery.as_json(curves)


@pytest.mark.slow
@pytest.mark.parametrize("name", [gallery.CORRECT, "dH_prev_over_m", "gradient_ascent"])
def test_regenerating_a_curve_gives_the_numbers_of_the_file(name, curves, catalogue, train):
    stored = next(entry for entry in entries(curves) if entry["name"] == name)
    regenerated = gallery.train_curve(catalogue[name], PROJECT, train.X, train.Y)
    # the same steps blow up, and the others agree but for BLAS's last bits on another machine
    np.testing.assert_allclose(as_array(regenerated), as_array(stored["losses"]), rtol=1e-5)


@pytest.mark.slow
def test_with_one_hidden_layer_dividing_dH_prev_by_m_changes_nothing(catalogue, train):
    """Why the gallery's network has two hidden layers: with one, dH0 is never used."""
    network = gallery.NETWORK | {"dimensions": [784, 45, 10], "num_iterations": 40}
    correct, mistaken = (gallery.train_curve(catalogue[name], PROJECT, train.X, train.Y, network)
                         for name in (gallery.CORRECT, "dH_prev_over_m"))
    assert mistaken == correct


def final_loss(entry: dict) -> float:
    """The mean loss of the last 50 steps (the minibatch losses are noisy)."""
    return float(np.mean(as_array(entry["losses"])[-50:]))


def test_the_curves_show_what_notebook_7_says_they_show(curves):
    """"Some mistakes make the loss climb until it is no longer a number, some leave the network
    stuck at ln 10, and some only slow it down"; one leaves no trace in the curve."""
    mistakes = {entry["name"]: entry for entry in curves["mistakes"]}
    correct = final_loss(curves["correct"])
    climbing = mistakes["gradient_ascent"]["losses"]
    first_blown = climbing.index(None)
    assert max(climbing[:first_blown]) > 5 * climbing[0] and all(
        loss is None for loss in climbing[first_blown:])
    for name in ("dW_without_1_over_m", "relu_mask_from_dH"):
        assert final_loss(mistakes[name]) == pytest.approx(np.log(10), rel=0.01), name
    for name in ("dH_prev_over_m", "hidden_layers_as_sigmoid"):
        assert 2 * correct < final_loss(mistakes[name]) < np.log(10) / 2, name
    assert final_loss(mistakes["b_never_updated"]) == pytest.approx(correct, rel=0.1)
