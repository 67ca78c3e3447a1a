"""Tests for helpers.plots: confusion counts, most-confused selection and the figure builders.

Figures are inspected through the object-oriented API (axes, images, lines, texts), so no GUI
backend or display is needed.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from helpers import plots
from helpers.plots import (
    confusion_matrix,
    most_confused,
    plot_confusion_matrix,
    plot_digit_grid,
    plot_loss_curve,
    plot_most_confused,
    save_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RED = to_rgba("red")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Small fake MNIST batch: X (784, 30), y (30,), P (10, 30) with columns summing to 1."""
    m = 30
    X = rng.random((784, m))
    y = rng.integers(0, 10, size=m)
    logits = rng.normal(size=(10, m))
    P = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
    return X, y, P


def loop_confusion(y_true, y_pred, k: int) -> list[list[int]]:
    """Independent reference: plain Python double loop."""
    table = [[0] * k for _ in range(k)]
    for t, p in zip(y_true, y_pred, strict=True):
        table[int(t)][int(p)] += 1
    return table


def digit_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


# --------------------------------------------------------------------------- confusion_matrix


def test_confusion_matrix_tiny_hand_case() -> None:
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])  # rows = true, cols = predicted
    cm = confusion_matrix(y_true, y_pred, num_classes=3)
    assert cm.shape == (3, 3)
    assert np.issubdtype(cm.dtype, np.integer)
    np.testing.assert_array_equal(cm, expected)


def test_confusion_matrix_matches_python_loop(rng: np.random.Generator) -> None:
    y_true = rng.integers(0, 10, size=500)
    y_pred = rng.integers(0, 10, size=500)
    cm = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(cm, loop_confusion(y_true, y_pred, 10))
    assert cm.sum() == 500
    assert np.trace(cm) == np.sum(y_true == y_pred)


def test_confusion_matrix_accepts_lists_and_empty() -> None:
    np.testing.assert_array_equal(confusion_matrix([1, 0], [1, 1], 2), [[0, 1], [0, 1]])
    assert confusion_matrix([], [], 4).sum() == 0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([0, 1, 2], [0, 1], "length mismatch"),
        ([0, 10], [0, 1], "outside"),
        ([0, 1], [-1, 1], "outside"),
        ([0.5, 1.0], [0, 1], "integer"),
        ([[[0, 1]]], [[[0, 1]]], "1-D"),
        ([[0, 1], [0, 0]], [0, 1], "one-hot"),
    ],
)
def test_confusion_matrix_errors(y_true, y_pred, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        confusion_matrix(y_true, y_pred)


# --------------------------------------------------------------------------- most_confused


def test_most_confused_orders_mistakes_by_confidence() -> None:
    # 5 examples, 3 classes; columns 1, 3 and 4 are wrong with confidences 0.6, 0.9, 0.7.
    P = np.array(
        [
            [0.8, 0.6, 0.1, 0.05, 0.2],
            [0.1, 0.3, 0.8, 0.90, 0.1],
            [0.1, 0.1, 0.1, 0.05, 0.7],
        ]
    )
    y = np.array([0, 2, 1, 0, 1])
    idx = most_confused(y, P, n=12)
    np.testing.assert_array_equal(idx, [3, 4, 1])
    assert np.issubdtype(idx.dtype, np.integer)
    np.testing.assert_array_equal(most_confused(y, P, n=2), [3, 4])


def test_most_confused_empty_when_all_right(data) -> None:
    _, _, P = data
    y = P.argmax(axis=0)
    idx = most_confused(y, P)
    assert idx.shape == (0,)
    assert np.issubdtype(idx.dtype, np.integer)


def test_most_confused_rejects_transposed_probabilities(data) -> None:
    _, y, P = data
    with pytest.raises(ValueError, match="shape"):
        most_confused(y, P.T)


# --------------------------------------------------------------------------- plot_loss_curve


def test_loss_curve_single_run(rng: np.random.Generator) -> None:
    losses = list(2.3 * np.exp(-np.linspace(0, 3, 50)) + 0.05 * rng.random(50))
    fig = plot_loss_curve(losses, label="sgd", log_scale=True)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), losses)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "iteration"


def test_loss_curve_dict_overlays_runs_and_reference(rng: np.random.Generator) -> None:
    runs = {"plain SGD": rng.random(40) + 1, "momentum": rng.random(25) + 0.5}
    fig = plot_loss_curve(
        runs, reference=math.log(10), reference_label="uniform guess", xlabel="epoch"
    )
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # one per run + the reference
    ref = ax.lines[-1]
    assert ref.get_linestyle() == "--"
    np.testing.assert_allclose(ref.get_ydata(), math.log(10))
    legend_labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend_labels == ["plain SGD", "momentum", "uniform guess"]
    assert ax.get_xlabel() == "epoch"


def test_loss_curve_draws_into_given_axes() -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    out = plot_loss_curve([3.0, 2.0, 1.0], ax=right, reference=2.3)
    assert out is fig
    assert len(right.lines) == 2 and not left.lines
    assert "2.300" in right.get_legend().get_texts()[0].get_text()


@pytest.mark.parametrize("bad", [[], np.array([]), {}, {"run": []}])
def test_loss_curve_rejects_empty(bad) -> None:
    with pytest.raises(ValueError, match="empty"):
        plot_loss_curve(bad)


def test_loss_curve_log_scale_needs_positive_losses() -> None:
    with pytest.raises(ValueError, match="positive"):
        plot_loss_curve([1.0, 0.0], log_scale=True)


# --------------------------------------------------------------------------- plot_digit_grid


def test_digit_grid_counts_titles_and_colors(data) -> None:
    X, y, _ = data
    y_pred = y.copy()
    y_pred[[1, 4]] = (y[[1, 4]] + 1) % 10  # two deliberate mistakes
    fig = plot_digit_grid(X, y, y_pred, n=12, ncols=5, title="sample")
    assert isinstance(fig, Figure)
    axes = digit_axes(fig)
    assert len(fig.axes) == len(axes) == 12
    assert all(len(ax.images) == 1 for ax in axes)
    assert all(not ax.axison for ax in axes)
    for j, ax in enumerate(axes):
        title = ax.title
        assert title.get_text() == f"pred {y_pred[j]} / true {y[j]}"
        assert (to_rgba(title.get_color()) == RED) == (j in (1, 4))


def test_digit_grid_without_predictions_and_explicit_indices(data) -> None:
    X, y, _ = data
    fig = plot_digit_grid(X, y, indices=[5, 2, 9])
    axes = digit_axes(fig)
    assert [ax.title.get_text() for ax in axes] == [f"true {y[j]}" for j in (5, 2, 9)]
    assert all(to_rgba(ax.title.get_color()) != RED for ax in axes)


def test_digit_grid_default_is_first_n_and_clips_to_m(data) -> None:
    X, y, _ = data
    assert len(digit_axes(plot_digit_grid(X, y))) == 24
    assert len(digit_axes(plot_digit_grid(X[:, :5], y[:5]))) == 5


def test_digit_grid_images_are_upright() -> None:
    # A "7"-like bar: only the top row of the 28x28 image is ink. Row-major flattening must
    # put it back on top (row 0), not down the left column as a transpose would.
    img = np.zeros((28, 28))
    img[0, :] = 1.0
    X = img.reshape(784, 1)
    shown = np.asarray(digit_axes(plot_digit_grid(X, [7]))[0].images[0].get_array())
    np.testing.assert_array_equal(shown, img)


@pytest.mark.parametrize(
    ("X_shape", "y_len", "match"),
    [((30, 784), 30, "square|784"), ((784, 30), 29, "length mismatch")],
)
def test_digit_grid_shape_errors(rng, X_shape, y_len, match) -> None:
    with pytest.raises(ValueError, match=match):
        plot_digit_grid(rng.random(X_shape), rng.integers(0, 10, y_len))


def test_digit_grid_rejects_out_of_range_indices(data) -> None:
    X, y, _ = data
    with pytest.raises(ValueError, match="indices"):
        plot_digit_grid(X, y, indices=[0, 30])


# --------------------------------------------------------------------------- plot_confusion_matrix


def test_confusion_plot_counts_and_accuracy() -> None:
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    fig = plot_confusion_matrix(y_true, y_pred)
    (ax,) = fig.axes
    (image,) = ax.images
    expected = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(image.get_array(), expected)
    assert len(ax.texts) == 100
    cell = {t.get_position(): t for t in ax.texts}  # (x = predicted, y = true)
    assert cell[(2, 2)].get_text() == "2"
    assert cell[(0, 2)].get_text() == "1"
    assert to_rgba(cell[(2, 2)].get_color()) == to_rgba("white")  # darkest cell
    assert to_rgba(cell[(5, 5)].get_color()) == to_rgba("black")
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert "66.67%" in ax.get_title()


def test_confusion_plot_normalized_rows_sum_to_one(rng: np.random.Generator) -> None:
    y_true = rng.integers(0, 9, size=200)  # class 9 absent: its row must be 0, not NaN
    y_pred = rng.integers(0, 10, size=200)
    fig = plot_confusion_matrix(y_true, y_pred, normalize=True)
    values = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(values[:9].sum(axis=1), 1.0)
    np.testing.assert_array_equal(values[9], 0.0)


def test_confusion_plot_into_given_axes_and_empty_error() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_confusion_matrix([1, 2], [1, 2], ax=ax) is fig
    with pytest.raises(ValueError, match="no examples"):
        plot_confusion_matrix([], [])


# --------------------------------------------------------------------------- plot_most_confused


def test_most_confused_plot_titles(data) -> None:
    X, y, P = data
    n_wrong = int(np.sum(P.argmax(axis=0) != y))
    fig = plot_most_confused(X, y, P, n=5, ncols=3)
    axes = digit_axes(fig)
    assert len(axes) == min(5, n_wrong)
    for ax, j in zip(axes, most_confused(y, P, n=5), strict=True):
        p = int(P[:, j].argmax())
        assert ax.title.get_text() == f"pred {p} ({P[p, j]:.2f}) / true {y[j]}"
        assert to_rgba(ax.title.get_color()) == RED


def test_most_confused_plot_without_mistakes(data) -> None:
    X, _, P = data
    fig = plot_most_confused(X, P.argmax(axis=0), P)
    assert isinstance(fig, Figure)
    assert not digit_axes(fig)
    assert "no misclassified" in fig.axes[0].texts[0].get_text()


# --------------------------------------------------------------------------- save_figure


def test_save_figure_nested_png(tmp_path: Path) -> None:
    fig = plot_confusion_matrix([0, 1, 1], [0, 1, 0])
    out = save_figure(fig, tmp_path / "a" / "b" / "cm.png", dpi=50)
    assert out == tmp_path / "a" / "b" / "cm.png"
    data = out.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)


def test_save_figure_suffix_handling(tmp_path: Path) -> None:
    fig = plot_loss_curve([1.0, 0.5])
    out = save_figure(fig, str(tmp_path / "loss"))
    assert out.suffix == ".png" and out.read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="PNG"):
        save_figure(fig, tmp_path / "loss.pdf")


def test_headless_without_pyplot_or_backend(tmp_path: Path) -> None:
    # Fresh interpreter, no MPLBACKEND and no DISPLAY: plotting and saving must still work,
    # and the module must not pull in pyplot (global state, GUI backend selection).
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY")}
    env["PYTHONPATH"] = str(Path(plots.__file__).resolve().parents[1])
    code = (
        "import sys, numpy as np\n"
        "from helpers.plots import plot_digit_grid, save_figure\n"
        "fig = plot_digit_grid(np.zeros((784, 2)), np.array([1, 2]))\n"
        f"save_figure(fig, {str(tmp_path / 'grid.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert (tmp_path / "grid.png").read_bytes().startswith(PNG_SIGNATURE)


# --------------------------------------------------------------------------- no mutation


def test_no_function_mutates_inputs(data, tmp_path: Path) -> None:
    X, y, P = data
    y_pred = P.argmax(axis=0)
    losses = {"a": np.linspace(2.3, 0.1, 20), "b": np.linspace(2.3, 0.3, 20)}
    originals = [
        X.copy(),
        y.copy(),
        P.copy(),
        y_pred.copy(),
        {k: v.copy() for k, v in losses.items()},
    ]
    confusion_matrix(y, y_pred)
    most_confused(y, P)
    plot_loss_curve(losses, reference=math.log(10))
    plot_loss_curve(losses["a"])
    plot_digit_grid(X, y, y_pred, indices=np.array([3, 1, 2]))
    plot_confusion_matrix(y, y_pred, normalize=True)
    fig = plot_most_confused(X, y, P)
    save_figure(fig, tmp_path / "mc.png")
    for before, after in zip(originals[:4], [X, y, P, y_pred], strict=True):
        np.testing.assert_array_equal(before, after)
    assert losses.keys() == originals[4].keys()
    for k in losses:
        np.testing.assert_array_equal(losses[k], originals[4][k])


# --------------------------------------------------------------------------- display in Jupyter


def test_figures_hand_ipython_a_png_of_themselves(rng: np.random.Generator) -> None:
    """IPython shows a Figure made without pyplot as text unless it offers its own PNG."""
    figures = [
        plot_loss_curve([3.0, 2.0, 1.0]),
        plot_digit_grid(rng.random((784, 4)), [1, 2, 3, 4]),
        plot_confusion_matrix([1, 2], [1, 2]),
        plot_most_confused(rng.random((784, 2)), [0, 1], np.eye(10)[:, [0, 1]]),  # no mistakes
    ]
    for fig in figures:
        assert isinstance(fig, plots.NotebookFigure)
        assert fig._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
    assert plots.NotebookFigure()._repr_png_() is None  # nothing drawn, no empty picture


def test_loss_curve_at_given_positions() -> None:
    p = np.linspace(0.1, 1.0, 4)
    fig = plot_loss_curve(-np.log(p), x=p, xlabel="probability")
    (line,) = fig.axes[0].lines
    assert np.allclose(line.get_xdata(), p)
    assert fig.axes[0].get_xlabel() == "probability"
    with pytest.raises(ValueError, match=r"x has shape \(3,\)"):
        plot_loss_curve([1.0, 2.0], x=[1.0, 2.0, 3.0])


# --------------------------------------------------------------------------- what it learned


def weight_tiles(fig: Figure, side: int = 28, gap: int = 2) -> tuple[np.ndarray, list]:
    """The mosaic drawn by plot_first_layer_weights and its tiles, row by row."""
    image = fig.axes[0].images[0]
    mosaic = np.ma.filled(image.get_array().astype(float), np.nan)
    step = side + gap
    tiles = [mosaic[top:top + side, left:left + side]
             for top in range(0, mosaic.shape[0], step) for left in range(0, mosaic.shape[1], step)]
    return mosaic, tiles


def test_weights_show_each_row_upright_on_one_symmetric_scale(rng) -> None:
    W1 = rng.normal(size=(5, 784))
    W1[3, :28] = 2.0  # the top row of pixels of unit 3
    before = W1.copy()
    fig = plots.plot_first_layer_weights(W1, ncols=3)
    np.testing.assert_array_equal(W1, before)
    mosaic, tiles = weight_tiles(fig)
    assert mosaic.shape == (2 * 30 - 2, 3 * 30 - 2)  # 2 rows of 3 tiles, 2 pixels apart
    for j in range(5):
        np.testing.assert_array_equal(tiles[j], W1[j].reshape(28, 28))
    assert np.all(tiles[3][0] == 2.0)  # row-major: the first 28 weights are the top row
    assert np.isnan(tiles[5]).all()  # the sixth tile has no unit: blank
    assert np.isnan(mosaic[28:30]).all()  # the gap between the rows of tiles
    low, high = fig.axes[0].images[0].get_clim()
    assert low == -high == -np.abs(W1).max()
    assert "5 rows of W1" in fig.axes[0].get_title()
    assert len(fig.axes) == 2  # the mosaic and its colour bar


def test_weights_leave_weights_that_blew_up_blank(rng) -> None:
    W1 = rng.normal(size=(2, 784))
    W1[0, 5], W1[1, 7] = np.nan, np.inf
    mosaic, tiles = weight_tiles(plots.plot_first_layer_weights(W1))
    assert np.isnan(tiles[0].flat[5]) and np.isnan(tiles[1].flat[7])
    low, high = plots.plot_first_layer_weights(W1).axes[0].images[0].get_clim()
    assert high == np.abs(W1[np.isfinite(W1)]).max() == -low


@pytest.mark.parametrize("shape", [(784, 45), (45, 783), (784,), (0, 784)])
def test_weights_reject_anything_but_one_row_per_unit(shape) -> None:
    with pytest.raises(ValueError, match=r"one row per hidden unit .* \(n_1, 784\)"):
        plots.plot_first_layer_weights(np.zeros(shape))


def gallery_curves() -> dict:
    steps = np.arange(1, 21)
    return {
        "correct": {"title": "correct", "losses": list(2.3 / steps)},
        "mistakes": [
            {"name": "up", "title": "climbs", "description": "d1",
             "losses": [2.3, 5.0, 20.0] + [None] * 17},
            {"name": "flat", "title": "stuck", "description": "d2", "losses": [2.3] * 20},
            {"name": "slow", "title": "slow", "description": "d3",
             "losses": list(2.3 / steps**0.5)},
        ],
    }


def test_gallery_draws_each_mistake_over_the_correct_curve() -> None:
    curves = gallery_curves()
    fig = plots.plot_mistake_gallery(curves, ncols=2)
    assert isinstance(fig, plots.NotebookFigure)
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["climbs", "stuck", "slow"]
    for ax, mistake in zip(axes, curves["mistakes"], strict=True):
        mistaken, correct = (line for line in ax.lines if line.get_label() != "_nolegend_"
                             and line.get_linestyle() == "-")
        np.testing.assert_allclose(mistaken.get_ydata(), [
            np.nan if loss is None else loss for loss in mistake["losses"]])
        np.testing.assert_allclose(correct.get_ydata(), curves["correct"]["losses"])
        assert ax.get_yscale() == "log"
        assert any(np.allclose(line.get_ydata(), np.log(10)) for line in ax.lines)
    assert [text.get_text() for text in axes[0].texts] == [" nan from step 3 on"]
    assert not axes[1].texts and not axes[2].texts
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "with the mistake", "correct", "ln 10: a uniform guess"]


def test_gallery_reads_the_committed_curves_by_default() -> None:
    import json

    curves = json.loads(plots.MISTAKE_CURVES.read_text())
    fig = plots.plot_mistake_gallery()
    assert [ax.get_title() for ax in fig.axes] == [m["title"] for m in curves["mistakes"]]


def test_gallery_needs_a_mistake() -> None:
    with pytest.raises(ValueError, match="no mistakes"):
        plots.plot_mistake_gallery(
            {"correct": {"title": "correct", "losses": [1.0]}, "mistakes": []})
