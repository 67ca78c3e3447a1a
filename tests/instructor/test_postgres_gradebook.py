"""nbgrader's Gradebook on a real PostgreSQL server (the postgres_url fixture).

Gradebook(url) creates the schema in the empty database; rows written through one connection
are seen through another, as they must be when several graders share one gradebook.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook, InvalidEntry

COURSE = "backprop"


@pytest.fixture(autouse=True)
def _alembic_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # A new gradebook asks the `alembic` command for its schema version: the one of this venv.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def test_gradebook_stores_an_assignment_and_a_student(postgres_url: str) -> None:
    with Gradebook(postgres_url, course_id=COURSE) as gb:
        assert gb.engine.dialect.name == "postgresql"
        gb.add_assignment("backprop")
        gb.add_student("alice", first_name="Alice", last_name="Liddell")

        assert gb.find_assignment("backprop").name == "backprop"
        assert gb.find_student("alice").last_name == "Liddell"

    with Gradebook(postgres_url, course_id=COURSE) as again:
        assert "backprop" in [assignment.name for assignment in again.assignments]
        assert again.find_student("alice").first_name == "Alice"


def test_two_open_gradebooks_see_each_others_rows(postgres_url: str) -> None:
    with (
        Gradebook(postgres_url, course_id=COURSE) as first,
        Gradebook(postgres_url, course_id=COURSE) as second,
    ):
        first.add_student("bob", first_name="Bob")
        assert second.find_student("bob").first_name == "Bob"

        second.add_student("carol", first_name="Carol")
        assert first.find_student("carol").first_name == "Carol"

        # The database, not each connection, keeps ids unique.
        with pytest.raises(InvalidEntry):
            second.add_student("bob")
        assert [student.id for student in first.students].count("bob") == 1
