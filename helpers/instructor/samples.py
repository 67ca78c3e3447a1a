"""Sample submissions: what students hand in, built from the release and the solutions.

A submission is a folder of notebooks, as nbgrader finds it in ``submitted/<student>/backprop``.
Every sample starts from the release notebooks (what students receive) and then
    * fills answer cells with the solutions (``solved``), or leaves the stubs (``untouched``),
    * applies edits: replace text in the answer cell with a given ``grade_id`` (a typical
      mistake, an alternative correct answer, an attack), or change the notebook in other ways
      (``broken_json``, ``tag_tests``, ``delete_tests``, ``edit_tests``, extra files).

The catalogue of samples, with the score each must get, is ``samples.toml`` next
to this module; ``docs/sample_submissions.md`` is the same catalogue as a table
(``python -m helpers.instructor.samples --table``), and a test keeps the two in step.

``root`` below is a course folder holding ``source/backprop`` (the instructor's notebooks) and
``release/backprop`` (generated from them): the project itself, or a course it was copied to.

Interface:
    load_catalogue(path=CATALOGUE) -> list[Sample]
    build(sample, folder, root) -> folder
    stage_students(course, samples_by_student, folder, root)  build each sample once, stage it
    notebook_names(root) -> ("01_loss", ...)
    solution_code(notebook, root) -> {grade_id: code}   every answer cell, questions included
    exercise_ids(notebook, root) -> [grade_id]   the answer cells that are exercises, not questions
    solved_notebook(notebook, root) -> the release notebook with the solutions filled in
    expected_scores(sample, root) -> {notebook: points}
    points_per_test(root) -> {"notebook:grade_id": points}
    markdown_table(samples, root) -> str
"""

from __future__ import annotations

import argparse
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import tomllib
from nbgrader.utils import is_grade, is_solution

from helpers.instructor.course import ASSIGNMENT, Course

CATALOGUE = Path(__file__).with_name("samples.toml")
_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


@dataclass
class Edit:
    """Replace ``old`` by ``new`` in the cell ``grade_id`` of ``notebook`` (``old`` must
    occur), or the cell's whole code by ``whole``."""

    notebook: str
    grade_id: str
    old: str | None = None
    new: str = ""
    whole: str | None = None

    def __post_init__(self):
        if (self.old is None) == (self.whole is None):
            raise ValueError(f"{self.notebook}:{self.grade_id}: an edit has `old` or `whole`")

    def applied_to(self, source: str) -> str:
        """The cell's code ``source`` after this edit."""
        if self.whole is not None:
            return self.whole.rstrip("\n")
        if self.old not in source:
            raise ValueError(f"{self.notebook}:{self.grade_id} does not contain {self.old!r}")
        return source.replace(self.old, self.new)


@dataclass
class Added:
    """A code cell without nbgrader metadata, added after the cell ``after`` of ``notebook``:
    nothing but the sandbox stands between its code and the course."""

    notebook: str
    after: str
    code: str


@dataclass
class Sample:
    """One sample submission and the outcome it must have."""

    name: str
    # "solved", "mistake", "answers" (to the questions), "alternative", "hostile", "attack" or
    # "untouched"
    kind: str
    description: str
    base: str = "solved"  # "solved" or "untouched"
    edits: list[Edit] = field(default_factory=list)
    added: list[Added] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # see _ACTIONS
    # the tests that must fail: "notebook:grade_id" (each loses its points)
    failing: list[str] = field(default_factory=list)
    # notebooks scored 0 as a whole (missing, unreadable, kernel died)
    zero_notebooks: list[str] = field(default_factory=list)
    # words the student's check must show, together, in a failing visible test's message
    hints: list[str] = field(default_factory=list)


def load_catalogue(path: Path = CATALOGUE) -> list[Sample]:
    data = tomllib.loads(Path(path).read_text())
    samples = []
    for entry in data["sample"]:
        edits = [Edit(**edit) for edit in entry.pop("edit", [])]
        added = [Added(**cell) for cell in entry.pop("added", [])]
        samples.append(Sample(edits=edits, added=added, **entry))
    names = [sample.name for sample in samples]
    if len(set(names)) != len(names):
        raise ValueError("sample names must be unique")
    return samples


def notebook_names(root: Path) -> tuple[str, ...]:
    """The assignment's notebooks in the release of the course at ``root``, in order."""
    return tuple(sorted(path.stem for path in _release(root).glob("*.ipynb")))


def _release(root: Path) -> Path:
    return Path(root) / "release" / ASSIGNMENT


def _release_notebook(notebook: str, root: Path) -> nbformat.NotebookNode:
    return nbformat.read(_release(root) / f"{notebook}.ipynb", as_version=4)


def solution_code(notebook: str, root: Path) -> dict[str, str]:
    """The instructor's answer cells of ``notebook``, solution markers removed."""
    return dict(_solution_code(notebook, Path(root).resolve()))


@functools.cache  # every sample starts from the same solutions
def _solution_code(notebook: str, root: Path) -> tuple[tuple[str, str], ...]:
    nb = nbformat.read(root / "source" / ASSIGNMENT / f"{notebook}.ipynb", as_version=4)
    return tuple(
        (cell.metadata.nbgrader["grade_id"], _SOLUTION_MARKERS.sub("", cell.source))
        for cell in nb.cells
        if is_solution(cell)
    )


def exercise_ids(notebook: str, root: Path) -> list[str]:
    """The grade ids of the answer cells of ``notebook`` that are exercises: not its questions
    (cells tagged "question", whose answers are values, not code)."""
    nb = nbformat.read(Path(root) / "source" / ASSIGNMENT / f"{notebook}.ipynb", as_version=4)
    return [cell.metadata.nbgrader["grade_id"] for cell in nb.cells
            if is_solution(cell) and "question" not in cell.metadata.get("tags", [])]


def solved_notebook(notebook: str, root: Path) -> nbformat.NotebookNode:
    """The release notebook ``notebook`` with every answer cell holding the solution."""
    nb = _release_notebook(notebook, root)
    answers = solution_code(notebook, root)
    for cell in filter(is_solution, nb.cells):
        cell.source = answers[cell.metadata.nbgrader["grade_id"]]
    return nb


def build(sample: Sample, folder: Path, root: Path) -> Path:
    """Write the submission ``sample`` into ``folder`` (created) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for notebook in notebook_names(root):
        if sample.base == "solved":
            nb = solved_notebook(notebook, root)
        else:
            nb = _release_notebook(notebook, root)
        for edit in sample.edits:
            if edit.notebook == notebook:
                _apply(edit, nb)
        for cell in sample.added:
            if cell.notebook == notebook:
                _add(cell, nb)
        nbformat.write(nb, folder / f"{notebook}.ipynb")
    for action in sample.actions:
        _ACTIONS[action.split(":")[0]](folder, *action.split(":")[1:])
    return folder


def stage_students(course: Course, samples_by_student: dict, folder: Path, root: Path) -> None:
    """Copy the instructor's notebooks of the course folder ``root`` into ``course``, generate
    its release, register the students, stage each student's sample.

    Samples are built into ``folder`` once each, however many students hand them in.
    """
    course.prepare(list(samples_by_student), Path(root) / "source")
    for student, sample in samples_by_student.items():
        built = Path(folder) / sample.name
        if not built.exists():
            build(sample, built, course.root)
        course.stage(student, built)


def expected_scores(sample: Sample, root: Path) -> dict[str, float]:
    """Points per notebook the sample must get: full marks minus what its mistakes cost."""
    points = points_per_test(root)
    lost = set(sample.failing)
    if sample.base == "untouched":
        lost |= set(points)
    scores = {}
    for notebook in notebook_names(root):
        tests = {key: value for key, value in points.items() if key.startswith(f"{notebook}:")}
        if notebook in sample.zero_notebooks:
            scores[notebook] = 0.0
        else:
            scores[notebook] = float(sum(v for key, v in tests.items() if key not in lost))
    return scores


def points_per_test(root: Path) -> dict[str, float]:
    """``{"notebook:grade_id": points}`` for every test cell of the release, in order."""
    return dict(_points_per_test(Path(root).resolve()))


@functools.cache  # read for every sample's expected score
def _points_per_test(root: Path) -> tuple[tuple[str, float], ...]:
    points = []
    for notebook in notebook_names(root):
        nb = _release_notebook(notebook, root)
        for cell in filter(is_grade, nb.cells):
            meta = cell.metadata.nbgrader
            points.append((f"{notebook}:{meta['grade_id']}", float(meta["points"])))
    return tuple(points)


def _apply(edit: Edit, nb) -> None:
    cell = nb.cells[_position(nb, edit.notebook, edit.grade_id)]
    cell.source = edit.applied_to(cell.source)


def _add(added: Added, nb) -> None:
    position = _position(nb, added.notebook, added.after)
    nb.cells.insert(position + 1, nbformat.v4.new_code_cell(added.code))


def _position(nb, notebook: str, grade_id: str) -> int:
    found = [i for i, c in enumerate(nb.cells)
             if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    if len(found) != 1:
        raise ValueError(f"{notebook} has no cell {grade_id!r}")
    return found[0]


# ---------------------------------------------------------------------- whole-notebook actions


def _rewrite_tests(folder: Path, notebook: str, rewrite) -> None:
    """Replace each test cell of the notebook by ``rewrite(cell)``: a list of cells."""
    path = folder / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [new for cell in nb.cells for new in (rewrite(cell) if is_grade(cell) else [cell])]
    nbformat.write(nb, path)


def _tag_tests(folder: Path, notebook: str) -> None:
    """Tag every test cell ``skip-execution``, the tag nbgrader skips by default."""

    def tag(cell):
        cell.metadata.setdefault("tags", []).append("skip-execution")
        return [cell]

    _rewrite_tests(folder, notebook, tag)


def _delete_tests(folder: Path, notebook: str) -> None:
    _rewrite_tests(folder, notebook, lambda cell: [])


def _edit_tests(folder: Path, notebook: str) -> None:
    """Replace every test cell's code by ``pass``: nothing is checked any more."""

    def neuter(cell):
        cell.source = "pass"
        return [cell]

    _rewrite_tests(folder, notebook, neuter)


def _strip_answer_metadata(folder: Path, notebook: str) -> None:
    """Remove nbgrader's metadata from the notebook's answer cells: grading no longer knows
    them as answers, and the answer-cell guard does not read them."""
    path = folder / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in filter(is_solution, nb.cells):
        del cell.metadata["nbgrader"]
    nbformat.write(nb, path)


def _broken_json(folder: Path, notebook: str) -> None:
    path = folder / f"{notebook}.ipynb"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


def _remove(folder: Path, notebook: str) -> None:
    (folder / f"{notebook}.ipynb").unlink()


def _extra_file(folder: Path, name: str) -> None:
    """An extra file; a ``numpy.py`` would shadow NumPy in a kernel started in this folder."""
    text = "allclose = lambda *args, **kwargs: True\n" if name.endswith(".py") else "notes\n"
    (folder / name).write_text(text)


_ACTIONS = {
    "tag_tests": _tag_tests,
    "delete_tests": _delete_tests,
    "edit_tests": _edit_tests,
    "strip_answer_metadata": _strip_answer_metadata,
    "broken_json": _broken_json,
    "remove": _remove,
    "extra_file": _extra_file,
}


# ---------------------------------------------------------------------- the table


def markdown_table(samples: list[Sample], root: Path) -> str:
    """The catalogue as a Markdown table: sample, what it does, tests that fail, points lost."""
    total = sum(points_per_test(root).values())
    lines = [
        "# Sample submissions and the scores they must get",
        "",
        "Generated by `python -m helpers.instructor.samples --table` from",
        "`helpers/instructor/samples.toml`; `make test` grades every sample with nbgrader and",
        f"asserts its score per notebook. Full marks: {total:g} points.",
        "",
        "| sample | kind | what it does | tests that must fail | points lost |",
        "|---|---|---|---|---|",
    ]
    for sample in samples:
        lost = total - sum(expected_scores(sample, root).values())
        failing = list(sample.failing) + [f"{nb} (whole notebook)" for nb in sample.zero_notebooks]
        if sample.base == "untouched":
            failing = ["every test"]
        tests = "<br>".join(f"`{t}`" for t in failing) or "none"
        description = sample.description.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{sample.name}` | {sample.kind} | {description} | {tests} | {lost:g} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", action="store_true", help="print the catalogue as Markdown")
    parser.add_argument("--build", metavar="NAME", help="build one sample into --out")
    parser.add_argument("--out", type=Path, default=Path("out/samples"))
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course folder (default: .)")
    args = parser.parse_args(argv)
    samples = load_catalogue()
    if args.table:
        print(markdown_table(samples, args.root), end="")
    elif args.build:
        chosen = [s for s in samples if s.name == args.build]
        if not chosen:
            parser.error(f"no sample {args.build!r}; known: {', '.join(s.name for s in samples)}")
        print(build(chosen[0], args.out / args.build, args.root))
    else:
        print(json.dumps([s.name for s in samples], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
