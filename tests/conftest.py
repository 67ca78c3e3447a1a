"""Shared fixtures: a seeded random generator, and a throwaway PostgreSQL server."""

from __future__ import annotations

import numpy as np
import pytest

# `postgres_url`: a PostgreSQL server for the session (tests/postgres_server.py)
pytest_plugins = ["postgres_server"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
