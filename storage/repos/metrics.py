"""The statements behind the operators' endpoint (bot/ops_http.py, bot/metrics.py): a health
probe and the counts a scrape shows.

Counts and times only: no payload, chat id, name or error text leaves these functions, and
nothing here needs a family's key (only plain columns are read, never a sealed one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FamilyMessage, InboundUpdate, Outbox

# Family messages that wait for their reader: held for the coach's next opening, or waiting
# for a coach who blocked the bot.
WAITING_MESSAGES = ("held", "waiting")


@dataclass(frozen=True)
class OutboxGroup:
    status: str
    purpose: str
    count: int
    oldest_due: datetime | None  # pending rows only: the earliest due_at among those due


@dataclass
class Counts:
    outbox: list[OutboxGroup] = field(default_factory=list)
    updates_waiting: int = 0  # stored, not handled yet, not kept aside
    updates_oldest: datetime | None = None  # received_at of the oldest of those
    updates_kept_aside: int = 0
    messages_waiting: dict[str, int] = field(default_factory=dict)  # by WAITING_MESSAGES


async def ping(session: AsyncSession) -> None:
    """The database answers (SELECT 1)."""
    await session.execute(select(literal(1)))


async def counts(session: AsyncSession, now: datetime) -> Counts:
    """What a scrape shows. Sent rows are not counted (there are many; the dispatcher counts
    its sends as they happen)."""
    found = Counts()
    due = and_(Outbox.status == "pending", Outbox.due_at <= now)
    rows = await session.execute(
        select(Outbox.status, Outbox.purpose, func.count(),
               func.min(case((due, Outbox.due_at), else_=None)))
        .where(Outbox.status != "sent")
        .group_by(Outbox.status, Outbox.purpose))
    found.outbox = [OutboxGroup(status, purpose, int(count), _aware(oldest))
                    for status, purpose, count, oldest in rows.all()]
    kept = InboundUpdate.kept_aside_at.is_not(None)
    for is_kept, count, oldest in (await session.execute(
            select(kept, func.count(), func.min(InboundUpdate.received_at))
            .group_by(kept))).all():
        if is_kept:
            found.updates_kept_aside = int(count)
        else:
            found.updates_waiting, found.updates_oldest = int(count), _aware(oldest)
    found.messages_waiting = {status: 0 for status in WAITING_MESSAGES}
    for status, count in (await session.execute(
            select(FamilyMessage.status, func.count())
            .where(FamilyMessage.status.in_(WAITING_MESSAGES))
            .group_by(FamilyMessage.status))).all():
        found.messages_waiting[status] = int(count)
    return found


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate over a UTC column: SQLite hands back naive text or a naive datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
