"""A course directory graded by nbgrader, with the course's settings and its safety nets.

nbgrader does the work: ``generate_assignment``, ``autograde``, ``generate_feedback`` and
``export`` through its Python API, with the course's settings (``settings.configure``) for the
course root it is given. This module adds what grading real submissions needs on top:

    * one broken notebook (corrupt JSON, a kernel that dies) costs only itself: nbgrader gives
      up on the whole submission, so it is graded again notebook by notebook, and a notebook
      that still cannot be graded scores 0 and is reported;
    * scores are read from the gradebook, never from logs;
    * the course root can be anywhere (the demo and the tests use their own), with the gradebook
      in it unless a ``db_url`` (e.g. PostgreSQL) is given.

Interface:
    Course(root, db_url=None, timeout=None, sandbox=True)
        .prepare(students, source)         copy source/, generate release/, register students
        .ensure_assignment()               generate the release if the gradebook lacks it
        .stage(student, folder)            copy a submission into submitted/ (never replacing one)
        .autograde(student)                -> GradingOutcome
        .is_graded(student)                -> bool: every test cell has an automatic score
        .generate_feedback(student=None)   feedback HTML for everyone graded
        .export(csv_path)                  nbgrader's grades CSV
        .scores()                          -> {student: {notebook: score}}
        .test_results()                    -> {student: {(notebook, grade_id): (score, max)}}
        .notebooks()                       -> the assignment's notebooks, as the gradebook has them
    course_config(root, db_url=None, timeout=None, sandbox=True) -> traitlets Config
    folder_contents(folder)                -> {relative path: bytes} of every file below it
    ASSIGNMENT
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log, temp_attrs
from traitlets.config import Config

from helpers.instructor import sandbox
from helpers.instructor.settings import configure

ASSIGNMENT = "backprop"


@dataclass
class GradingOutcome:
    """How grading one student's submission went."""

    student: str
    # notebook -> why it could not be graded (it scores 0)
    failed_notebooks: dict[str, str] = field(default_factory=dict)


def course_config(root: Path, db_url: str | None = None, timeout: int | None = None,
                  sandbox: bool = True) -> Config:
    """The course's settings for the course rooted at ``root``; ``timeout``: seconds per cell;
    ``sandbox=False``: grading kernels with the grader's own rights."""
    config = Config()
    configure(config, root, db_url, sandbox)
    if timeout is not None:
        config.Execute.timeout = timeout
    return config


class Course:
    """A course directory (``source/``, ``release/``, ``submitted/``, ...) and its gradebook."""

    def __init__(self, root: str | Path, db_url: str | None = None, timeout: int | None = None,
                 sandbox: bool = True):
        _find_nbgraders_tools()
        self.root = Path(root).resolve()
        self.sandbox = sandbox
        self.config = course_config(self.root, db_url, timeout, sandbox)
        self.db_url = self.config.CourseDirectory.db_url
        self.api = NbGraderAPI(CourseDirectory(config=self.config), config=self.config)
        self.api.log.setLevel("ERROR")

    # ------------------------------------------------------------------ set-up

    def prepare(self, students: list[str], source: Path) -> None:
        """Copy the instructor notebooks in from ``source`` (a folder holding ``backprop/``),
        generate the release, register the students.

        The release is generated afresh (``--force``); everything else already present stays.
        """
        target = self.root / "source" / ASSIGNMENT
        if target.resolve() != (source / ASSIGNMENT).resolve():
            shutil.copytree(source / ASSIGNMENT, target, dirs_exist_ok=True)
        self._generate_assignment()
        with self.gradebook() as gradebook:
            for student in students:
                gradebook.update_or_create_student(student)

    def ensure_assignment(self) -> bool:
        """Generate the assignment when the gradebook does not know it yet (a fresh clone, a
        new PostgreSQL gradebook): autograde needs its test cells there. True if generated."""
        with self.gradebook() as gradebook:
            try:
                gradebook.find_assignment(ASSIGNMENT)
                return False
            except MissingEntry:
                pass
        self._generate_assignment()
        return True

    def _generate_assignment(self) -> None:
        """``nbgrader generate_assignment --force``: the release, and the gradebook's entry."""
        result = self.api.generate_assignment(ASSIGNMENT, force=True)
        if not result["success"]:
            raise RuntimeError(f"generate_assignment failed:\n{result.get('error')}")

    def stage(self, student: str, folder: Path) -> Path:
        """Copy a submission folder to ``submitted/<student>/backprop``.

        A submission already there is never replaced: staging the same files again does
        nothing, and different files raise ``FileExistsError``.
        """
        target = self.root / "submitted" / student / ASSIGNMENT
        if target.exists():
            if folder_contents(Path(folder)) == folder_contents(target):
                return target
            raise FileExistsError(f"{target} already holds a different submission; not replaced")
        shutil.copytree(folder, target)
        return target

    @contextlib.contextmanager
    def gradebook(self):
        with Gradebook(self.db_url, self.config.CourseDirectory.course_id) as gradebook:
            yield gradebook

    # ------------------------------------------------------------------ grading

    def autograde(self, student: str) -> GradingOutcome:
        """Autograde one student, isolating notebooks that nbgrader cannot grade.

        Without a sandbox where one is asked for, nothing is graded: ``SandboxMissing``."""
        if self.sandbox:
            sandbox.require()
        result = self.api.autograde(ASSIGNMENT, student, force=True, create=True)
        outcome = GradingOutcome(student)
        if result["success"]:
            return outcome
        submitted = self._submitted_notebooks(student)
        for notebook in submitted:
            result = self._autograde_notebook(student, notebook)
            if not result["success"]:  # once more: a kernel may fail to start, no fault of its own
                result = self._autograde_notebook(student, notebook)
            if not result["success"]:
                outcome.failed_notebooks[notebook] = _failure_reason(result)
        missing = set(self.notebooks()) - set(submitted)
        self._score_zero(student, set(outcome.failed_notebooks) | missing)
        return outcome

    def _autograde_notebook(self, student: str, notebook: str) -> dict:
        coursedir = self.api.coursedir
        with temp_attrs(
            coursedir, assignment_id=ASSIGNMENT, student_id=student, notebook_id=notebook
        ):
            # one notebook alone: no next notebook whose kernel could start early, and the
            # folder it would start in may be emptied first
            config = copy.deepcopy(self.config)
            config.GradingExecute.start_next_early = False
            app = Autograde(coursedir=coursedir, parent=self.api, config=config)
            app.force = True
            app.create_student = True
            return capture_log(app)

    def _submitted_notebooks(self, student: str) -> list[str]:
        folder = self.root / "submitted" / student / ASSIGNMENT
        known = self.notebooks()
        return sorted(path.stem for path in folder.glob("*.ipynb") if path.stem in known)

    def _score_zero(self, student: str, notebooks: set[str]) -> None:
        """Give 0 to every test of ``notebooks``, as nbgrader does for a missing notebook."""
        if not notebooks:
            return
        with self.gradebook() as gradebook:
            for notebook in notebooks:
                try:
                    submitted = gradebook.find_submission_notebook(notebook, ASSIGNMENT, student)
                except MissingEntry:
                    continue
                for grade in submitted.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
            gradebook.db.commit()

    def is_graded(self, student: str) -> bool:
        """True when the student's submission has an automatic score for every test cell."""
        try:
            with self.gradebook() as gradebook:
                submission = gradebook.find_submission(ASSIGNMENT, student)
                grades = [grade for nb in submission.notebooks for grade in nb.grades]
                return len(grades) > 0 and all(g.auto_score is not None for g in grades)
        except MissingEntry:
            return False

    # ------------------------------------------------------------------ results

    def notebooks(self) -> tuple[str, ...]:
        """The assignment's notebooks, in order, as generated into the gradebook."""
        with self.gradebook() as gradebook:
            return tuple(sorted(nb.name for nb in gradebook.find_assignment(ASSIGNMENT).notebooks))

    def generate_feedback(self, student: str | None = None) -> None:
        result = self.api.generate_feedback(ASSIGNMENT, student, force=True)
        if not result["success"]:
            raise RuntimeError(f"generate_feedback failed:\n{result.get('error')}")

    def export(self, csv_path: str | Path) -> Path:
        """Write nbgrader's grades CSV (``nbgrader export``) to ``csv_path``."""
        from nbgrader.plugins import CsvExportPlugin

        csv_path = Path(csv_path).resolve()
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        plugin = CsvExportPlugin(config=self.config, to=str(csv_path))
        with self.gradebook() as gradebook:
            plugin.export(gradebook)
        return csv_path

    def scores(self) -> dict[str, dict[str, float]]:
        """``{student: {notebook: score}}`` for every submission in the gradebook."""
        notebooks = self.notebooks()
        return {
            student: {
                notebook: sum(s for s, _ in tests.values())
                for notebook, tests in _by_notebook(results, notebooks).items()
            }
            for student, results in self.test_results().items()
        }

    def test_results(self) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
        """``{student: {(notebook, grade_id): (score, max_score)}}`` from the gradebook."""
        results = {}
        with self.gradebook() as gradebook:
            for submission in gradebook.find_assignment(ASSIGNMENT).submissions:
                results[submission.student.id] = {
                    (notebook.name, grade.name): (float(grade.score), float(grade.max_score))
                    for notebook in submission.notebooks
                    for grade in notebook.grades
                }
        return results


def _find_nbgraders_tools() -> None:
    """nbgrader runs the ``alembic`` command when it creates a gradebook. A virtual
    environment's commands are on PATH only once it is activated, and the README runs
    ``.venv/bin/python -m ...`` without that: put this environment's commands on PATH."""
    if shutil.which("alembic") is None:
        scripts = str(Path(sys.executable).parent)
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])


def _by_notebook(results: dict, notebooks: tuple[str, ...]) -> dict[str, dict]:
    grouped: dict[str, dict] = {notebook: {} for notebook in notebooks}
    for (notebook, grade_id), value in results.items():
        grouped.setdefault(notebook, {})[grade_id] = value
    return grouped


def folder_contents(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``: its path relative to ``folder``, and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


_EXCEPTION_LINE = re.compile(r"^\s*(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.*)$", re.MULTILINE)


def _failure_reason(result: dict) -> str:
    """The last exception nbgrader logged other than its own summary, e.g. ``DeadKernelError``."""
    text = f"{result.get('log') or ''}\n{result.get('error') or ''}"
    found = [(n, m) for n, m in _EXCEPTION_LINE.findall(text) if n != "NbGraderException"]
    if not found:
        return "nbgrader could not grade it"
    name, message = found[-1]
    return f"{name}: {message.strip()[:200]}"
