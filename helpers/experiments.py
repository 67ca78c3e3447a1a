"""The experiments of notebook 6: change one training setting at a time, measure, and plot.

Every run trains with the student's own loop (``L_layer_model``, passed in) and keeps what a
run is worth: its loss curve, its time and its accuracy on the held-out images. The yes/no
network of the last experiment ends in one sigmoid unit: ``yes_no_forward`` takes the place of
the forward step in the student's ``L_layer_model``, which is otherwise softmax only.

Conventions are those of ``helpers.forward``: one example per column, ``X`` ``(784, m)``,
one-hot ``Y`` ``(10, m)``, integer labels ``y`` ``(m,)``.

Interface:
    Run(losses, seconds, accuracy, settings)   one run: (k,) losses, wall time, held-out share
    train_and_measure(L_layer_model, data, dimensions, *, seed=0, **settings) -> Run
    held_out_accuracy(parameters, split) -> float
    steps_per_pass(m, batch_size) -> int    steps of ``minibatches`` in one pass over m examples
    running_mean(losses, window) -> (k - window + 1,) means of ``window`` consecutive losses
    layer_sizes(X, parameters) -> [RMS of X, RMS of Z1, ..., RMS of ZL]
    yes_no_forward(X, parameters) -> (HL (1, m), memories)   the forward step, sigmoid on top
    says_yes(X, parameters) -> (m,) bool
    plot_learning_rates(runs, steps_per_pass, *, window=16) -> Figure
    plot_initialisations(panels, steps_per_pass, *, window=16) -> Figure
    plot_batch_sizes(runs, *, steps, window=16) -> Figure

Figures follow ``helpers.plots`` (its figure helpers and ``plot_loss_curve``): they show
themselves in a notebook when they are a cell's last expression.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from helpers.forward import L_layer_forward
from helpers.labels import accuracy
from helpers.plots import _new_figure, plot_loss_curve
from helpers.training import check_batch_size

__all__ = [
    "Run",
    "held_out_accuracy",
    "layer_sizes",
    "plot_batch_sizes",
    "plot_initialisations",
    "plot_learning_rates",
    "running_mean",
    "says_yes",
    "steps_per_pass",
    "train_and_measure",
    "yes_no_forward",
]

UNIFORM_GUESS = math.log(10)  # the loss of a network that gives every digit 1/10
CHANCE = 0.1  # the accuracy of always answering the same digit, on balanced digits


@dataclass(frozen=True)
class Run:
    """One training run: the loss of every step ``(k,)``, its wall time in seconds, the
    share of the held-out images its trained network classifies right, and the keyword
    settings it was trained with (``batch_size`` among them)."""

    losses: np.ndarray
    seconds: float
    accuracy: float
    settings: dict = field(default_factory=dict)


def held_out_accuracy(parameters: dict, split) -> float:
    """Share of ``split`` (an ``MnistSplit``: ``X`` (784, m), labels ``y`` (m,)) whose most
    probable digit is the true one."""
    probabilities, _ = L_layer_forward(split.X, parameters)
    return accuracy(probabilities.argmax(axis=0), split.y)


def train_and_measure(
    L_layer_model: Callable, data, dimensions: list[int], *, seed: int = 0, **settings
) -> Run:
    """Train ``L_layer_model`` on ``data.train`` (with ``return_losses=True`` and the keyword
    ``settings``, e.g. ``init``, ``learning_rate``, ``num_iterations``, ``batch_size``), time
    it, and measure the trained network on ``data.test``."""
    start = time.perf_counter()
    parameters, losses = L_layer_model(
        data.train.X, data.train.Y, dimensions, seed=seed, return_losses=True, **settings
    )
    seconds = time.perf_counter() - start
    losses = np.asarray(losses, dtype=float)
    return Run(losses, seconds, held_out_accuracy(parameters, data.test), dict(settings))


def steps_per_pass(m: int, batch_size: int | None) -> int:
    """Steps in one pass over ``m`` examples, as ``helpers.training.minibatches`` takes them:
    ``m // batch_size`` (an incomplete last batch is dropped), or 1 for the full batch."""
    check_batch_size(batch_size)
    if batch_size is None or batch_size >= m:
        return 1
    return m // batch_size


def running_mean(losses, window: int) -> np.ndarray:
    """Means of ``window`` consecutive losses, ``(k - window + 1,)`` for ``k`` losses: the
    trend of a noisy minibatch curve. A window longer than the curve shrinks to its length."""
    values = np.asarray(losses, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"losses must be a non-empty 1-D sequence, got shape {values.shape}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    window = min(window, values.size)
    return np.convolve(values, np.ones(window) / window, mode="valid")


def layer_sizes(X: np.ndarray, parameters: dict) -> list[float]:
    """Root mean square of the input ``X`` and of every layer's pre-activation ``Z{l}``
    (the last one holds the logits), for the network ``parameters``: ``L + 1`` numbers."""
    _, memories = L_layer_forward(X, parameters)
    return [_rms(X)] + [_rms(Z) for _, Z in memories]


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values))))


# --------------------------------------------------------------------------- yes/no network


def yes_no_forward(X: np.ndarray, parameters: dict):
    """``L_layer_forward`` with one sigmoid unit on top: swapped in for the forward step of the
    student's ``L_layer_model`` (softmax only), it trains a yes/no network with the student's
    own loop, loss (one-row case) and backward pass (sigmoid-output case).

    Returns ``(HL, memories)`` with ``HL`` of shape ``(1, m)``."""
    return L_layer_forward(X, parameters, output="sigmoid")


def says_yes(X: np.ndarray, parameters: dict) -> np.ndarray:
    """The answers ``(m,)`` of a yes/no network: True where its sigmoid output exceeds 1/2."""
    probabilities, _ = L_layer_forward(X, parameters, output="sigmoid")
    return probabilities[0] > 0.5


# --------------------------------------------------------------------------- figures


def _passes(run: Run, steps_per_pass: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The running mean of a run's losses, placed at the pass over the data where each
    window ends."""
    trend = running_mean(run.losses, window)
    ends = np.arange(run.losses.size - trend.size + 1, run.losses.size + 1)
    return ends / steps_per_pass, trend


def _trend_axes(ax, runs: Mapping[str, Run], steps_per_pass: int, window: int) -> None:
    """Running-mean loss curves of ``runs`` on ``ax``, against passes over the data."""
    for i, (label, run) in enumerate(runs.items()):
        x, trend = _passes(run, steps_per_pass, window)
        last = i == len(runs) - 1  # one ln 10 line, after the runs
        plot_loss_curve(
            trend,
            x=x,
            ax=ax,
            label=label,
            xlabel="passes over the training images",
            log_scale=True,
            reference=UNIFORM_GUESS if last else None,
            reference_label="uniform guess: ln 10" if last else None,
        )
    ax.set_ylabel(f"loss (mean of {window} steps)")


def plot_learning_rates(
    runs: Mapping[float, Run], steps_per_pass: int, *, window: int = 16
) -> Figure:
    """Left: the loss curves of runs that differ only in their learning rate (``runs`` maps
    each rate to its run), against passes over the data. Right: each run's held-out accuracy
    against its learning rate, in the colour of its curve."""
    if not runs:
        raise ValueError("plot_learning_rates: no runs to plot")
    fig = _new_figure((11.0, 4.2))
    curves, scores = fig.subplots(1, 2, width_ratios=[3, 2])
    _trend_axes(curves, {f"learning rate {lr:g}": run for lr, run in runs.items()},
                steps_per_pass, window)
    curves.set_title("loss while training")
    curves.legend(loc="upper right", fontsize=8)
    colours = [line.get_color() for line in curves.lines[: len(runs)]]
    rates = list(runs)
    shares = [100 * run.accuracy for run in runs.values()]
    scores.plot(rates, shares, color="lightgray", zorder=1)
    scores.scatter(rates, shares, c=colours, zorder=2)
    for rate, share in zip(rates, shares, strict=True):
        scores.annotate(f"{share:.1f}%", (rate, share), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8)
    scores.axhline(100 * CHANCE, linestyle=":", color="gray", label="chance: one digit always")
    scores.set_xscale("log")
    scores.set_ylim(0, 105)
    scores.set_xlabel("learning rate")
    scores.set_ylabel("held-out accuracy (%)")
    scores.set_title("after training")
    scores.grid(True, alpha=0.3)
    scores.legend(loc="lower left")
    return fig


def plot_initialisations(
    panels: Mapping[str, Mapping[str, Run]], steps_per_pass: int, *, window: int = 16
) -> Figure:
    """One panel per network (``panels`` maps a title to ``{label: run}``), side by side on the
    same loss scale: the loss curves of runs that differ only in their initialisation, each
    labelled with its held-out accuracy."""
    if not panels or not all(panels.values()):
        raise ValueError("plot_initialisations: every panel needs at least one run")
    fig = _new_figure((5.2 * len(panels), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    for ax, (title, runs) in zip(axes, panels.items(), strict=True):
        labelled = {f"{label}: {run.accuracy:.1%} held-out": run for label, run in runs.items()}
        _trend_axes(ax, labelled, steps_per_pass, window)
        ax.set_title(title)
    return fig


def plot_batch_sizes(runs: Mapping[str, Run], *, steps: int, window: int = 16) -> Figure:
    """Runs that differ in their batch size (``runs`` maps a label to a run). Left: the loss of
    each of the first ``steps`` steps, noise included. Right: the loss against the seconds spent
    training (a run's time spread evenly over its steps, log scale), each minibatch curve as
    the running mean of ``window`` steps; labels give the held-out accuracy after all steps."""
    if not runs:
        raise ValueError("plot_batch_sizes: no runs to plot")
    fig = _new_figure((11.0, 4.2))
    per_step, per_second = fig.subplots(1, 2, sharey=True)
    for i, (label, run) in enumerate(runs.items()):
        reference = {"reference": UNIFORM_GUESS, "reference_label": "uniform guess: ln 10"}
        shown = reference if i == len(runs) - 1 else {}
        plot_loss_curve(run.losses[:steps], ax=per_step, label=label, xlabel="step",
                        log_scale=True, **shown)
        minibatch = run.settings.get("batch_size") is not None
        trend = running_mean(run.losses, window if minibatch else 1)
        ends = np.arange(run.losses.size - trend.size + 1, run.losses.size + 1)
        plot_loss_curve(trend, x=run.seconds * ends / run.losses.size, ax=per_second,
                        label=f"{label}: {run.accuracy:.1%} held-out",
                        xlabel="seconds of training", log_scale=True, **shown)
    per_step.set_title(f"per step (the first {steps})")
    per_second.set_title(f"per second (minibatches: mean of {window} steps)")
    per_second.set_xscale("log")
    return fig
