"""What the tests of class grading share: a course with sample submissions staged, and the
processes a grading run may leave behind."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil

from helpers.instructor.course import Course
from helpers.instructor.samples import load_catalogue, stage_students

from project import PROJECT

CATALOGUE = {sample.name: sample for sample in load_catalogue()}


def staged_course(root: Path, names: list[str], db_url: str | None = None) -> Course:
    """A course at ``root`` with the named samples submitted, one student each."""
    course = Course(root, db_url, timeout=30)
    samples = {name: CATALOGUE[name] for name in names}
    stage_students(course, samples, root.parent / "built", PROJECT)
    return course


def kernels_running_in(root: Path) -> list[int]:
    """The Jupyter kernels running in a folder of ``root`` (nbgrader runs them in autograded/)."""
    kernels = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        command, cwd = " ".join(process.info["cmdline"] or []), process.info["cwd"] or ""
        if "ipykernel_launcher" in command and Path(cwd).is_relative_to(root.resolve()):
            kernels.append(process.pid)
    return kernels


def grading_processes_under(pid: int) -> list[psutil.Process]:
    """The supervised grading processes and the kernels below a process (a Dask worker)."""
    found = []
    with contextlib.suppress(psutil.Error):
        for process in psutil.Process(pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                command = " ".join(process.cmdline())
                if "helpers.instructor" in command or "ipykernel_launcher" in command:
                    found.append(process)
    return found


def is_kernel(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return "ipykernel_launcher" in " ".join(process.cmdline())
    return False


def running(pid: int) -> bool:
    """Whether a process runs; a killed one may stay a zombie until its parent collects it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
