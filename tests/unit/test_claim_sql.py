"""The claim's statements carry no list as an "expanding" parameter: SQLAlchemy renders such
a list into the statement's text again at every execution, a third of the claim's CPU in a
relay burst (issue 16, bench/README.md). The bulk purposes and waiting statuses are written
into the statement instead."""

from __future__ import annotations

import itertools

from sqlalchemy.dialects import postgresql, sqlite

from storage.repos.outbox import _claim_statement

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def test_no_claim_statement_renders_a_list_at_each_execution() -> None:
    for (name, dialect), one_chat, bulk, continuing, after, then in itertools.product(
            DIALECTS.items(), (False, True), (None, False, True), (False, True),
            (False, True), (False, True)):
        statement = _claim_statement(name, one_chat, bulk, None, continuing, after, then)
        sql = str(statement.compile(dialect=dialect))
        assert "POSTCOMPILE" not in sql, (name, one_chat, bulk, continuing, after, then)
        assert "'reminder', 'agenda', 'digest', 'nudge'" in sql
