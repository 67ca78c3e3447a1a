"""``make gallery``: what typical mistakes do to training, for the gallery of notebook 7.

Each chosen mistake of the sample catalogue (``samples.toml``, kind "mistake") is built as a
submission would be (``samples.build``: the solutions with that one edit), and the training loop
of its notebook 6, built on its notebooks 1 to 5, trains a small network on the bundled images.
The catalogue's solved sample gives the correct curve. The losses of every step go, with each
sample's name and description, to ``helpers/mistake_curves.json`` (``helpers.plots.
MISTAKE_CURVES``): a student-side file, committed, which ``helpers.plots.plot_mistake_gallery``
draws. ``tests/test_gallery.py`` regenerates a curve and compares, so the file cannot drift from
the catalogue.

The network has two hidden layers: with the course's single one, ``dH0`` is computed but never
used, so a mistake in ``dH_prev`` changes nothing in training (a test shows it).

Interface:
    CORRECT: the solved sample's name;  GALLERY: {mistake's sample name: short title}
    NETWORK: the training settings (layer sizes, seed, steps, recipe)
    train_curve(sample, root, X, Y, network=NETWORK) -> list of losses (None where not finite)
    gallery(root) -> the file's content, a dict
    main(argv=None)   ``python -m helpers.instructor.gallery [--out FILE] [--root DIR]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from helpers.answers import load_answers
from helpers.data import load_bundled
from helpers.instructor.samples import Sample, build, load_catalogue
from helpers.plots import MISTAKE_CURVES
from helpers.training import TAUGHT_RECIPE

CORRECT = "solved"
# The panels, in order: from the loudest failure to one a loss curve cannot show.
GALLERY = {
    "gradient_ascent": "update adds the gradient",
    "dW_without_1_over_m": "dW without 1/m",
    "relu_mask_from_dH": "ReLU mask from dH, not Z",
    "dH_prev_over_m": "dH_prev divided by m",
    "hidden_layers_as_sigmoid": "sigmoid_backward in hidden layers",
    "b_never_updated": "b never updated",
}
# The taught recipe for a few hundred steps (under a second each) on two hidden layers.
NETWORK = {"dimensions": [784, 45, 45, 10], "seed": 0,
           **TAUGHT_RECIPE, "num_iterations": 300}
SIGNIFICANT_DIGITS = 6  # enough for a plot, and the file stays small
_NUMBER = r"(?:-?[0-9.eE+-]+|null)"
_NUMBER_LIST = re.compile(rf"\[\s*((?:{_NUMBER},\s*)*{_NUMBER})\s*\]")


def train_curve(sample: Sample, root: Path, X: np.ndarray, Y: np.ndarray,
                network: dict = NETWORK) -> list[float | None]:
    """The loss of every training step of ``sample``'s own ``L_layer_model``.

    Args:
        sample: a sample of the catalogue; its notebooks are built into a temporary folder.
        root: the course folder (``release/`` and ``source/``, as ``samples.build`` needs).
        X, Y: training images (784, m) and one-hot digits (10, m).
        network: ``dimensions``, ``seed`` and the keyword arguments of ``L_layer_model``.

    Returns:
        ``network["num_iterations"]`` losses, rounded to ``SIGNIFICANT_DIGITS``; None where a
        loss is not finite (the parameters blew up).
    """
    settings = dict(network)
    dimensions = settings.pop("dimensions")
    with tempfile.TemporaryDirectory() as folder:
        built = build(sample, Path(folder) / sample.name, root)
        # A notebook loads its earlier neighbours from the current folder; one BLAS thread keeps
        # the numbers the same on any machine's thread count; a blow-up is what we want to see.
        with contextlib.chdir(built), threadpool_limits(1), np.errstate(all="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = load_answers("06_model.ipynb", "L_layer_model")
            _, losses = model(X, Y, dimensions, return_losses=True, **settings)
    return [_rounded(loss) for loss in losses]


def _rounded(loss) -> float | None:
    value = float(loss)
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else None


def gallery(root: Path) -> dict:
    """The content of the curves file: settings, the correct curve, one curve per mistake."""
    samples = {sample.name: sample for sample in load_catalogue()}
    train = load_bundled().train

    def entry(name: str, title: str) -> dict:
        sample = samples[name]
        return {"name": name, "title": title, "description": sample.description,
                "losses": train_curve(sample, root, train.X, train.Y)}

    return {
        # the student kit names no instructor module: say how, not where
        "about": "Written by `make gallery` from the course's sample catalogue; do not edit.",
        "network": NETWORK | {"data": f"the bundled MNIST images, {train.m} for training"},
        "correct": entry(CORRECT, "correct"),
        "mistakes": [entry(name, title) for name, title in GALLERY.items()],
    }


def as_json(content: dict) -> str:
    """The file's text: indented, but each list of numbers on one line (a curve per line)."""
    text = json.dumps(content, indent=1)
    return _NUMBER_LIST.sub(lambda found: "[" + re.sub(r",\s*", ", ", found[1]) + "]", text) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the training curves of typical mistakes.")
    parser.add_argument("--out", type=Path, default=MISTAKE_CURVES)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course folder (default: .)")
    args = parser.parse_args(argv)
    content = gallery(args.root.resolve())
    args.out.write_text(as_json(content))
    for curve in [content["correct"], *content["mistakes"]]:
        losses = curve["losses"]
        last = next((loss for loss in reversed(losses) if loss is not None), None)
        blown = sum(loss is None for loss in losses)
        print(f"{curve['name']:28s} first loss {losses[0]}, last finite {last}"
              + (f", {blown} steps not finite" if blown else ""))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
