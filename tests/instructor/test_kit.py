"""The student kit (``make kit``): every file of it is read, and the student's commands run from it.

It must hold no answer and no hidden test (two consecutive lines of either, anywhere, data files
included), no instructor module, nothing that names one, and the instructor package must not
be importable from it; the release notebooks, the student's modules, the lab settings, the
Makefile and README must be there.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import tomllib

from helpers.instructor.kit import build_kit
from helpers.instructor.samples import exercise_ids, solution_code, solved_notebook

from project import NOTEBOOKS, PROJECT, RELEASE, code_lines_of, line_pairs, secret_snippets

STUDENT_MODULES = [
    "__init__", "answer_rules", "answers", "checks", "data", "diagrams", "experiments", "forward",
    "gradcheck", "kernel_setup", "labels", "plots", "stand_ins", "training",
]  # fmt: skip
COMMANDS = [
    "__init__", "__main__", "check", "execution", "fill", "lab", "notebooks", "submit", "update"
]


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    return build_kit(tmp_path_factory.mktemp("kit") / "student-kit", PROJECT)


def text_of(path: Path) -> str:
    """What a file says: a notebook's cells, any other file's text."""
    if path.suffix == ".ipynb":
        return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    return path.read_text(encoding="utf-8")


def test_the_kit_has_what_a_student_needs(kit):
    top = sorted(p.name for p in kit.iterdir())
    assert top == [
        "Makefile", "README.md", "helpers", "pyproject.toml", "release", "requirements.txt",
        "student.mk",
    ]  # fmt: skip
    release = sorted(p.name for p in RELEASE.glob("*.ipynb"))
    assert sorted(p.name for p in (kit / "release" / "backprop").iterdir()) == release
    assert sorted(p.stem for p in (kit / "helpers").glob("*.py")) == STUDENT_MODULES
    assert sorted(p.stem for p in (kit / "helpers" / "student").glob("*.py")) == COMMANDS
    assert (kit / "helpers" / "lab_config" / "labconfig" / "page_config.json").is_file()


def test_no_file_of_the_kit_holds_an_answer_or_names_the_instructors_code(kit):
    secrets = secret_snippets()
    assert len(secrets) > 50
    files = [p for p in kit.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        text = text_of(path)
        assert "helpers.instructor" not in text and "instructor." not in text, path
        leaked = secrets & line_pairs(code_lines_of(text))
        assert not leaked, f"{path}: {sorted(leaked)[:2]}"
    assert not (kit / "helpers" / "instructor").exists()


def test_no_module_of_the_kit_defines_an_exercise(kit):
    exercises = {name for notebook in NOTEBOOKS for name in exercise_ids(notebook, PROJECT)}
    assert len(exercises) == 8
    modules = list(kit.rglob("*.py"))
    assert len(modules) > 15
    for path in modules:
        tree = ast.parse(path.read_text())
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert not defined & exercises, f"{path} defines {defined & exercises}"


def test_the_check_finds_a_planted_answer(tmp_path):
    """The scan above would see an answer if one were there."""
    kit = build_kit(tmp_path / "kit", PROJECT)
    solution = solution_code("03_layer_backward", PROJECT)["layer_backward"]
    (kit / "helpers" / "notes.txt").write_text(solution)
    assert secret_snippets() & line_pairs(code_lines_of(text_of(kit / "helpers" / "notes.txt")))


def test_the_instructor_package_cannot_be_imported_from_the_kit(kit):
    # -S: without site-packages, where this checkout's own installation would answer
    probe = "import helpers; import helpers.instructor"
    run = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=kit, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(kit)},
    )  # fmt: skip
    assert run.returncode == 1
    assert "ModuleNotFoundError: No module named 'helpers.instructor'" in run.stderr


def student_command(kit: Path, *argv: str) -> subprocess.CompletedProcess:
    """``python -m helpers.student ...`` in the kit, on the kit's own helpers (kernels too)."""
    return subprocess.run(
        [sys.executable, "-m", "helpers.student", *argv], cwd=kit, capture_output=True,
        text=True, env={**os.environ, "PYTHONPATH": str(kit)}, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_the_students_commands_run_from_the_kit(tmp_path):
    kit = build_kit(tmp_path / "kit", PROJECT)
    fill = student_command(kit, "fill")
    assert fill.returncode == 0 and "copied to notebooks" in fill.stdout, fill.stderr
    # a student's answer to notebook 1, checked from the kit as the grader would judge it
    nbformat.write(solved_notebook("01_loss", PROJECT), kit / "notebooks" / "01_loss.ipynb")
    check = student_command(kit, "check", "01_loss")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "3 of 3 tests passed (4 of 4 points)" in check.stdout
    failing = student_command(kit, "check", "02_activation_backward")
    assert failing.returncode == 1 and "NotImplementedError" in failing.stdout
    submit = student_command(kit, "submit", "--student", "alice")
    assert submit.returncode == 0, submit.stderr
    (archive,) = kit.glob("alice_backprop_*.zip")
    with zipfile.ZipFile(archive) as zipped:
        assert "alice/backprop/01_loss.ipynb" in zipped.namelist()


def test_the_kit_declares_the_dependencies_of_the_students_side(kit):
    kit_project = tomllib.loads((kit / "pyproject.toml").read_text())["project"]
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    assert kit_project["dependencies"] == project["dependencies"]
    assert "entry-points" not in kit_project  # no graded answers: the reference is not there
    assert "optional-dependencies" not in kit_project


def test_the_kits_makefile_offers_the_students_targets(kit):
    for target in ("lab", "update", "check", "submit"):
        run = subprocess.run(["make", "-n", target], cwd=kit, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert f"-m helpers.student {target}" in run.stdout
    run = subprocess.run(["make", "-n", "demo"], cwd=kit, capture_output=True, text=True)
    assert run.returncode != 0  # the instructor's targets are not there
