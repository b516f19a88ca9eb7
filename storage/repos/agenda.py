"""What the agendas and overviews read: a coach's caseload snapshot for the agenda
(bot/domain/agenda.py decides what goes in), and the coordinator's counts per family.

Each is loaded with a fixed number of queries, whatever the caseload (no query per family).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.agenda import (
    AppointmentEntry,
    DueItem,
    FamilyState,
    Frequency,
    GoodNews,
    Held,
    Signal,
    Snapshot,
    Waiting,
)
from storage.models import (
    Absence,
    ActionItem,
    Appointment,
    Family,
    FamilyCoach,
    FamilyMessage,
    Staff,
)
from storage.repos.absences import covered_families

SIGNAL_WINDOW = timedelta(days=14)  # a family's "lukt niet" / "hulp nodig" stays this long
GOOD_NEWS_WINDOW = timedelta(days=7)


async def snapshot(session: AsyncSession, staff: Staff, now: datetime, zone: str,
                   weekly: bool = False) -> Snapshot:
    """Everything the agenda needs, in nine queries whatever the caseload. The messages of the
    families `staff` stands in for now (a colleague's leave) are theirs to answer too."""
    local = now.astimezone(ZoneInfo(zone))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    families = (await session.execute(
        select(Family, FamilyCoach.since).join(FamilyCoach, FamilyCoach.family_id == Family.id)
        .where(FamilyCoach.staff_id == staff.id, Family.active.is_(True)))).all()
    ids = [f.id for f, _ in families]
    alias = {f.id: f.alias for f, _ in families}
    covered = [f for f in await covered_families(session, staff, now) if f.id not in alias]
    alias.update((f.id, f.alias) for f in covered)
    readers = ids + [f.id for f in covered]  # whose messages this person reads now
    appts = (await session.scalars(select(Appointment).where(
        Appointment.family_id.in_(ids), Appointment.status == "planned",
        Appointment.starts_at >= day_start, Appointment.starts_at < day_start
        + timedelta(days=2)))).all() if ids else []
    items = (await session.scalars(select(ActionItem).where(
        ActionItem.family_id.in_(ids), ActionItem.status == "open",
        ActionItem.due_date <= local.date()))).all() if ids else []
    signal_rows = (await session.scalars(select(FamilyMessage).where(
        FamilyMessage.family_id.in_(ids), FamilyMessage.kind == "signal",
        FamilyMessage.answered_at.is_(None),
        FamilyMessage.received_at >= now - SIGNAL_WINDOW))).all() if ids else []
    held_rows = (await session.execute(
        select(FamilyMessage.family_id, func.count(),
               func.sum(func.cast(FamilyMessage.urgent, Integer)))
        .where(FamilyMessage.family_id.in_(readers), FamilyMessage.status == "held",
               FamilyMessage.hold_until > now)
        .group_by(FamilyMessage.family_id))).all() if readers else []
    waiting_rows = await _waiting(session, readers, now) if readers else []
    absence = (await session.execute(select(Absence.starts_at, Absence.ends_at).where(
        Absence.staff_id == staff.id, Absence.ends_at > now).order_by(Absence.starts_at)
        .limit(1))).first()
    good = (await session.execute(
        select(FamilyMessage.family_id, FamilyMessage.body)
        .where(FamilyMessage.family_id.in_(ids), FamilyMessage.kind == "signal",
               FamilyMessage.received_at >= now - GOOD_NEWS_WINDOW))).all() \
        if ids and weekly else []
    done: dict[int, int] = {}
    kept: dict[int, int] = {}
    for family_id, body in good:
        kind = _signal_kind(body)
        if kind == "done":
            done[family_id] = done.get(family_id, 0) + 1
        elif kind == "coming":
            kept[family_id] = kept.get(family_id, 0) + 1
    signals = []
    for row in signal_rows:
        try:
            data = json.loads(row.body or "{}")
        except ValueError:
            continue
        if data.get("s") in ("cannot", "help"):
            signals.append(Signal(row.family_id, alias[row.family_id], data["s"],
                                  str(data.get("what", "")), row.received_at))
    return Snapshot(
        now=now, today=local.date(), zone=zone,
        families=tuple(FamilyState(
            f.id, f.alias,
            paused=f.paused_until is not None and f.paused_until > now,
            contact=Frequency(f.contact_frequency) if f.contact_frequency else None,
            last_contact=f.last_contact_at, since=since,
            review=Frequency(f.review_frequency or "never"),
            last_review=f.last_review_at) for f, since in families),
        appointments=tuple(AppointmentEntry(a.family_id, alias[a.family_id], a.starts_at,
                                            a.what, a.place, a.response) for a in appts),
        items=tuple(DueItem(i.family_id, alias[i.family_id], i.what, i.due_date)
                    for i in items),
        signals=tuple(signals),
        held=tuple(Held(fid, alias[fid], int(count), int(urgent or 0))
                   for fid, count, urgent in held_rows),
        waiting=tuple(Waiting(fid, alias[fid], count, urgent, since)
                      for fid, count, urgent, since in waiting_rows),
        absence=(absence[0], absence[1]) if absence else None,
        good_news=tuple(GoodNews(fid, alias[fid], done.get(fid, 0), kept.get(fid, 0))
                        for fid in sorted(set(done) | set(kept))),
        weekly=weekly,
    )


async def _waiting(session: AsyncSession, family_ids: list[int], now: datetime
                   ) -> list[tuple[int, int, int, datetime]]:
    """Per family: its unanswered messages that reached the coach, and those held until now
    (released at this opening, whether or not the release ran before the agenda) — how many,
    how many urgent, and when the oldest was written. Signals have their own part."""
    rows = (await session.execute(
        select(FamilyMessage.family_id, func.count(),
               func.sum(func.cast(FamilyMessage.urgent, Integer)),
               func.min(FamilyMessage.received_at))
        .where(FamilyMessage.family_id.in_(family_ids), FamilyMessage.kind != "signal",
               FamilyMessage.answered_at.is_(None),
               or_(FamilyMessage.status == "delivered",
                   and_(FamilyMessage.status == "held", FamilyMessage.hold_until <= now)))
        .group_by(FamilyMessage.family_id))).all()
    return [(fid, int(count), int(urgent or 0), since) for fid, count, urgent, since in rows]


def _signal_kind(body: str | None) -> str | None:
    try:
        value = json.loads(body or "{}").get("s")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


# The coordinator's overview ----------------------------------------------------------------------
async def caseloads(session: AsyncSession) -> dict[int, list[tuple[int, str]]]:
    """Per coach (staff id): the active families they coach, as (id, alias)."""
    links = (await session.execute(
        select(FamilyCoach.staff_id, Family.id, Family.alias)
        .join(Family, Family.id == FamilyCoach.family_id)
        .where(Family.active.is_(True)))).all()
    by_coach: dict[int, list[tuple[int, str]]] = {}
    for staff_id, family_id, alias in links:
        by_coach.setdefault(staff_id, []).append((family_id, alias))
    return by_coach


async def waiting_counts(session: AsyncSession) -> tuple[dict[int, int], dict[int, int]]:
    """Per family: how many messages are held, and how many wait for an answer (signals are
    not counted as waiting)."""
    counts = (await session.execute(
        select(FamilyMessage.family_id, FamilyMessage.status,
               FamilyMessage.answered_at.is_(None), FamilyMessage.kind, func.count())
        .group_by(FamilyMessage.family_id, FamilyMessage.status,
                  FamilyMessage.answered_at.is_(None), FamilyMessage.kind))).all()
    held: dict[int, int] = {}
    unanswered: dict[int, int] = {}
    for family_id, status, open_, kind, n in counts:
        if status == "held":
            held[family_id] = held.get(family_id, 0) + n
        elif open_ and kind != "signal":
            unanswered[family_id] = unanswered.get(family_id, 0) + n
    return held, unanswered


async def help_requests(session: AsyncSession, now: datetime) -> dict[int, int]:
    """Per family: the requests for help of the last two weeks without an answer."""
    rows = (await session.execute(
        select(FamilyMessage.family_id, func.count()).where(
            FamilyMessage.kind == "signal", FamilyMessage.answered_at.is_(None),
            FamilyMessage.urgent.is_(True), FamilyMessage.received_at >= now - SIGNAL_WINDOW)
        .group_by(FamilyMessage.family_id))).all()
    return {family_id: int(n) for family_id, n in rows}
