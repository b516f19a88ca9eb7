"""A pooled PostgreSQL connection is asked whether it is still there only after it lay idle.

`pool_pre_ping` asks at every checkout: a round trip to the server before every transaction,
and in a relay burst, where a connection goes back to the pool and out again within
milliseconds, 6-26 % of the bot's CPU a message (four pairs, bench/README.md). A connection used a
moment ago is as alive as anyone can know; the ones at risk are those that lay idle while the
server restarted, or while a firewall or `idle_session_timeout` ended them. Those are asked
first, as pre-ping would, and a dead one is replaced before anyone uses it (SQLAlchemy's
pessimistic disconnect handling, by its checkout event). Should the server go away within
the idle time, the first statement on a connection fails as a disconnect: SQLAlchemy then
invalidates every connection pooled before it, and the loops retry the step (as without any
ping; tests/faults/test_database_away.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

PING_AFTER_IDLE_SECONDS = 2.0
_IDLE_SINCE = "gezinslijn_idle_since"
# Read through the module, so tests can move it.
monotonic: Callable[[], float] = time.monotonic


def install(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def note_idle(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:  # None: it was invalidated, a new one comes
            record.info[_IDLE_SINCE] = monotonic()

    @event.listens_for(engine, "checkout")
    def ping_after_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or back from use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool replaces it and checks out again (up to three times).
                raise exc.DisconnectionError("the connection was gone after lying idle") \
                    from error
            raise
