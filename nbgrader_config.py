"""nbgrader settings of the course. Paths are relative to this folder, the course root."""

import os

import helpers

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
root = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = root
c.CourseDirectory.course_id = "backprop"
c.CourseDirectory.db_url = os.environ.get(
    "BACKPROP_DB_URL", "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
)
# Files never copied between course folders. Instructor-only folders never travel with an
# assignment, and Python files a student hands in are not copied next to the notebooks at
# grading time: a `numpy.py` there would be imported instead of NumPy.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "__pycache__", "feedback", ".git", "*.py", "*.pyc", "*.so", "*.pth",
]

# What a student's stub looks like once the solution is cut out.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# How a notebook runs (per-cell time limit, no skipping by tag): the same settings as the
# student's Validate button, from the one file both read. Found through the installed course
# package, so that a copy of this file in another course folder loads them too.
lab_config = os.path.join(os.path.dirname(helpers.__file__), "lab_config")
load_subconfig("nbgrader_config.py", lab_config)  # noqa: F821

# Test cells a student deleted are put back before grading.
c.OverwriteCells.add_missing_cells = True

# Answer cells that replace what the tests rely on are refused before the kernel starts
# (helpers/guards.py); nbgrader's own sanitizing steps come first, as by default.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "helpers.instructor.preprocessors.RestoreDeletedTests",
    "nbgrader.preprocessors.CheckCellMetadata",
    "helpers.instructor.preprocessors.GuardAnswerCells",
]

# Feedback shows which tests failed and their messages, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
    "helpers.instructor.preprocessors.StripTestTracebacks",
]
