"""nbgrader settings of the student's lab (its Validate button): notebooks run as when graded.

The student's lab finds this file on JUPYTER_CONFIG_PATH; the rules are in
helpers/student/execution.py, which grading applies too.
"""

from helpers.student.execution import configure

configure(get_config())  # noqa: F821 - provided by nbgrader when it loads this file
