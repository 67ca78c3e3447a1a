"""Tests for helpers.diagrams: the computational graphs carry the course's labels, no two texts
overlap, and a figure shows as exactly one image in a notebook.

The figures are inspected through their texts (the labels are matplotlib Text artists), so no
display is needed.
"""

from __future__ import annotations

import itertools
import os
import re

import nbformat
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from nbclient import NotebookClient

from helpers import diagrams, plots
from helpers.diagrams import layer_graph, network_graph

from project import PROJECT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def texts_of(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def the_text(fig: Figure, pattern: str) -> str:
    """The one text of ``fig`` matching the regular expression ``pattern``."""
    found = [t for t in texts_of(fig) if re.search(pattern, t)]
    assert len(found) == 1, f"{pattern!r} matches {found}"
    return found[0]


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of texts whose drawn extents overlap, and texts that leave the drawing's axes (the
    layout would then shrink the drawing to make room for them)."""
    fig.draw_without_rendering()  # lays the figure out, as saving it does
    (ax,) = fig.axes
    drawn = [(t.get_text(), t.get_window_extent()) for t in ax.texts]
    frame = ax.bbox
    outside = [
        (text, "outside the axes")
        for text, box in drawn
        if box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0 or box.y1 > frame.y1
    ]
    return outside + [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(drawn, 2)
        if box_a.overlaps(box_b)
    ]


# --------------------------------------------------------------------------- one layer


def test_layer_graph_shows_forward_backward_and_memory() -> None:
    fig = layer_graph()
    assert isinstance(fig, plots.NotebookFigure)
    for node in ("H_prev", "W", "b", "Z", "H"):
        assert any(diagrams.FORWARD_TEXT[node] in t for t in texts_of(fig)), node
    assert "memory = ((H_prev, W, b), Z)" in texts_of(fig)  # written as the course writes it
    # each gradient node shows its formula with the shape of what it is the gradient of
    for grad, shape in [("dH_prev", "H_prev"), ("dW", "W"), ("db", "b"), ("dZ", "Z")]:
        text = the_text(fig, re.escape(diagrams.BACKWARD_TEXT[grad]))
        assert text.endswith(diagrams.SHAPE[shape]), (grad, text)
    assert the_text(fig, r"^\$H_\{\\mathrm\{prev\}\}\$\n").endswith(r"(n_{\mathrm{prev}},\ m)$")
    assert the_text(fig, r"^\$b\$").endswith(r"(n,\ 1)$")


def test_the_1_over_m_is_in_dW_and_db_only() -> None:
    drawn = [t for t in texts_of(layer_graph()) if "1/m" in t]
    assert sorted(t[:5] for t in drawn) == ["$dW =", "$db ="]


def arrows_of(fig: Figure, color: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(start, end) of every arrow of ``color``, in inches."""
    return [
        p._posA_posB
        for p in fig.axes[0].patches
        if isinstance(p, FancyArrowPatch) and p.get_edgecolor() == pytest.approx(to_rgba(color))
    ]


@pytest.mark.parametrize("make", [layer_graph, network_graph], ids=["layer", "network"])
def test_forward_arrows_point_right_and_backward_arrows_left(make) -> None:
    fig = make()
    forward = arrows_of(fig, diagrams.FORWARD_COLOR)
    backward = arrows_of(fig, diagrams.BACKWARD_COLOR)
    sideways = [(a, b) for a, b in backward if abs(b[0] - a[0]) > 1e-9]  # not dW, db going down
    assert forward and all(end[0] >= start[0] for start, end in forward)
    assert sideways and all(end[0] < start[0] for start, end in sideways)


def test_layer_graph_has_an_arrow_per_edge_of_the_graph() -> None:
    fig = layer_graph()
    # H_prev, W, b -> Z -> H, with one arrow in and one out; the same backwards from dH
    assert len(arrows_of(fig, diagrams.FORWARD_COLOR)) == 6
    assert len(arrows_of(fig, diagrams.BACKWARD_COLOR)) == 6


# --------------------------------------------------------------------------- the network


@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_network_graph_labels_follow_the_course_indexing(L: int) -> None:
    fig = network_graph(L)
    assert isinstance(fig, plots.NotebookFigure)
    texts = texts_of(fig)
    keys = {t for t in texts if re.fullmatch(r"d[HWb]\d+", t)}
    expected = {f"dW{l}" for l in range(1, L + 1)} | {f"db{l}" for l in range(1, L + 1)}
    expected |= {f"dH{l}" for l in range(L)}  # dH{L-1}: the last hidden layer; no dH{L}
    assert keys == expected
    assert {t for t in texts if t.startswith("memories[")} == {f"memories[{i}]" for i in range(L)}
    for l in range(1, L + 1):
        kind = "softmax" if l == L else "ReLU"
        assert f"layer {l}\n{kind}" in texts
        assert any(t.startswith(f"layer {l} backward") for t in texts)
    fused = the_text(fig, "softmax \\+\ncross-entropy")
    assert fused.endswith(f"$dZ^{{[{L}]}} = H^{{[{L}]}} - Y$")
    assert "per example,\nno 1/m" in texts
    assert any("$Y$" in t for t in texts)


@pytest.mark.parametrize("L", [0, -1, 2.0, True, "3"])
def test_network_graph_needs_a_whole_number_of_layers(L) -> None:
    with pytest.raises(ValueError, match="L must be"):
        network_graph(L)


def test_the_network_graph_of_three_layers_fits_a_notebook() -> None:
    width, _ = network_graph(3).get_size_inches()
    assert 9.0 <= width <= 10.5


@pytest.mark.parametrize("L", [None, 1, 2, 3, 4], ids=lambda L: "layer" if L is None else f"L={L}")
def test_no_text_overlaps_another_or_leaves_the_figure(L) -> None:
    assert overlapping_texts(layer_graph() if L is None else network_graph(L)) == []


# --------------------------------------------------------------------------- in a notebook


def test_figures_hand_ipython_a_png_of_themselves() -> None:
    for fig in (layer_graph(), network_graph()):
        assert fig._repr_png_().startswith(PNG_SIGNATURE)


@pytest.mark.slow
def test_a_figure_cell_shows_exactly_one_image(tmp_path) -> None:
    """In a kernel, with pyplot's inline backend switched on or not: one PNG, no text repr."""
    cells = [
        "from helpers.diagrams import layer_graph, network_graph",
        "layer_graph()",
        "network_graph()",
        "%matplotlib inline\nimport matplotlib.pyplot as plt",
        "layer_graph()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    NotebookClient(nb, timeout=60, resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    for cell in (nb.cells[1], nb.cells[2], nb.cells[4]):
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, cell.outputs
        assert not any(
            "Figure size" in o.get("data", {}).get("text/plain", "") and "image/png" not in o.data
            for o in cell.outputs
        )
