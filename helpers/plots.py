"""Plotting helpers for the backpropagation-on-MNIST course.

Conventions (one example per COLUMN):
    X  (784, m) floats in [0, 1], each column a 28x28 digit flattened row-major
    y  (m,)     integer labels in [0, num_classes)
    P  (10, m)  class probabilities, each column sums to 1

Interface:
    confusion_matrix(y_true, y_pred, num_classes=10) -> (num_classes, num_classes) int array
    most_confused(y_true, P, n=12) -> (k,) int array of column indices, k <= n
    plot_loss_curve(losses, *, x=None, ax=None, label=None, xlabel="iteration",
                    log_scale=False, reference=None, reference_label=None) -> Figure
    plot_digit_grid(X, y_true, y_pred=None, *, indices=None, n=24, ncols=8, title=None) -> Figure
    plot_confusion_matrix(y_true, y_pred, *, ax=None, normalize=False, num_classes=10) -> Figure
    plot_most_confused(X, y_true, P, *, n=12, ncols=6) -> Figure
    plot_first_layer_weights(W1, *, ncols=9) -> Figure   each row of W1 as a 28x28 image
    plot_mistake_gallery(curves=None, *, ncols=3) -> Figure   typical mistakes' training curves
    MISTAKE_CURVES: the file those curves come from, written by the course's ``make gallery``
    save_figure(fig, path, dpi=100) -> Path
    plot_digits_with_one_hot(X, Y, *, indices=None, n=8) -> Figure

Every plot function returns the matplotlib Figure it drew on (``ax.figure`` when an ``ax`` is
given). Only the object-oriented API is used (``matplotlib.figure.Figure``, never pyplot), so
nothing depends on a display or a GUI backend and figures can be saved on headless machines.

In a notebook a figure shows when it is the last expression of a cell. A plain ``Figure``
made without pyplot does not: IPython only knows how to draw figures once pyplot's inline
backend has been switched on, and shows ``<Figure size ...>`` text otherwise. The figures made
here are ``NotebookFigure``s, which hand IPython their own PNG, whatever ``MPLBACKEND`` says.
No function modifies its inputs.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from helpers.labels import as_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "MISTAKE_CURVES",
    "NotebookFigure",
    "confusion_matrix",
    "most_confused",
    "plot_confusion_matrix",
    "plot_digit_grid",
    "plot_first_layer_weights",
    "plot_loss_curve",
    "plot_mistake_gallery",
    "plot_most_confused",
    "save_figure",
]

WRONG_COLOR = "red"
RIGHT_COLOR = "black"
# Training curves of the catalogue's typical mistakes: written by ``make gallery``, committed.
MISTAKE_CURVES = Path(__file__).with_name("mistake_curves.json")


# --------------------------------------------------------------------------- validation


def _check_same_length(**arrays: np.ndarray) -> int:
    """Return the common length of the given 1-D arrays, or raise naming all of them."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {k}" for name, k in lengths.items())
        raise ValueError(f"length mismatch: {detail} examples")
    return next(iter(lengths.values()))


def _as_images(X: object) -> tuple[np.ndarray, int]:
    """Return ``X`` as a (d, m) array and the image side (d must be a perfect square)."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D of shape (784, m), one image per column; got {arr.shape}")
    side = math.isqrt(arr.shape[0])
    if side * side != arr.shape[0]:
        raise ValueError(
            f"X has {arr.shape[0]} rows, not a square image; expected (784, m) with one "
            "example per column (did you pass X.T?)"
        )
    return arr, side


def _as_probabilities(P: object, m: int) -> np.ndarray:
    """Return ``P`` as a (num_classes, m) float array."""
    arr = np.asarray(P, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != m:
        raise ValueError(
            f"P must have shape (num_classes, m) = (10, {m}), one column per example; "
            f"got {arr.shape}"
        )
    return arr


# --------------------------------------------------------------------------- pure NumPy


def confusion_matrix(y_true: object, y_pred: object, num_classes: int = 10) -> np.ndarray:
    """Count (true, predicted) pairs.

    y_true, y_pred: (m,) integer labels in [0, num_classes).
    Returns a (num_classes, num_classes) int array C with C[i, j] = number of examples of true
    class i predicted as class j (rows = true, columns = predicted).
    """
    yt = as_labels(y_true, num_classes, name="y_true")
    yp = as_labels(y_pred, num_classes, name="y_pred")
    _check_same_length(y_true=yt, y_pred=yp)
    # A flat bincount over pair ids is one vectorised pass, faster than np.add.at.
    counts = np.bincount(yt * num_classes + yp, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def most_confused(y_true: object, P: object, n: int = 12) -> np.ndarray:
    """Indices of the misclassified examples the model was most sure about.

    y_true: (m,) integer labels; P: (num_classes, m) probabilities, one column per example.
    Returns an int array of up to ``n`` column indices, sorted by the probability given to the
    (wrong) predicted class, highest first; ties keep the original order. Empty if no mistakes.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    yt = as_labels(y_true, name="y_true")
    probs = _as_probabilities(P, yt.size)
    yt = as_labels(yt, probs.shape[0], name="y_true")
    pred = probs.argmax(axis=0)
    confidence = probs[pred, np.arange(probs.shape[1])]
    wrong = np.flatnonzero(pred != yt)
    order = np.argsort(-confidence[wrong], kind="stable")
    return wrong[order][:n].astype(np.int64)


# --------------------------------------------------------------------------- plots


class NotebookFigure(Figure):
    """A Figure that displays itself in Jupyter as a PNG image (IPython's ``_repr_png_``)."""

    def _repr_png_(self) -> bytes | None:
        if not self.axes:  # nothing drawn: no empty picture
            return None
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def _new_figure(figsize: tuple[float, float]) -> NotebookFigure:
    return NotebookFigure(figsize=figsize, layout="constrained")


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Use the caller's axes if given, else a fresh pyplot-free figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = _new_figure(figsize)
    return fig, fig.add_subplot()


def _as_runs(
    losses: Sequence[float] | np.ndarray | Mapping[str, Sequence[float]], label: str | None
) -> dict[str | None, np.ndarray]:
    """Normalise a single loss history or a {label: history} dict to a dict of 1-D arrays."""
    runs = dict(losses) if isinstance(losses, Mapping) else {label: losses}
    if not runs:
        raise ValueError("plot_loss_curve: got an empty dict of runs, nothing to plot")
    out = {}
    for name, values in runs.items():
        arr = np.asarray(values, dtype=float)
        if arr.ndim != 1:
            raise ValueError(f"losses for {name!r} must be 1-D, got shape {arr.shape}")
        if arr.size == 0:
            what = "losses" if name is None else f"losses for run {name!r}"
            raise ValueError(f"plot_loss_curve: {what} is empty, nothing to plot")
        out[name] = arr
    return out


def plot_loss_curve(
    losses: Sequence[float] | np.ndarray | Mapping[str, Sequence[float]],
    *,
    x: Sequence[float] | np.ndarray | None = None,
    ax: Axes | None = None,
    label: str | None = None,
    xlabel: str = "iteration",
    log_scale: bool = False,
    reference: float | None = None,
    reference_label: str | None = None,
) -> Figure:
    """Line plot of recorded losses.

    losses: (k,) sequence of losses, or a dict {run label: losses} to overlay several runs
        (e.g. two training recipes) with a legend.
    x: (k,) positions of the losses on the x-axis; default 0..k-1 (the iteration).
    reference: optional value drawn as a dashed horizontal line, e.g. ``np.log(10)`` = the
        cross-entropy of a uniform guess over 10 classes; labelled ``reference_label``.
    log_scale: log y-axis (all losses must then be > 0).
    """
    runs = _as_runs(losses, label)
    if log_scale and any(np.any(v[np.isfinite(v)] <= 0) for v in runs.values()):
        raise ValueError("log_scale=True needs strictly positive losses")
    positions = None if x is None else np.asarray(x, dtype=float)
    for name, values in runs.items():
        if positions is not None and positions.shape != values.shape:
            raise ValueError(
                f"x has shape {positions.shape} but the losses of {name!r} {values.shape}"
            )
    fig, ax = _figure_and_axes(ax, (6.0, 4.0))
    for name, values in runs.items():
        ax.plot(np.arange(values.size) if positions is None else positions, values, label=name)
    if reference is not None:
        text = reference_label or f"reference ({reference:.3f})"
        ax.axhline(reference, linestyle="--", color="gray", linewidth=1, label=text)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    if any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
        ax.legend()
    return fig


def _digit_grid(
    X: np.ndarray,
    side: int,
    indices: np.ndarray,
    titles: list[str],
    colors: list[str],
    ncols: int,
    title: str | None,
) -> Figure:
    """Draw the columns ``indices`` of X as side x side images, one axes per image."""
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    k = len(indices)
    ncols = min(ncols, k)
    nrows = math.ceil(k / ncols)
    fig = _new_figure((1.3 * ncols, 1.5 * nrows + (0.4 if title else 0.0)))
    images = X[:, indices]
    vmax = _pixel_scale(images)
    for i in range(k):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        _show_digit(ax, images[:, i], side, vmax)
        ax.set_title(titles[i], color=colors[i], fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _pixel_scale(images: np.ndarray) -> float:
    """The brightest value of the images' scale: 1 for pixels in [0, 1], 255 for raw bytes
    (which would saturate with 1)."""
    return 1.0 if images.size == 0 or images.max() <= 1.0 else 255.0


def _show_digit(ax: Axes, pixels: np.ndarray, side: int, vmax: float) -> None:
    """One image ``(side * side,)`` as an upright grey digit, without axes: a row-major
    reshape undoes the flattening (C order)."""
    ax.imshow(pixels.reshape(side, side), cmap="gray_r", vmin=0.0, vmax=vmax,
              interpolation="nearest")
    ax.set_axis_off()


def plot_digit_grid(
    X: object,
    y_true: object,
    y_pred: object | None = None,
    *,
    indices: Sequence[int] | np.ndarray | None = None,
    n: int = 24,
    ncols: int = 8,
    title: str | None = None,
) -> Figure:
    """Grid of digits titled "true 3", or "pred 5 / true 3" (red when wrong).

    X: (784, m); y_true, y_pred: (m,) labels for ALL m columns (not just the shown ones).
    indices: columns to show; default the first ``n`` columns.
    """
    images, side = _as_images(X)
    yt = as_labels(y_true, name="y_true")
    yp = None if y_pred is None else as_labels(y_pred, name="y_pred")
    arrays = {"X columns": images[0], "y_true": yt} | ({} if yp is None else {"y_pred": yp})
    m = _check_same_length(**arrays)
    idx = np.arange(min(n, m)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError("nothing to plot: indices is empty (or X has no columns)")
    if idx.min() < 0 or idx.max() >= m:
        raise ValueError(f"indices must lie in [0, {m - 1}], got {idx.min()}..{idx.max()}")
    if yp is None:
        titles = [f"true {yt[j]}" for j in idx]
        colors = [RIGHT_COLOR] * idx.size
    else:
        titles = [f"pred {yp[j]} / true {yt[j]}" for j in idx]
        colors = [RIGHT_COLOR if yp[j] == yt[j] else WRONG_COLOR for j in idx]
    return _digit_grid(images, side, idx, titles, colors, ncols, title)


def plot_confusion_matrix(
    y_true: object,
    y_pred: object,
    *,
    ax: Axes | None = None,
    normalize: bool = False,
    num_classes: int = 10,
) -> Figure:
    """Confusion-matrix image (rows = true, columns = predicted) with the value in each cell.

    y_true, y_pred: (m,) labels. normalize=True shows row fractions (recall per true class);
    rows with no examples show 0. The title gives the overall accuracy.
    """
    counts = confusion_matrix(y_true, y_pred, num_classes)
    total = int(counts.sum())
    if total == 0:
        raise ValueError("plot_confusion_matrix: no examples, nothing to plot")
    if normalize:
        row_sums = counts.sum(axis=1, keepdims=True)
        # where= avoids 0/0 warnings for classes absent from y_true.
        values = np.divide(counts, row_sums, out=np.zeros(counts.shape), where=row_sums > 0)
        vmax, fmt = 1.0, "{:.2f}"
    else:
        values = counts
        vmax, fmt = max(int(counts.max()), 1), "{:d}"
    fig, ax = _figure_and_axes(ax, (6.0, 6.0))
    ax.imshow(values, cmap="Blues", vmin=0, vmax=vmax, interpolation="nearest")
    fontsize = 8 if num_classes <= 10 else 6
    for i in range(num_classes):
        for j in range(num_classes):
            color = "white" if values[i, j] > vmax / 2 else "black"
            ax.text(
                j,
                i,
                fmt.format(values[i, j]),
                ha="center",
                va="center",
                color=color,
                fontsize=fontsize,
            )
    ticks = np.arange(num_classes)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / total
    ax.set_title(f"accuracy {accuracy:.2%} ({np.trace(counts)}/{total})")
    return fig


def plot_most_confused(
    X: object, y_true: object, P: object, *, n: int = 12, ncols: int = 6
) -> Figure:
    """Grid of the ``n`` most confident mistakes, titled "pred 7 (0.98) / true 2".

    X: (784, m); y_true: (m,); P: (10, m). With no mistakes, a figure saying so is returned.
    """
    images, side = _as_images(X)
    probs = _as_probabilities(P, images.shape[1])
    yt = as_labels(y_true, probs.shape[0], name="y_true")
    _check_same_length(**{"X columns": images[0], "y_true": yt})
    idx = most_confused(yt, probs, n)
    if idx.size == 0:
        fig, ax = _figure_and_axes(None, (4.0, 1.0))
        ax.text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
        ax.set_axis_off()
        return fig
    pred = probs[:, idx].argmax(axis=0)
    titles = [
        f"pred {p} ({probs[p, j]:.2f}) / true {yt[j]}" for p, j in zip(pred, idx, strict=True)
    ]
    return _digit_grid(
        images,
        side,
        idx,
        titles,
        [WRONG_COLOR] * idx.size,
        ncols,
        title=f"{idx.size} most confident mistakes",
    )


# --------------------------------------------------------------------------- what it learned


def plot_first_layer_weights(W1: object, *, ncols: int = 9) -> Figure:
    """Each row of the first layer's weights as an image: what each hidden unit responds to.

    W1: (n_1, 784); row j holds hidden unit j's weight for every pixel, shown as a 28x28 image
    (reshaped row-major, as the images are). One colour scale for every row, symmetric around 0:
    ink on a red pixel raises the unit's Z, ink on a blue one lowers it, white pixels do not
    matter. Weights that are not finite (a network that blew up) are left blank.
    """
    weights = np.asarray(W1, dtype=float)
    side = math.isqrt(weights.shape[1]) if weights.ndim == 2 else 0
    if weights.ndim != 2 or side * side != weights.shape[1] or weights.shape[0] == 0:
        raise ValueError(
            "W1 must have one row per hidden unit and one column per pixel, (n_1, 784); got "
            f"{weights.shape} (did you pass W1.T?)"
        )
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    finite = np.abs(weights[np.isfinite(weights)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    n = weights.shape[0]
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    # One mosaic in one axes (CS231n's visualize_grid): far quicker to draw than n axes. The
    # gaps between tiles, and weights that are not finite, are NaN: drawn blank.
    gap, step = 2, side + 2
    mosaic = np.full((nrows * step - gap, ncols * step - gap), np.nan)
    for j, row in enumerate(np.where(np.isfinite(weights), weights, np.nan)):
        top, left = divmod(j, ncols)
        mosaic[top * step : top * step + side, left * step : left * step + side] = row.reshape(
            side, side
        )
    fig, ax = _figure_and_axes(None, (0.85 * ncols + 1.2, 0.85 * nrows + 0.5))
    image = ax.imshow(mosaic, cmap=colormaps["RdBu_r"].with_extremes(bad="white"),
                      vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, shrink=0.8, label="weight: ink on red raises Z, on blue lowers it")
    ax.set_title(f"the {n} rows of W1, one {side}x{side} image per hidden unit")
    return fig


def _as_curve(losses: Sequence[float | None]) -> np.ndarray:
    """(k,) losses; None (a loss that was not finite) becomes NaN, a gap in the line."""
    return np.array([np.nan if loss is None else loss for loss in losses], dtype=float)


def plot_mistake_gallery(curves: Mapping | None = None, *, ncols: int = 3) -> Figure:
    """Training curves of typical mistakes, each next to the correct curve: one axes per mistake.

    curves: the content of ``MISTAKE_CURVES`` (read from that file by default):
        {"network": {...}, "correct": {"title", "losses"},
         "mistakes": [{"name", "title", "description", "losses"}, ...]}
    with one loss per training step, None where it was not finite (the parameters blew up):
    the line stops there and the first such step is marked. The y-axis is logarithmic and
    shared, so curves that climb and curves that fall both stay readable; the dashed line is
    ln 10, the loss of a uniform guess.
    """
    content = json.loads(MISTAKE_CURVES.read_text()) if curves is None else curves
    correct = _as_curve(content["correct"]["losses"])
    mistakes = list(content["mistakes"])
    if not mistakes:
        raise ValueError("plot_mistake_gallery: no mistakes to show")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, len(mistakes))
    nrows = math.ceil(len(mistakes) / ncols)
    fig = _new_figure((3.3 * ncols, 2.6 * nrows + 0.4))
    first = None
    for k, mistake in enumerate(mistakes):
        ax = fig.add_subplot(nrows, ncols, k + 1, sharex=first, sharey=first)
        first = first or ax
        losses = _as_curve(mistake["losses"])
        # The correct curve on top, thin: where a mistake changes nothing, both stay visible.
        ax.plot(losses, color=WRONG_COLOR, linewidth=1.6, label="with the mistake")
        ax.plot(correct, color="dimgray", linewidth=0.7, label=content["correct"]["title"])
        ax.axhline(np.log(10), color="black", linestyle="--", linewidth=0.8,
                   label="ln 10: a uniform guess")
        blown = np.flatnonzero(~np.isfinite(losses))
        if blown.size:
            ax.axvline(blown[0], color=WRONG_COLOR, linestyle=":", linewidth=1)
            ax.text(blown[0], 0.9, f" nan from step {blown[0]} on", color=WRONG_COLOR,
                    fontsize=8, va="top", transform=ax.get_xaxis_transform())
        ax.set_yscale("log")
        ax.set_title(mistake["title"], fontsize=10)
        ax.grid(True, alpha=0.3)
        if k % ncols == 0:
            ax.set_ylabel("loss")
        if k >= len(mistakes) - ncols:
            ax.set_xlabel("step")
    handles, labels = first.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    return fig


# --------------------------------------------------------------------------- output


def save_figure(fig: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Save ``fig`` as a PNG at ``path`` (".png" added if there is no suffix), creating parent
    folders. Returns the path written. Works without a display: no pyplot involved."""
    out = Path(path)
    if out.suffix == "":
        out = out.with_suffix(".png")
    elif out.suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG files; got suffix {out.suffix!r} in {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, format="png")
    return out


# --------------------------------------------------------------------------- the data, early


def plot_digits_with_one_hot(
    X: object, Y: object, *, indices: Sequence[int] | np.ndarray | None = None, n: int = 8
) -> Figure:
    """Digits in a row, and below them their columns of the one-hot matrix ``Y``.

    X: (784, m); Y: (num_classes, m) one-hot, one column per example (as in the course).
    indices: the columns to show; default the first ``n``. The lower panel is the matrix
    ``Y[:, indices]`` written out in 0s and 1s, each column under its image and each row
    labelled with its digit, so the reader sees what "column i of Y" means.
    """
    images, side = _as_images(X)
    targets = np.asarray(Y, dtype=float)
    if targets.ndim != 2 or targets.shape[0] < 2:
        raise ValueError(f"Y must be one-hot columns of shape (10, m), got {targets.shape}")
    labels = as_labels(targets, name="Y")  # raises unless every column is one-hot
    m = _check_same_length(**{"X columns": images[0], "Y columns": labels})
    idx = np.arange(min(n, m)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError("nothing to plot: indices is empty (or X has no columns)")
    if idx.min() < 0 or idx.max() >= m:
        raise ValueError(f"indices must lie in [0, {m - 1}], got {idx.min()}..{idx.max()}")
    k, num_classes = idx.size, targets.shape[0]
    fig = _new_figure((0.9 * k + 1.4, 1.4 + 0.28 * num_classes))
    # One grid column per image; the matrix spans them all, so its column j sits under image j.
    grid = fig.add_gridspec(2, k, height_ratios=[1.0, 0.3 * num_classes])
    vmax = _pixel_scale(images[:, idx])
    for j, column in enumerate(idx):
        ax = fig.add_subplot(grid[0, j])
        _show_digit(ax, images[:, column], side, vmax)
        ax.set_title(f"digit {labels[column]}", fontsize=9)
    ax = fig.add_subplot(grid[1, :])
    shown = targets[:, idx]
    ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.5, aspect="auto", interpolation="nearest")
    for row in range(num_classes):
        for j in range(k):
            one = shown[row, j] == 1
            ax.text(j, row, "1" if one else "0", ha="center", va="center", fontsize=8,
                    color="white" if one else "gray", fontweight="bold" if one else "normal")
    ax.set_xticks(np.arange(k), [str(column) for column in idx])
    ax.set_yticks(np.arange(num_classes))
    ax.set_xlabel("column i of Y: one image each")
    ax.set_ylabel("row k of Y: digit k")
    ax.tick_params(length=0)
    return fig
