"""The project's own course folder, as every test finds it: instructor notebooks, release."""

from __future__ import annotations

from pathlib import Path

from helpers.instructor.samples import notebook_names

PROJECT = Path(__file__).resolve().parents[1]
SOURCE = PROJECT / "source" / "backprop"  # the instructor's notebooks
RELEASE = PROJECT / "release" / "backprop"  # generated from them by nbgrader
NOTEBOOKS = notebook_names(PROJECT)
