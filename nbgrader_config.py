"""nbgrader settings of the course rooted in this folder (helpers/instructor/settings.py).

BACKPROP_DB_URL, when set, names the gradebook (e.g. a PostgreSQL server) instead of
gradebook.db here. BACKPROP_UNSANDBOXED=1 grades without the sandbox (every run warns).
"""

import os

from helpers.instructor.settings import configure

configure(
    get_config(),  # noqa: F821 - provided by nbgrader when it loads this file
    root=os.path.dirname(os.path.abspath(__file__)),
    db_url=os.environ.get("BACKPROP_DB_URL"),
    sandbox=os.environ.get("BACKPROP_UNSANDBOXED", "") != "1",
)
