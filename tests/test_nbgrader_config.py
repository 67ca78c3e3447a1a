"""The course's nbgrader settings: grading and the student's Validate button run notebooks alike.

The execution settings live in ``helpers/lab_config/nbgrader_config.py``; the course's
``nbgrader_config.py`` loads them through the installed package, so a copy of it in another
course folder (a benchmark's, a second grading machine's) gets them too, never nbgrader's
defaults silently.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from traitlets.config import PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[1]
LAB_CONFIG = ROOT / "helpers" / "lab_config"


def load(folder: Path):
    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


def test_grading_and_validate_share_the_execution_settings():
    course, lab = load(ROOT), load(LAB_CONFIG)
    assert course.Execute.timeout == lab.Execute.timeout == 60
    assert course.Execute.interrupt_on_timeout and lab.Execute.interrupt_on_timeout
    # an unguessable tag, new at every load: no test cell can be skipped by tagging it
    for config in (course, lab, load(ROOT)):
        assert config.Execute.skip_cells_with_tag.startswith("skip-")
    assert course.Execute.skip_cells_with_tag != load(ROOT).Execute.skip_cells_with_tag


def test_a_copy_of_the_course_config_elsewhere_keeps_them(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    copied = load(tmp_path)
    assert copied.Execute.timeout == 60 and copied.Execute.interrupt_on_timeout
    assert copied.CourseDirectory.root == str(tmp_path)
