"""`make demo`: train the reference network on the bundled data, report accuracy, save figures.

    python -m helpers.instructor.train [--out out/demo] [--seed 0]

Saves ``loss_curve.png``, ``predictions.png`` and ``confusion_matrix.png`` in ``--out``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from helpers import plots
from helpers.data import load_mnist, load_official_test
from helpers.instructor import reference
from helpers.labels import accuracy
from helpers.training import DIMENSIONS, TAUGHT_RECIPE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the reference network and save figures.")
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    data = load_mnist()
    print(f"data: {data.source}: {data.train.m} training, {data.test.m} held-out images")
    start = time.perf_counter()
    parameters, losses = reference.L_layer_model(
        data.train.X,
        data.train.Y,
        DIMENSIONS,
        seed=args.seed,
        return_losses=True,
        progress=True,
        **TAUGHT_RECIPE,
    )
    print(f"trained {DIMENSIONS} in {time.perf_counter() - start:.1f} s with {TAUGHT_RECIPE}")

    splits = {"train": data.train, "held-out": data.test}
    official = load_official_test()
    if official is not None:
        splits["official test"] = official
    predictions = {}
    for name, split in splits.items():
        predictions[name] = reference.predict(split.X, split.y, parameters, verbose=False)
        share = accuracy(predictions[name], split.y)
        print(f"{name:>14} accuracy: {share:.1%} ({split.m} images)")

    predicted = predictions["held-out"]
    figures = {
        "loss_curve": plots.plot_loss_curve(losses, reference=math.log(10)),
        "predictions": plots.plot_digit_grid(data.test.X, data.test.y, predicted, n=32),
        "confusion_matrix": plots.plot_confusion_matrix(data.test.y, predicted),
    }
    for name, figure in figures.items():
        print(f"saved {plots.save_figure(figure, args.out / f'{name}.png')}")


if __name__ == "__main__":
    main()
