"""The course's nbgrader settings: grading and the student's Validate button run notebooks alike.

The rules of execution are ``helpers.student.execution``; the student's lab config and the
course's settings (``helpers.instructor.settings``, applied by the course's
``nbgrader_config.py`` and by ``Course``) both apply them, so a course folder anywhere gets
them, never nbgrader's defaults silently.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from traitlets.config import PyFileConfigLoader

from helpers.instructor.course import course_config
from helpers.student.execution import CELL_TIMEOUT
from helpers.student.lab import LAB_CONFIG

from project import PROJECT


def load(folder: Path):
    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


def test_grading_and_validate_share_the_execution_settings():
    course, lab = load(PROJECT), load(LAB_CONFIG)
    assert course.Execute.timeout == lab.Execute.timeout == CELL_TIMEOUT == 60
    assert course.Execute.interrupt_on_timeout is lab.Execute.interrupt_on_timeout is True
    # an unguessable tag, new at every load: no test cell can be skipped by tagging it
    tags = [config.Execute.skip_cells_with_tag for config in (course, lab, load(PROJECT))]
    assert all(tag.startswith("skip-") and len(tag) == 37 for tag in tags)
    assert len(set(tags)) == 3


def test_the_course_config_file_and_a_course_elsewhere_get_the_same_settings(tmp_path):
    shutil.copy(PROJECT / "nbgrader_config.py", tmp_path)
    copied, built = load(tmp_path), course_config(tmp_path)
    assert copied.CourseDirectory.root == built.CourseDirectory.root == str(tmp_path)
    for config in (copied, built):
        config.Execute.skip_cells_with_tag = "random"
    assert copied == built
    assert built.CourseDirectory.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert "GradingExecute" in built.Autograde.autograde_preprocessors[0]
