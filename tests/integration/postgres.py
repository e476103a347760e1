"""A real PostgreSQL server for the ledger's tests: `bash .ci/postgres.sh` starts one and
prints its URL, which the tests read from $COMPLIANCE_TEST_POSTGRES_URL.

Without the variable the tests are skipped on a developer's machine, and FAIL in CI
(CI=true), so CI can never pass by silently skipping the real server.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from types import ModuleType
from urllib.parse import quote

import pytest

URL_ENV = "COMPLIANCE_TEST_POSTGRES_URL"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the PostgreSQL ledger tests")
    pytest.skip(reason)


def psycopg_module() -> ModuleType:
    try:
        import psycopg
    except ImportError:
        _missing("psycopg is not installed (pip install -e '.[dev]')")
        raise  # unreachable: _missing skips or fails
    return psycopg


def server_url() -> str:
    url = os.environ.get(URL_ENV, "")
    if not url:
        _missing(f"${URL_ENV} is not set (export {URL_ENV}=$(bash .ci/postgres.sh))")
    psycopg_module()
    return url


def with_search_path(url: str, schema: str) -> str:
    option = "options=" + quote(f"-csearch_path={schema}")
    return f"{url}{'&' if '?' in url else '?'}{option}"


@contextlib.contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose tables go to a new schema of their own, dropped afterwards: tests run in
    parallel (pytest -n) against one database."""
    psycopg = psycopg_module()
    url = server_url()
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def raw_sql(url: str, *statements: str) -> None:
    """Tamper with the ledger as someone with SQL access would."""
    psycopg = psycopg_module()
    with psycopg.connect(url) as conn:  # one transaction
        for statement in statements:
            conn.execute(statement)
