"""Master key rotation (`gezinslijn admin rotate-key`), safe while the bot runs.

Every family data key is re-wrapped with the first key of the ring (the key store); every value
sealed with the master key itself (an outbox row to a coach, a stored update, a half-finished
step, a name from before data keys) is re-sealed with it. Family-sealed values are not touched:
their data keys did not change. Afterwards the old master key can go from the setting.

Each value is replaced only if it is still the value that was read (compare and set): a row the
bot changed meanwhile (sent, emptied, deleted) keeps the bot's version, which is sealed with
the first key already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, Text, and_, column, select, tuple_, update
from sqlalchemy import table as sql_table
from sqlalchemy.sql.expression import ColumnClause

from storage import crypto
from storage.db import Database
from storage.models import Base
from storage.types import Sealed, SealedJSON

MASTER_PREFIX = "gAAAAA"  # a Fernet token; family-sealed values begin with "k<key id>:"
BATCH = 500


@dataclass(frozen=True)
class Rotated:
    data_keys: int
    values: int


def sealed_columns() -> list[tuple[Table, str]]:
    """Every (table, column) that holds sealed text, from the models."""
    found = []
    for table in Base.metadata.sorted_tables:
        for each in table.columns:
            if isinstance(each.type, Sealed | SealedJSON):
                found.append((table, each.name))
    return found


async def rotate_master_key(db: Database) -> Rotated:
    data_keys = await db.keystore.rewrap()
    values = 0
    for table, name in sealed_columns():
        values += await _reseal(db, table, name)
    return Rotated(data_keys, values)


async def _reseal(db: Database, table: Table, name: str) -> int:
    # The stored text as it is (no column type that would open or seal it).
    keys: list[ColumnClause[Any]] = [column(k.name) for k in table.primary_key.columns]
    value = column(name, Text)
    raw = sql_table(table.name, *keys, value)
    done = 0
    last: tuple[Any, ...] | None = None
    while True:
        query = select(*keys, value).where(value.like(f"{MASTER_PREFIX}%")) \
            .order_by(*keys).limit(BATCH)
        if last is not None:
            query = query.where(tuple_(*keys) > tuple_(*last) if len(keys) > 1
                                else keys[0] > last[0])
        async with db.engine.begin() as connection:
            rows = (await connection.execute(query)).all()
            for row in rows:
                old = row[-1]
                new = crypto.rotate(old)
                if new == old:
                    continue
                match = and_(*(k == row[i] for i, k in enumerate(keys)))
                result = await connection.execute(
                    update(raw).where(match, value == old).values({name: new}))
                done += int(getattr(result, "rowcount", 0) or 0)
        if len(rows) < BATCH:
            return done
        last = tuple(rows[-1][: len(keys)])
