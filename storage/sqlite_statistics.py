"""SQLite: fixed planner statistics for the outbox, the same on every connection.

The claims (storage/repos/outbox.py) look up each waiting row's earlier and later rows in its
own chat. Without statistics SQLite looked them up by the (status, due) index instead, over
every waiting row for each row: the people's claim among 4,400 waiting reminders took 10 s
(0.07 s planned by lane), holding the writers' turn, and the reminder burst went at 12 sends a
second instead of 27 (bench/README.md).

Analyzing at run time did not hold: SQLite reads sqlite_stat1 when a connection opens (or on
`ANALYZE sqlite_schema` in that connection), so an ANALYZE reached only the pooled connection
that ran it, the others kept planning without; and an ANALYZE of an empty outbox (a bot's
first pass) wrote no statistics at all. So the statistics are written by hand (SQLite's
"Manual Control Of Query Plans Using SQLITE_STAT Tables"), before the bot opens its
connections: at every migration run, which is every start. They describe an outbox of many
chats with few rows each and a handful of states, which is its shape at any size; stat1
holds no more than that (no skew), so an ANALYZE of the real rows would tell the planner
nothing more.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# index: "rows, rows per first column, per first two, …" (sqlite_stat1's format)
OUTBOX = {
    # (status, due_at, id): few states, many rows each; an instant holds few, an id one
    "ix_outbox_due": "100000 25000 20 1",
    "ix_outbox_lane": "100000 20 5 1",  # (chat_id, status, id): a chat holds few rows
    # (status, chat_id, link_family_id) of the people's rows only (not the reminders, agendas,
    # digests): fewer than ix_outbox_due has in any state, one or two a chat
    "ix_outbox_people": "20000 5000 2 1",
}


def keep(connection: Connection) -> None:
    """Write the outbox's statistics (replacing any an ANALYZE left), committed, and load
    them in this connection."""
    connection.execute(text("ANALYZE sqlite_schema"))  # creates sqlite_stat1 if missing
    connection.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'outbox'"))
    for index, stat in OUTBOX.items():
        connection.execute(text("INSERT INTO sqlite_stat1 (tbl, idx, stat) "
                                "VALUES ('outbox', :index, :stat)"),
                           {"index": index, "stat": stat})
    connection.commit()
    connection.execute(text("ANALYZE sqlite_schema"))  # this connection reads them now
    connection.commit()
