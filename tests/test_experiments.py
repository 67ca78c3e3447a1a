"""Tests for helpers.experiments, and the claims notebook 6 makes about its experiments.

The fast tests check the pieces on small made-up problems. The slow ones train at the
notebook's full size with the reference solutions, and check what its prose says of the runs
that its cells print: which learning rate does best and which diverges, when the
initialisation matters, what the batch size changes, and the yes/no network.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from helpers import gradcheck
from helpers.answers import load_answers
from helpers.checks import replaced
from helpers.data import load_bundled
from helpers.experiments import (
    Run,
    held_out_accuracy,
    layer_sizes,
    plot_batch_sizes,
    plot_initialisations,
    plot_learning_rates,
    running_mean,
    says_yes,
    steps_per_pass,
    train_and_measure,
    yes_no_forward,
)
from helpers.forward import L_layer_forward, initialize_parameters
from helpers.instructor import reference
from helpers.plots import NotebookFigure
from helpers.training import minibatches

from project import SOURCE

LN10 = math.log(10)
SHALLOW, DEEP = [784, 45, 10], [784, 64, 64, 64, 10]
TAUGHT = {"init": "he", "learning_rate": 0.2, "batch_size": 64, "num_iterations": 1500}


@pytest.fixture(scope="module")
def mnist():
    return load_bundled()


def small_run(rng: np.random.Generator, k: int = 50, **settings) -> Run:
    losses = 2.3 * np.exp(-np.arange(k) / 20) + 0.05 * rng.random(k)
    return Run(losses, seconds=0.5, accuracy=0.9, settings=settings)


# --------------------------------------------------------------------------- pieces


def test_a_pass_has_as_many_steps_as_minibatches_takes_before_reshuffling():
    assert steps_per_pass(4000, 64) == 62
    assert steps_per_pass(4000, None) == 1 and steps_per_pass(10, 10) == 1
    batches = minibatches(10, 3, np.random.default_rng(0))
    first_pass = [next(batches) for _ in range(steps_per_pass(10, 3))]
    assert len(set(np.concatenate(first_pass).tolist())) == 9  # every step of it is new
    with pytest.raises(ValueError, match="batch_size"):
        steps_per_pass(10, 0)


def test_running_mean_averages_consecutive_losses(rng):
    losses = rng.random(20)
    expected = [losses[i : i + 5].mean() for i in range(16)]
    assert np.allclose(running_mean(losses, 5), expected)
    assert np.allclose(running_mean(losses[:3], 16), [losses[:3].mean()])
    assert np.array_equal(running_mean(losses, 1), losses)
    for bad in ([], [[1.0, 2.0]]):
        with pytest.raises(ValueError, match="losses"):
            running_mean(bad, 3)
    with pytest.raises(ValueError, match="window"):
        running_mean(losses, 0)


def test_layer_sizes_shrink_by_a_hundredth_of_the_square_root_of_the_inputs(rng):
    X = rng.standard_normal((400, 600))
    course = layer_sizes(X, initialize_parameters([400, 300, 50], "course", rng))
    assert len(course) == 3
    first, second = course[1] / course[0], course[2] / course[1]
    assert first == pytest.approx(0.01 * math.sqrt(400), rel=0.1)
    assert second == pytest.approx(0.01 * math.sqrt(300) / math.sqrt(2), rel=0.1)  # after a ReLU
    he = layer_sizes(X, initialize_parameters([400, 300, 50], "he", rng))
    assert he[1] / he[0] == pytest.approx(math.sqrt(2), rel=0.1)
    assert he[2] / he[1] == pytest.approx(1.0, rel=0.1)


def test_held_out_accuracy_counts_the_most_probable_digit():
    # One layer whose logits are the inputs themselves: the argmax of each column.
    parameters = {"W1": np.eye(3), "b1": np.zeros((3, 1))}
    split = SimpleNamespace(X=np.array([[5.0, 0, 0, 1], [0, 5, 0, 0], [0, 0, 5, 0]]),
                            y=np.array([0, 1, 1, 0]))
    assert held_out_accuracy(parameters, split) == 0.75


def test_train_and_measure_passes_the_settings_on_and_measures_the_result():
    calls = []
    parameters = {"W1": np.eye(3), "b1": np.zeros((3, 1))}

    def model(X, Y, dimensions, **kwargs):
        calls.append((X.shape, Y.shape, dimensions, kwargs))
        return parameters, [2.0, 1.0, 0.5]

    split = SimpleNamespace(X=np.eye(3), Y=np.eye(3), y=np.array([0, 1, 0]))
    run = train_and_measure(model, SimpleNamespace(train=split, test=split), [3, 3], seed=4,
                            learning_rate=0.1, batch_size=2)
    assert calls == [((3, 3), (3, 3), [3, 3],
                      {"seed": 4, "return_losses": True, "learning_rate": 0.1, "batch_size": 2})]
    assert np.array_equal(run.losses, [2.0, 1.0, 0.5]) and run.seconds >= 0
    assert run.accuracy == pytest.approx(2 / 3)
    assert run.settings == {"learning_rate": 0.1, "batch_size": 2}


def test_the_yes_no_forward_step_ends_in_one_sigmoid_unit(rng):
    parameters, X, _ = gradcheck.random_network(rng, [5, 4, 1], m=6, output="sigmoid")
    HL, memories = yes_no_forward(X, parameters)
    expected, _ = L_layer_forward(X, parameters, output="sigmoid")
    assert HL.shape == (1, 6) and np.array_equal(HL, expected) and len(memories) == 2


def test_says_yes_where_the_sigmoid_output_exceeds_one_half():
    parameters = {"W1": np.array([[1.0]]), "b1": np.array([[-2.0]])}
    assert says_yes(np.array([[1.0, 2.5, 3.0]]), parameters).tolist() == [False, True, True]


# --------------------------------------------------------------------------- figures


def test_the_learning_rate_figure_has_curves_and_accuracies_in_matching_colours(rng):
    runs = {rate: small_run(rng) for rate in (0.01, 0.1, 1.0)}
    fig = plot_learning_rates(runs, steps_per_pass=10, window=4)
    assert isinstance(fig, NotebookFigure) and len(fig.axes) == 2
    curves, scores = fig.axes
    assert len(curves.lines) == 4  # three runs and the ln 10 line
    assert curves.lines[-1].get_ydata()[0] == pytest.approx(LN10)
    assert np.allclose(curves.lines[0].get_xdata()[0], 4 / 10)  # the first window ends at 4 steps
    colours = scores.collections[0].get_facecolors()
    assert len(colours) == 3 and scores.get_xscale() == "log"
    with pytest.raises(ValueError):
        plot_learning_rates({}, steps_per_pass=10)


def test_the_initialisation_figure_has_one_panel_per_network_on_one_scale(rng):
    panels = {"shallow": {"course": small_run(rng), "he": small_run(rng)},
              "deep": {"course": small_run(rng), "he": small_run(rng)}}
    fig = plot_initialisations(panels, steps_per_pass=10)
    assert [ax.get_title() for ax in fig.axes] == ["shallow", "deep"]
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:2] == ["course: 90.0% held-out", "he: 90.0% held-out"]
    with pytest.raises(ValueError):
        plot_initialisations({"deep": {}}, steps_per_pass=10)


def test_the_batch_size_figure_compares_per_step_and_per_second(rng):
    full, mini = small_run(rng, 20), small_run(rng, 200, batch_size=64)
    fig = plot_batch_sizes({"full": full, "mini": mini}, steps=20, window=8)
    per_step, per_second = fig.axes
    assert [line.get_xdata().size for line in per_step.lines[:2]] == [20, 20]
    full_line, mini_line = per_second.lines[:2]
    assert full_line.get_xdata().size == 20  # the full batch is not smoothed
    assert mini_line.get_xdata().size == 200 - 8 + 1
    assert full_line.get_xdata()[-1] == pytest.approx(full.seconds)
    assert per_second.get_xscale() == "log"


# --------------------------------------------------------------------------- the notebook's claims


@pytest.mark.slow
def test_the_first_loss_is_ln10_with_the_course_start_and_a_little_above_with_he(mnist):
    losses = {}
    for scheme in ("course", "he"):
        HL, _ = L_layer_forward(mnist.train.X, initialize_parameters(SHALLOW, scheme, 0))
        losses[scheme] = reference.compute_loss(HL, mnist.train.Y)
    assert losses["course"] == pytest.approx(LN10, abs=0.01)
    assert LN10 + 0.02 < losses["he"] < 2.5


@pytest.mark.slow
def test_ten_images_are_learned_by_heart_unless_the_step_is_far_too_small(mnist):
    X, Y = mnist.train.X[:, :10], mnist.train.Y[:, :10]
    _, he = reference.L_layer_model(X, Y, SHALLOW, 0.5, 200, init="he", seed=0,
                                    return_losses=True)
    _, course = reference.L_layer_model(X, Y, SHALLOW, 0.0075, 200, init="course", seed=0,
                                        return_losses=True)
    assert he[-1] < 0.01
    assert course[-1] > 1.0  # correct gradients, and the check still fails


@pytest.mark.slow
def test_the_learning_rate_sweep_peaks_at_the_taught_rate_and_diverges_at_3(mnist):
    accuracies = {}
    for rate in (0.0075, 0.02, 0.2, 1.0, 3.0):
        run = train_and_measure(reference.L_layer_model, mnist, SHALLOW,
                                **{**TAUGHT, "learning_rate": rate})
        accuracies[rate] = run.accuracy
        if rate == 3.0:
            assert run.losses.max() > 2 * LN10
    assert max(accuracies, key=accuracies.get) == 0.2
    assert accuracies[0.2] - accuracies[0.0075] > 0.04  # the course text's rate: far behind
    assert accuracies[3.0] <= 0.12
    # At 3 every hidden ReLU has died: the network gives every image the same answer.
    parameters = reference.L_layer_model(mnist.train.X, mnist.train.Y, SHALLOW,
                                         **{**TAUGHT, "learning_rate": 3.0}, seed=0)
    HL, memories = L_layer_forward(mnist.test.X, parameters)
    assert not np.any(memories[0][1] > 0)
    assert np.unique(HL.argmax(axis=0)).size == 1


@pytest.mark.slow
def test_the_initialisation_matters_only_once_the_network_is_deep(mnist):
    runs = {(len(dimensions), init): train_and_measure(reference.L_layer_model, mnist,
                                                       dimensions, **{**TAUGHT, "init": init})
            for dimensions in (SHALLOW, DEEP) for init in ("course", "he")}
    gap = runs[3, "he"].accuracy - runs[3, "course"].accuracy
    assert abs(gap) < 0.02
    stuck = runs[5, "course"]
    assert np.all(np.abs(stuck.losses[-62:] - LN10) < 0.05) and stuck.accuracy <= 0.12
    assert runs[5, "he"].accuracy > 0.90
    # With the course text's small step, the small start costs more: two small factors.
    slow = {init: train_and_measure(reference.L_layer_model, mnist, SHALLOW,
                                    **{**TAUGHT, "init": init, "learning_rate": 0.0075})
            for init in ("course", "he")}
    assert slow["he"].accuracy - slow["course"].accuracy > max(gap, 0) + 0.02


@pytest.mark.slow
def test_per_step_a_minibatch_does_about_as_well_as_the_full_batch(mnist):
    settings = {"init": "he", "learning_rate": 0.2, "num_iterations": 200}
    full = train_and_measure(reference.L_layer_model, mnist, SHALLOW, **settings)
    mini = train_and_measure(reference.L_layer_model, mnist, SHALLOW, batch_size=64, **settings)
    assert abs(full.accuracy - mini.accuracy) < 0.02
    assert full.seconds > 10 * mini.seconds  # and each full-batch step costs far more


@pytest.mark.slow
def test_the_zero_detector_beats_always_answering_no(mnist, monkeypatch):
    """The notebook's loop (the solution's) with ``yes_no_forward`` in place of its forward
    step learns to tell zeros apart, as notebook 6 says."""
    monkeypatch.chdir(SOURCE)  # its set-up loads the earlier notebooks from its own folder
    L_layer_model = load_answers("06_model.ipynb", "L_layer_model")
    is_zero = (mnist.train.y == 0).astype(float).reshape(1, -1)
    with replaced(L_layer_model.__wrapped__.__globals__, L_layer_forward=yes_no_forward):
        parameters = L_layer_model(
            mnist.train.X, is_zero, [784, 16, 1], learning_rate=0.2, num_iterations=600,
            init="he", seed=0, batch_size=64)
    truth = mnist.test.y == 0
    says = says_yes(mnist.test.X, parameters)
    assert np.mean(~truth) == pytest.approx(0.9)  # "about 90%" for always answering no
    assert np.mean(says == truth) > 0.95
    assert np.sum(says & truth) >= 0.8 * truth.sum()
