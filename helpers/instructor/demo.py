"""The grading pipeline end to end, on sample submissions: ``make demo``.

In a course folder of its own (``out/demo/course`` by default) it creates the gradebook
(SQLite unless ``--db-url`` says otherwise), generates the release from ``source/``, registers
the sample students, stages their submissions (the solutions, the untouched release, typical
mistakes, a correct answer written differently, a tampering attempt, a missing notebook),
autogrades them on every core, writes feedback and nbgrader's grades CSV, and prints the
scores by student and notebook and the pass rate of every test, read from the gradebook. One
figure shows both. Running it again starts the demo's course folder afresh (from the current
release and samples) and gives the same result.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from helpers.instructor.course import ASSIGNMENT, Course
from helpers.instructor.grade_class import grade_class
from helpers.instructor.samples import load_catalogue, points_per_test, stage_students
from helpers.plots import save_figure

DEMO_MARK = ".made-by-make-demo"
DEMO_STUDENTS = (
    "solved",
    "untouched",
    "loss_without_mean",
    "relu_mask_from_dH",
    "dW_without_1_over_m",
    "output_dZ_sign",
    "gradient_ascent",
    "learning_rate_ignored",
    "argmax_over_wrong_axis",
    "einsum_and_mean",
    "replaced_np_allclose",
    "missing_notebook",
)


def run(out: Path, project: Path, db_url: str | None = None, workers: int | None = None) -> dict:
    """Run the whole pipeline in ``out`` on the instructor's notebooks of the course folder
    ``project``; return ``{student: {notebook: score}}``."""
    out = Path(out).resolve()
    root = fresh_course_folder(out / "course")
    samples = {s.name: s for s in load_catalogue() if s.name in DEMO_STUDENTS}
    course = Course(root, db_url)

    _step(1, f"gradebook {course.db_url}, release, {len(samples)} students and their work")
    staging = out / "staging"
    shutil.rmtree(staging, ignore_errors=True)  # built afresh from the current catalogue
    stage_students(course, samples, staging, project)
    _step(2, "autograding (log: course/grading.log)")
    report = grade_class(root, list(samples), db_url=db_url, workers=workers)
    for student, reason in sorted(report.problems.items()):
        print(f"   could not grade all of {student}: {reason}")
    _step(3, "feedback for every student in course/feedback/")
    course.generate_feedback()
    _step(4, "grades exported")
    csv_path = course.export(out / "grades.csv")
    print(f"   {csv_path}")

    scores, results = course.scores(), course.test_results()
    points = points_per_test(root)
    print()
    print(score_table(scores, points))
    print()
    print(pass_rate_table(results, points))
    figure = summary_figure(scores, results, points)
    print(f"\nsaved {save_figure(figure, out / 'grading_summary.png')}")
    return scores


def fresh_course_folder(root: Path) -> Path:
    """``root`` emptied and made again, when the demo made it: its submissions are built from the
    current release and samples, which may have changed since. A folder the demo did not make
    is never touched."""
    if root.exists():
        students = {p.name for p in (root / "submitted").glob("*")}
        if not (root / DEMO_MARK).exists() and not students <= set(DEMO_STUDENTS):
            raise SystemExit(f"{root} was not made by the demo; left alone: pass another --out")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / DEMO_MARK).write_text("made by make demo; emptied by the next run\n")
    return root


def _step(number: int, text: str) -> None:
    print(f"[{number}/4] {text}", flush=True)


def notebooks_of(points: dict[str, float]) -> list[str]:
    """The notebooks named in ``points`` (``{"notebook:grade_id": points}``), in order."""
    return list(dict.fromkeys(key.split(":")[0] for key in points))


def score_table(scores: dict[str, dict[str, float]], points: dict[str, float]) -> str:
    notebooks = notebooks_of(points)
    short = [notebook[:2] for notebook in notebooks]
    width = max(len("student"), *(len(student) for student in scores))
    lines = [f"{'student':<{width}}  " + " ".join(f"{s:>4}" for s in short) + "  total"]
    for student, by_notebook in sorted(scores.items()):
        row = " ".join(f"{by_notebook.get(nb, 0):>4g}" for nb in notebooks)
        lines.append(f"{student:<{width}}  {row}  {sum(by_notebook.values()):>5g}")
    return "\n".join(lines)


def pass_rates(results: dict, points: dict[str, float]) -> dict[tuple[str, str], float]:
    """Fraction of students who got full points on each test, in the order of ``points``."""
    in_notebook_order = [tuple(key.split(":")) for key in points]
    return {
        key: float(np.mean([r[key][0] == r[key][1] for r in results.values() if key in r]))
        for key in in_notebook_order
    }


def pass_rate_table(results: dict, points: dict[str, float]) -> str:
    rates = pass_rates(results, points)
    width = max(len(f"{nb}:{test}") for nb, test in rates)
    lines = [f"{'test':<{width}}  passed by"]
    for (notebook, test), rate in rates.items():
        lines.append(f"{notebook + ':' + test:<{width}}  {rate:>6.0%}")
    return "\n".join(lines)


def summary_figure(scores: dict, results: dict, points: dict[str, float]) -> Figure:
    students, notebooks = sorted(scores), notebooks_of(points)
    matrix = np.array([[scores[s].get(nb, 0) for nb in notebooks] for s in students])
    maxima = np.array(
        [sum(v for k, v in points.items() if k.startswith(f"{nb}:")) for nb in notebooks]
    )
    figure = Figure(figsize=(13, 0.35 * len(students) + 3), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.2])
    image = left.imshow(matrix / maxima, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        left.text(j, i, f"{value:g}", ha="center", va="center", fontsize=8)
    left.set_xticks(range(len(notebooks)), [nb[:2] for nb in notebooks])
    left.set_yticks(range(len(students)), students, fontsize=8)
    left.set_xlabel("notebook")
    left.set_title("points per notebook")
    figure.colorbar(image, ax=left, label="fraction of the notebook's points")

    rates = pass_rates(results, points)
    labels = [f"{nb[:2]} {test.removeprefix('test_')}" for nb, test in rates]
    right.barh(range(len(rates)), list(rates.values()), color="tab:blue")
    right.set_yticks(range(len(rates)), labels, fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, 1)
    right.set_xlabel("fraction of students passing")
    right.set_title("pass rate per test")
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--db-url", help="gradebook URL (default: SQLite in the course folder)")
    parser.add_argument("--workers", type=int, help="grading processes (default: one per core)")
    parser.add_argument(
        "--project", type=Path, default=Path.cwd(), help="course folder (default: .)"
    )
    args = parser.parse_args(argv)
    if not (args.project / "source" / ASSIGNMENT).is_dir():
        parser.error(f"no source/{ASSIGNMENT} in {args.project}: run this in the course folder")
    run(args.out, args.project, args.db_url, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
