"""Training time and accuracy of the course text's recipe against the recipe the notebooks teach.

Both train the same [784, 45, 10] network on the same 4,000 bundled images, in one run, so the
ratio of their times means something on a shared, noisy machine. Accuracy is measured on the
1,000 held-out bundled images and, when BACKPROP_MNIST_DIR holds them, on the official 10,000
MNIST test images.

    python benchmarks/bench_training.py [--seed 0] [--course-iterations 2000]
"""

from __future__ import annotations

import argparse
import time

from helpers.data import load_bundled, load_official_test
from helpers.instructor import reference
from helpers.training import COURSE_RECIPE, DIMENSIONS, TAUGHT_RECIPE


def measure(name: str, recipe: dict, data, official, seed: int) -> dict:
    start = time.perf_counter()
    parameters = reference.L_layer_model(
        data.train.X, data.train.Y, DIMENSIONS, seed=seed, progress=True, **recipe
    )
    seconds = time.perf_counter() - start
    row = {"recipe": name, "seconds": seconds}
    for split_name, split in (("held-out", data.test), ("official", official)):
        if split is not None:
            predicted = reference.predict(split.X, split.y, parameters, verbose=False)
            row[split_name] = reference.accuracy(predicted, split.y)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--course-iterations", type=int, default=COURSE_RECIPE["num_iterations"])
    args = parser.parse_args()

    data = load_bundled()
    official = load_official_test()
    course = {**COURSE_RECIPE, "num_iterations": args.course_iterations}
    rows = [
        measure("course text", course, data, official, args.seed),
        measure("taught", TAUGHT_RECIPE, data, official, args.seed),
    ]

    print(f"\n[784, 45, 10] trained on {data.train.m} bundled images (seed {args.seed})")
    if official is None:
        print("official test set: not found (set BACKPROP_MNIST_DIR to report it)")
    print(f"{'recipe':<12} {'settings':<66} {'train s':>8} {'held-out':>9} {'official':>9}")
    for row, recipe in zip(rows, (course, TAUGHT_RECIPE), strict=True):
        settings = ", ".join(f"{k}={v}" for k, v in recipe.items())
        accuracies = [
            f"{row[k]:9.1%}" if k in row else f"{'-':>9}" for k in ("held-out", "official")
        ]
        print(f"{row['recipe']:<12} {settings:<66} {row['seconds']:8.2f} {' '.join(accuracies)}")
    print(f"taught recipe trains {rows[0]['seconds'] / rows[1]['seconds']:.1f}x faster")


if __name__ == "__main__":
    main()
