"""How nbgrader runs a notebook, for the student's Validate button and for grading alike.

The student's lab finds this file on JUPYTER_CONFIG_PATH; the course's own nbgrader_config.py
loads it, so that a notebook is judged with the same limits in both.
"""

import secrets

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

# Every cell gets its own time limit (an endless loop costs that cell only). Execute's own
# setting is the one autograde reads; ExecutePreprocessor's alone would not apply.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# A student could tag a test cell `skip-execution` to have it skipped and counted as passed.
# Skipping is keyed to a tag nobody can guess: a new random one every run.
c.Execute.skip_cells_with_tag = "skip-" + secrets.token_hex(16)
