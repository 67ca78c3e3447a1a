"""Computational graphs of the course's network: boxes, arrows and labels drawn with matplotlib.

Conventions (as in ``helpers.forward``): one example per column; a layer computes
``Z = W H_prev + b`` and ``H = g(Z)`` and keeps ``memory = ((H_prev, W, b), Z)``; ``memories[l-1]``
is the memory of layer ``l``; the gradients are per example in ``dH`` and ``dZ``, and the 1/m of
the mean loss enters only in ``dW`` and ``db``.

Interface:
    layer_graph() -> Figure
        one layer: forward H_prev, W, b -> Z -> H; backward dH -> dZ -> dW, db, dH_prev with
        their formulas, the shapes, and a dashed box around what ``memory`` keeps.
    network_graph(L=3) -> Figure
        the whole network X = H0 -> layer 1 ... layer L -> loss with Y, and the backward pass
        from the fused softmax + cross-entropy node, labelled with ``memories[l-1]`` and the
        ``gradients`` keys ``dH{l}``, ``dW{l}``, ``db{l}`` (``dH{L-1}``: last hidden layer).

Forward arrows are blue and point left to right; backward arrows are red and point right to
left. Both functions return a ``helpers.plots.NotebookFigure`` (no pyplot), which shows as one
PNG image when it is the last expression of a notebook cell, like every figure of the course.
Data coordinates are (very nearly) inches, so box sizes and font sizes stay in proportion.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from helpers.plots import _new_figure

__all__ = ["layer_graph", "network_graph"]

FORWARD_COLOR = "tab:blue"
BACKWARD_COLOR = "tab:red"
MEMORY_COLOR = "0.4"
FONT_SIZE = 11
CODE_FONT = "monospace"  # names as they are written in the code: keys, memories[l-1]


# --------------------------------------------------------------------------- drawing pieces


@dataclass(frozen=True)
class _Box:
    """A drawn box: centre (x, y), width w and height h in inches."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self) -> tuple[float, float]:
        return (self.x - self.w / 2, self.y)

    @property
    def right(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y)

    @property
    def top(self) -> tuple[float, float]:
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self) -> tuple[float, float]:
        return (self.x, self.y - self.h / 2)

    def at(self, fx: float, fy: float) -> tuple[float, float]:
        """The point at fractions (fx, fy) of the box, (0, 0) its lower-left corner."""
        return (self.x + (fx - 0.5) * self.w, self.y + (fy - 0.5) * self.h)


def _canvas(width: float, height: float):
    """A figure of ``width`` x ``height`` inches whose one axes measures in inches, no frame."""
    fig = _new_figure((width, height))
    ax = fig.add_subplot()
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def _box(ax, x, y, w, h, text, color, *, fontsize=FONT_SIZE, family=None, dashed=False) -> _Box:
    """Draw a rounded box centred at (x, y) with ``text`` in its middle."""
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor="white" if dashed else _tint(color),
            edgecolor=color,
            linewidth=1.4,
            linestyle="--" if dashed else "-",
            zorder=2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, family=family, zorder=3)
    return _Box(x, y, w, h)


def _tint(color: str) -> tuple[float, float, float, float]:
    """A pale version of ``color`` for a box's background."""
    r, g, b, _ = to_rgba(color)
    return (1 - 0.12 * (1 - r), 1 - 0.12 * (1 - g), 1 - 0.12 * (1 - b), 1.0)


def _arrow(ax, start, end, color, *, dashed=False, rad=0.0, width=1.6) -> None:
    """An arrow from ``start`` to ``end`` (points in inches), head at ``end``."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            color=color,
            linewidth=width,
            linestyle="--" if dashed else "-",
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=0,
            shrinkB=0,
            zorder=1,
        )
    )


def _label(ax, x, y, text, color, *, fontsize=FONT_SIZE - 1, family=None, ha="center", va="center"):
    """Text on an arrow, on a white background so that the line does not cross it."""
    ax.text(
        x,
        y,
        text,
        ha=ha,
        va=va,
        color=color,
        fontsize=fontsize,
        family=family,
        zorder=4,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
    )


def _legend(ax, loc="lower right") -> None:
    handles = [
        Line2D([], [], color=FORWARD_COLOR, linewidth=2, label="forward"),
        Line2D([], [], color=BACKWARD_COLOR, linewidth=2, label="backward"),
        Line2D([], [], color=MEMORY_COLOR, linewidth=1.5, linestyle="--", label="memory"),
    ]
    ax.legend(handles=handles, loc=loc, fontsize=FONT_SIZE - 1, frameon=False)


# --------------------------------------------------------------------------- one layer

# Every text of the layer graph, in mathtext; the tests read them back from the figure.
SHAPE = {
    "H_prev": r"$(n_{\mathrm{prev}},\ m)$",
    "W": r"$(n,\ n_{\mathrm{prev}})$",
    "b": r"$(n,\ 1)$",
    "Z": r"$(n,\ m)$",
}
FORWARD_TEXT = {
    "H_prev": r"$H_{\mathrm{prev}}$",
    "W": r"$W$",
    "b": r"$b$",
    "Z": r"$Z = W\,H_{\mathrm{prev}} + b$",
    "H": r"$H = g(Z)$",
}
BACKWARD_TEXT = {
    "dH": r"$dH$",
    "dZ": r"$dZ = dH \ast g\,'(Z)$",
    "dH_prev": r"$dH_{\mathrm{prev}} = W^{\top} dZ$",
    "dW": r"$dW = (1/m)\ dZ\, H_{\mathrm{prev}}^{\top}$",
    "db": r"$db = (1/m)\ \Sigma_i\, dZ_{:,i}$",
}
MEMORY_TEXT = "memory = ((H_prev, W, b), Z)"


def layer_graph() -> Figure:
    """The computational graph of one layer, forward (blue) and backward (red).

    Forward: H_prev (n_prev, m), W (n, n_prev) and b (n, 1) give Z = W H_prev + b (n, m), then
    H = g(Z). Backward: dH gives dZ = dH * g'(Z), then dW = (1/m) dZ H_prev^T,
    db = (1/m) sum_i dZ[:, i] and dH_prev = W^T dZ, each the shape of what it is the gradient
    of. A dashed box surrounds what forward keeps for backward: memory = ((H_prev, W, b), Z).
    """
    fig, ax = _canvas(10.0, 5.75)
    z = _layer_forward_lane(ax)
    # What forward keeps for backward: the three inputs and Z, not H.
    memory_bottom = 2.75
    ax.add_patch(
        FancyBboxPatch(
            (1.45, memory_bottom),
            5.45,
            2.75,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor="none",
            edgecolor=MEMORY_COLOR,
            linewidth=1.4,
            linestyle="--",
            zorder=0,
        )
    )
    _label(ax, 1.6, 5.5, MEMORY_TEXT, MEMORY_COLOR, family=CODE_FONT, ha="left")
    dz = _layer_backward_lane(ax)
    # Backward reads the memory: Z for g'(Z), H_prev for dW, W for dH_prev.
    _arrow(ax, (z.x, memory_bottom), dz.top, MEMORY_COLOR, dashed=True, width=1.2)
    _label(ax, z.x + 0.15, 2.2, "read by backward", MEMORY_COLOR, ha="left")
    _legend(ax)
    return fig


_LAYER_X = {"inputs": 2.45, "Z": 5.45, "H": 8.0}  # the three columns of the layer graph
_TWO_LINES = 0.72  # height of a box holding a formula and a shape
_EDGE_LEFT, _EDGE_RIGHT = 0.15, 9.95  # where arrows from and to the other layers end


def _layer_forward_lane(ax) -> _Box:
    """The top lane: H_prev, W, b stacked on the left, then Z, then H. Returns Z's box."""
    inputs = {
        name: _box(
            ax,
            _LAYER_X["inputs"],
            y,
            1.6,
            _TWO_LINES,
            f"{FORWARD_TEXT[name]}\n{SHAPE[name]}",
            FORWARD_COLOR,
        )
        for name, y in {"H_prev": 5.0, "W": 4.15, "b": 3.3}.items()
    }
    z = _box(
        ax,
        _LAYER_X["Z"],
        4.15,
        2.3,
        _TWO_LINES,
        f"{FORWARD_TEXT['Z']}\n{SHAPE['Z']}",
        FORWARD_COLOR,
    )
    h = _box(
        ax,
        _LAYER_X["H"],
        4.15,
        1.6,
        _TWO_LINES,
        f"{FORWARD_TEXT['H']}\n{SHAPE['Z']}",
        FORWARD_COLOR,
    )
    for name, box in inputs.items():
        _arrow(ax, box.right, z.at(0, {"H_prev": 0.8, "W": 0.5, "b": 0.2}[name]), FORWARD_COLOR)
    _arrow(ax, z.right, h.left, FORWARD_COLOR)
    h_prev = inputs["H_prev"]
    _arrow(ax, (_EDGE_LEFT, h_prev.y), h_prev.left, FORWARD_COLOR)
    _label(ax, _EDGE_LEFT, h_prev.y + 0.3, "from layer l−1", FORWARD_COLOR, ha="left")
    _arrow(ax, h.right, (_EDGE_RIGHT, h.y), FORWARD_COLOR)
    _label(ax, _EDGE_RIGHT, h.y + 0.3, "to layer l+1", FORWARD_COLOR, ha="right")
    return z


def _layer_backward_lane(ax) -> _Box:
    """The bottom lane: dH arrives on the right, goes through dZ and leaves as dH_prev, dW, db
    on the left (each under the input it belongs to). Returns dZ's box."""
    dh = _box(
        ax,
        _LAYER_X["H"],
        1.27,
        1.6,
        _TWO_LINES,
        f"{BACKWARD_TEXT['dH']}\n{SHAPE['Z']}",
        BACKWARD_COLOR,
    )
    dz = _box(
        ax,
        _LAYER_X["Z"],
        1.27,
        2.3,
        _TWO_LINES,
        f"{BACKWARD_TEXT['dZ']}\n{SHAPE['Z']}",
        BACKWARD_COLOR,
    )
    shapes = {"dH_prev": SHAPE["H_prev"], "dW": SHAPE["W"], "db": SHAPE["b"]}
    grads = {
        name: _box(
            ax,
            _LAYER_X["inputs"],
            y,
            2.3,
            _TWO_LINES,
            f"{BACKWARD_TEXT[name]}\n{shapes[name]}",
            BACKWARD_COLOR,
        )
        for name, y in {"dH_prev": 2.12, "dW": 1.27, "db": 0.42}.items()
    }
    _arrow(ax, (_EDGE_RIGHT, dh.y), dh.right, BACKWARD_COLOR)
    _label(ax, _EDGE_RIGHT, dh.y + 0.3, "from layer l+1", BACKWARD_COLOR, ha="right")
    _arrow(ax, dh.left, dz.right, BACKWARD_COLOR)
    for name, box in grads.items():
        start = dz.at(0, {"dH_prev": 0.8, "dW": 0.5, "db": 0.2}[name])
        _arrow(ax, start, box.right, BACKWARD_COLOR)
    dh_prev = grads["dH_prev"]
    _arrow(ax, dh_prev.left, (_EDGE_LEFT, dh_prev.y), BACKWARD_COLOR)
    _label(ax, _EDGE_LEFT, dh_prev.y + 0.3, "to layer l−1", BACKWARD_COLOR, ha="left")
    return dz


# --------------------------------------------------------------------------- the whole network

RULE_TEXT = (
    "backward of layer l:\n"
    "  reads memories[l-1] and dH{l} (layer L: dZ[L])\n"
    "  writes dW{l}, db{l} and dH{l-1}"
)
_STEP = 1.95  # inches between the columns of the network graph: X, layer 1..L, loss
_FORWARD_Y, _BACKWARD_Y = 3.55, 1.75  # heights of the two lanes
_BOX_W, _BOX_H = 1.45, 0.72


def network_graph(L: int = 3) -> Figure:
    """The computational graph of an ``L``-layer network, forward (blue) and backward (red).

    Forward: X = H0 -> layer 1 -> ... -> layer L -> cross-entropy loss with Y; layers 1..L-1 use
    ReLU, layer L softmax. Backward: the fused softmax + cross-entropy node gives
    dZ^[L] = H^[L] - Y (per example, no 1/m); the backward box of layer l reads memories[l-1]
    and dH{l} (dZ^[L] for layer L) and writes the gradients keys dW{l}, db{l} and dH{l-1}.
    About 10 inches wide for L = 3, 2 inches more per extra layer.
    """
    if isinstance(L, bool) or not isinstance(L, int) or L < 1:
        raise ValueError(f"L must be a whole number of layers >= 1, got {L!r}")
    fig, ax = _canvas(_STEP * (L + 2) + 0.3, 5.0)
    x_of = [0.9 + _STEP * c for c in range(L + 2)]  # column c: 0 the input, L + 1 the loss
    forward = _network_forward_lane(ax, x_of, L)
    backward = _network_backward_lane(ax, x_of, L, forward[-1])
    for l in range(1, L + 1):  # what layer l's forward step kept, read by its backward step
        _arrow(ax, forward[l].bottom, backward[l].top, MEMORY_COLOR, dashed=True, width=1.2)
        _label(
            ax,
            x_of[l],
            (_FORWARD_Y + _BACKWARD_Y) / 2,
            f"memories[{l - 1}]",
            MEMORY_COLOR,
            family=CODE_FONT,
            fontsize=FONT_SIZE - 2,
        )
    _label(ax, 0.15, 4.68, RULE_TEXT, "0.2", family=CODE_FONT, fontsize=FONT_SIZE - 2, ha="left")
    _legend(ax, loc="lower left")
    return fig


def _network_forward_lane(ax, x_of: list[float], L: int) -> list[_Box]:
    """X, the L layers and the loss (fed Y from above), left to right; returns their boxes."""
    boxes = [_box(ax, x_of[0], _FORWARD_Y, 1.1, _BOX_H, r"$X = H^{[0]}$", FORWARD_COLOR)]
    for l in range(1, L + 1):
        kind = "softmax" if l == L else "ReLU"
        boxes.append(
            _box(ax, x_of[l], _FORWARD_Y, _BOX_W, _BOX_H, f"layer {l}\n{kind}", FORWARD_COLOR)
        )
    loss = _box(
        ax,
        x_of[L + 1],
        _FORWARD_Y,
        _BOX_W,
        _BOX_H,
        "cross-\nentropy " + r"$\mathcal{L}$",
        FORWARD_COLOR,
    )
    boxes.append(loss)
    for l in range(L + 1):  # the arrow leaving column l carries that layer's output H^[l]
        left, right = boxes[l].right, boxes[l + 1].left
        _arrow(ax, left, right, FORWARD_COLOR)
        _label(ax, (left[0] + right[0]) / 2, _FORWARD_Y + 0.22, rf"$H^{{[{l}]}}$", FORWARD_COLOR)
    _arrow(ax, (loss.x, 4.85), loss.top, FORWARD_COLOR)
    _label(ax, loss.x + 0.15, 4.65, r"$Y$ (one-hot)", FORWARD_COLOR, ha="left")
    return boxes


def _network_backward_lane(ax, x_of: list[float], L: int, loss: _Box) -> list[_Box | None]:
    """The fused softmax + cross-entropy node under the loss, then the layers' backward boxes
    right to left, each writing dW{l} and db{l} below and dH{l-1} to its left. Returns the
    boxes indexed by layer (index 0 unused)."""
    fused = _box(
        ax,
        x_of[L + 1],
        _BACKWARD_Y,
        _BOX_W,
        _BOX_H + 0.35,
        "softmax +\ncross-entropy\n" + rf"$dZ^{{[{L}]}} = H^{{[{L}]}} - Y$",
        BACKWARD_COLOR,
        fontsize=FONT_SIZE - 1,
    )
    _arrow(ax, loss.bottom, fused.top, BACKWARD_COLOR)
    _label(
        ax,
        fused.x,
        fused.bottom[1] - 0.25,
        "per example,\nno 1/m",
        BACKWARD_COLOR,
        fontsize=FONT_SIZE - 2,
    )
    boxes: list[_Box | None] = [None]
    for l in range(1, L + 1):
        what = "(affine only)" if l == L else "layer_backward\n(relu)"
        boxes.append(
            _box(
                ax,
                x_of[l],
                _BACKWARD_Y,
                _BOX_W,
                _BOX_H,
                f"layer {l} backward\n{what}",
                BACKWARD_COLOR,
                fontsize=FONT_SIZE - 2,
            )
        )
    _arrow(ax, fused.left, boxes[L].right, BACKWARD_COLOR)
    _label(
        ax,
        (fused.left[0] + boxes[L].right[0]) / 2,
        _BACKWARD_Y + 0.22,
        rf"$dZ^{{[{L}]}}$",
        BACKWARD_COLOR,
    )
    for l in range(L, 0, -1):
        start = boxes[l].left
        end = boxes[l - 1].right if l > 1 else (x_of[0] + 0.2, _BACKWARD_Y)
        _arrow(ax, start, end, BACKWARD_COLOR)
        _label(
            ax,
            (start[0] + end[0]) / 2,
            _BACKWARD_Y + 0.22,
            f"dH{l - 1}",
            BACKWARD_COLOR,
            family=CODE_FONT,
        )
        for dx, key in ((-0.32, f"dW{l}"), (0.32, f"db{l}")):
            top = (boxes[l].x + dx, boxes[l].bottom[1])
            _arrow(ax, top, (top[0], 0.55), BACKWARD_COLOR)
            _label(ax, top[0], 0.35, key, BACKWARD_COLOR, family=CODE_FONT)
    return boxes
