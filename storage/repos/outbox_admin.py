"""The statements behind `gezinslijn admin outbox`: counts of the outbox and of the updates kept
aside, and putting what was given up back in line.

Counts only: never a payload, a chat id or an error's full text leaves these functions, except
`last_error`, which holds a short reason without content. Nothing here needs the encryption key:
whether a payload is still there is a question of NULL, not of its content.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.db import Database, is_sqlite
from storage.models import InboundUpdate, Outbox

STUCK_AFTER = timedelta(minutes=5)
SENT_WINDOW = timedelta(hours=24)
REQUEUE_STATUSES = ("failed", "parked", "expired")
CONNECT_TIMEOUT = 10  # seconds: an operator waits for an answer, not for TCP's own timeout


class DatabaseUnreachable(Exception):
    """One sentence for the operator: the database could not be opened or read."""


@dataclass
class StatusCounts:
    """The rows of one outbox status."""

    count: int = 0
    oldest: datetime | None = None  # created_at of the oldest row
    by_purpose: Counter[str] = field(default_factory=Counter)
    with_payload: int = 0  # rows whose content is still there (could be sent again)
    errors: Counter[str] = field(default_factory=Counter)  # by last_error, as stored


@dataclass
class PendingDetail:
    not_yet_due: int = 0
    stuck: int = 0  # due longer than STUCK_AFTER ago and not waiting for a retry time
    claimed: int = 0  # under a live claim: a dispatcher is sending it now
    retry_wait: int = 0  # not_before in the future


@dataclass
class OutboxOverview:
    statuses: dict[str, StatusCounts]
    pending: PendingDetail
    sent_last_day: int
    kept_aside: int
    kept_aside_oldest: datetime | None  # received_at of the oldest kept-aside update
    kept_aside_errors: Counter[str]
    updates_waiting: int  # stored, not handled yet, not kept aside


@dataclass
class Requeued:
    by_status: Counter[str]  # re-queued rows per former status
    without_payload: Counter[str]  # rows that cannot be sent again, per status
    updates: int | None  # kept-aside updates handed back; None when not asked


def display_url(url: str) -> str:
    """The database URL for a report: without a password, wherever it was given."""
    try:
        parsed = make_url(url)
    except Exception:
        return "(not a database URL)"
    secret = [key for key in parsed.query if "password" in key.lower()]
    parsed = parsed.difference_update_query(secret)._replace(password=None)
    return parsed.render_as_string(hide_password=True)


def open_database(url: str) -> Database:
    """The database for an admin command; a SQLite file that is not there is an error, not an
    empty new database."""
    if is_sqlite(url):
        path = make_url(url).database or ""
        if path and path != ":memory:" and not path.startswith("file:") \
                and not Path(path).exists():
            raise DatabaseUnreachable(f"The database {display_url(url)} cannot be reached: "
                                      "there is no such file.")
        return Database(url)
    return Database(url, connect_args={"timeout": CONNECT_TIMEOUT})


def unreachable(url: str, error: BaseException) -> DatabaseUnreachable:
    """A one-line description of why the database could not be used (no SQL, no parameters)."""
    cause: BaseException = getattr(error, "orig", None) or error
    while cause.__cause__ is not None:  # the driver's own error says most (asyncpg's kinds)
        cause = cause.__cause__
    detail = " ".join(str(cause).split())[:160]
    kind = type(cause).__name__
    hint = ""
    if re.search(r"no such (table|column)|(relation|column) .* does not exist", detail):
        hint = " Is this the bot's database, and has the bot run once (to bring its schema up " \
               "to date)?"
    text = f"{kind}: {detail}" if detail else kind
    return DatabaseUnreachable(f"The database {display_url(url)} cannot be used ({text}).{hint}")


DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


# Counting ----------------------------------------------------------------------------------------
async def overview(session: AsyncSession, now: datetime) -> OutboxOverview:
    statuses = await _status_counts(session)
    errors = await session.execute(
        select(Outbox.status, Outbox.last_error, func.count())
        .where(Outbox.status != "sent", Outbox.last_error.is_not(None))
        .group_by(Outbox.status, Outbox.last_error))
    for status, last_error, count in errors.all():
        statuses.setdefault(status, StatusCounts()).errors[last_error or ""] += count
    sent = await session.scalar(
        select(func.count()).select_from(Outbox)
        .where(Outbox.status == "sent", Outbox.sent_at >= now - SENT_WINDOW))
    kept_count, kept_oldest, kept_errors = await _kept_aside(session)
    waiting = await session.scalar(
        select(func.count()).select_from(InboundUpdate)
        .where(InboundUpdate.kept_aside_at.is_(None)))
    return OutboxOverview(statuses=statuses, pending=await _pending_detail(session, now),
                          sent_last_day=int(sent or 0), kept_aside=kept_count,
                          kept_aside_oldest=kept_oldest, kept_aside_errors=kept_errors,
                          updates_waiting=int(waiting or 0))


async def _status_counts(session: AsyncSession) -> dict[str, StatusCounts]:
    has_payload = Outbox.payload.is_not(None)
    rows = await session.execute(
        select(Outbox.status, Outbox.purpose, has_payload, func.count(),
               func.min(Outbox.created_at))
        .where(Outbox.status != "sent")
        .group_by(Outbox.status, Outbox.purpose, has_payload))
    statuses: dict[str, StatusCounts] = {}
    for status, purpose, with_payload, count, oldest in rows.all():
        counts = statuses.setdefault(status, StatusCounts())
        counts.count += count
        counts.by_purpose[purpose] += count
        if with_payload:
            counts.with_payload += count
        if oldest is not None and (counts.oldest is None or oldest < counts.oldest):
            counts.oldest = oldest
    return statuses


def _count_where(*conditions: Any) -> Any:
    return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)


async def _pending_detail(session: AsyncSession, now: datetime) -> PendingDetail:
    row = (await session.execute(
        select(_count_where(Outbox.due_at > now),
               _count_where(Outbox.due_at <= now - STUCK_AFTER,
                            or_(Outbox.not_before.is_(None), Outbox.not_before <= now)),
               _count_where(Outbox.claimed_by.is_not(None), Outbox.claimed_until > now),
               _count_where(Outbox.not_before > now))
        .where(Outbox.status == "pending"))).one()
    return PendingDetail(not_yet_due=int(row[0]), stuck=int(row[1]), claimed=int(row[2]),
                         retry_wait=int(row[3]))


async def _kept_aside(session: AsyncSession) -> tuple[int, datetime | None, Counter[str]]:
    rows = await session.execute(
        select(InboundUpdate.last_error, func.count(), func.min(InboundUpdate.received_at))
        .where(InboundUpdate.kept_aside_at.is_not(None))
        .group_by(InboundUpdate.last_error))
    total, oldest, errors = 0, None, Counter[str]()
    for last_error, count, first in rows.all():
        total += count
        errors[last_error or "unknown"] += count
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return total, oldest, errors


# Re-queueing -------------------------------------------------------------------------------------
async def requeue(session: AsyncSession, statuses: tuple[str, ...], purpose: str | None,
                  updates_too: bool) -> Requeued:
    """Put rows that were given up, parked or expired back in line, as pending with a clean
    slate; `due_at` and `id` stay, so each keeps its place in its chat's order. Rows whose
    payload is gone cannot be sent again: only counted."""
    chosen: list[ColumnElement[bool]] = [Outbox.status.in_(statuses)]
    if purpose is not None:
        chosen.append(Outbox.purpose == purpose)
    gone = await session.execute(
        select(Outbox.status, func.count()).where(*chosen, Outbox.payload.is_(None))
        .group_by(Outbox.status))
    requeued: Counter[str] = Counter()
    for status in statuses:
        result = await session.execute(
            update(Outbox)
            .where(*chosen, Outbox.status == status, Outbox.payload.is_not(None))
            .values(status="pending", not_before=None, claimed_by=None, claimed_until=None,
                    attempts=0, last_error=None, expires_at=None)
            .execution_options(synchronize_session=False))
        requeued[status] = _rowcount(result)
    handed_back = await _requeue_updates(session) if updates_too else None
    without = Counter({status: count for status, count in gone.all()})
    return Requeued(by_status=requeued, without_payload=without, updates=handed_back)


async def _requeue_updates(session: AsyncSession) -> int:
    """Kept-aside updates become ordinary stored updates again: the bot handles them anew."""
    result = await session.execute(
        update(InboundUpdate).where(InboundUpdate.kept_aside_at.is_not(None))
        .values(kept_aside_at=None, attempts=0)
        .execution_options(synchronize_session=False))
    return _rowcount(result)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)
