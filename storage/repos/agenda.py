"""What the agendas and overviews read: the coaches' caseload snapshots for the agenda
(bot/domain/agenda.py decides what goes in), and the coordinator's counts per family.

Each is loaded with a fixed number of queries, whatever the caseload and however many coaches
(no query per family, none per coach): the morning job loads the snapshots of every coach whose
window opens now in one go, and /agenda is the same code for one coach.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Row, Select, and_, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
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

SIGNAL_WINDOW = timedelta(days=14)  # a family's "lukt niet" / "hulp nodig" stays this long
GOOD_NEWS_WINDOW = timedelta(days=7)
CHUNK = 5_000  # ids per IN list: well below SQLite's and asyncpg's parameter limits
_Keyed = TypeVar("_Keyed", bound=Sequence[Any])  # a row whose first column is its id
_Columns = TypeVarTuple("_Columns")


async def snapshot(session: AsyncSession, staff: Staff, now: datetime, zone: str,
                   weekly: bool = False) -> Snapshot:
    """One coach's agenda snapshot (/agenda, /gezinnen): `snapshots` for one."""
    found = await snapshots(session, [staff], now, {staff.id: zone},
                            weekly={staff.id} if weekly else ())
    return found[staff.id]


@dataclass
class _Coach:
    """One coach's share of the shared query results."""

    staff: Staff
    zone: str
    local: datetime  # now, in the coach's zone
    day_start: datetime
    own: list[tuple[int, datetime]]  # (family id, coaching since), by family id
    readers: list[int]  # own, then covered families: whose messages this person reads now


@dataclass
class _Found:
    """What the queries found for all the coaches together, by family id."""

    families: dict[int, Any] = field(default_factory=dict)
    alias: dict[int, str] = field(default_factory=dict)  # own and covered families
    appointments: dict[int, list[Any]] = field(default_factory=dict)
    items: dict[int, list[Any]] = field(default_factory=dict)
    signals: dict[int, list[tuple[int, int, str, str, datetime]]] = field(default_factory=dict)
    held: dict[int, tuple[int, int]] = field(default_factory=dict)  # count, urgent
    waiting: dict[int, tuple[int, int, datetime]] = field(default_factory=dict)
    absence: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)  # by staff id
    good: dict[int, tuple[int, int]] = field(default_factory=dict)  # done, kept


async def snapshots(session: AsyncSession, staffs: Sequence[Staff], now: datetime,
                    zones: Mapping[int, str], weekly: Collection[int] = ()
                    ) -> dict[int, Snapshot]:
    """Everything the agendas of `staffs` need, by staff id, in nine queries whatever the
    caseloads and however many coaches (on SQLite one more per query for every CHUNK ids).
    `zones`: each coach's time zone, by staff id (their day: which appointments and
    agreements are today's); `weekly`: the staff ids whose agenda adds the week's good
    news. The messages of the families a coach stands in for now (a colleague's leave) are
    theirs to answer too.

    Rows are grouped per coach here (a duo's family is in both coaches' snapshots); names are
    sealed, so nothing is filtered or sorted by them in SQL. Every part comes in id order, so a
    coach's snapshot does not depend on whose are loaded with it."""
    staffs = list({s.id: s for s in staffs}.values())
    if not staffs:
        return {}
    staff_ids = [s.id for s in staffs]
    found = _Found()
    own: dict[int, list[tuple[int, datetime]]] = {sid: [] for sid in staff_ids}
    for row in await _rows(session, staff_ids, lambda within: select(
            FamilyCoach.staff_id, FamilyCoach.since, Family.id, Family.alias,
            Family.paused_until, Family.contact_frequency, Family.last_contact_at,
            Family.review_frequency, Family.last_review_at)
            .join(Family, Family.id == FamilyCoach.family_id)
            .where(within(FamilyCoach.staff_id), Family.active.is_(True))):
        found.families[row.id] = row
        found.alias[row.id] = row.alias
        own[row.staff_id].append((row.id, row.since))
    covered = await _covered(session, staffs, now, found.alias)
    coaches: dict[int, _Coach] = {}
    for staff in staffs:
        local = now.astimezone(ZoneInfo(zones[staff.id]))
        mine = sorted(own[staff.id], key=lambda pair: pair[0])
        ids = {fid for fid, _ in mine}
        coaches[staff.id] = _Coach(
            staff, zones[staff.id], local,
            local.replace(hour=0, minute=0, second=0, microsecond=0), mine,
            [fid for fid, _ in mine] + sorted(covered.get(staff.id, set()) - ids))
    all_ids = sorted({fid for c in coaches.values() for fid, _ in c.own})
    readers = sorted({fid for c in coaches.values() for fid in c.readers})
    if all_ids:
        # The widest span of days: each coach keeps their own today below. Only today's
        # (build_agenda shows no other): every appointment read is two values unsealed,
        # and tomorrow's were half of the morning's appointment rows (bench/README.md).
        first = min(c.day_start for c in coaches.values())
        last = max(_day_end(c) for c in coaches.values())
        found.appointments = _by_family(await _rows(session, all_ids, lambda within: select(
            Appointment.id, Appointment.family_id, Appointment.starts_at, Appointment.what,
            Appointment.place, Appointment.response).where(
            within(Appointment.family_id), Appointment.status == "planned",
            Appointment.starts_at >= first, Appointment.starts_at < last)))
        latest = max(c.local.date() for c in coaches.values())
        found.items = _by_family(await _rows(session, all_ids, lambda within: select(
            ActionItem.id, ActionItem.family_id, ActionItem.what, ActionItem.due_date).where(
            within(ActionItem.family_id), ActionItem.status == "open",
            ActionItem.due_date <= latest)))
        found.signals = _signals(await _rows(session, all_ids, lambda within: select(
            FamilyMessage.id, FamilyMessage.family_id, FamilyMessage.body,
            FamilyMessage.received_at).where(
            within(FamilyMessage.family_id), FamilyMessage.kind == "signal",
            FamilyMessage.answered_at.is_(None),
            FamilyMessage.received_at >= now - SIGNAL_WINDOW)))
    if readers:
        found.held = {fid: (int(count), int(urgent or 0)) for fid, count, urgent in await _rows(
            session, readers, lambda within: select(
                FamilyMessage.family_id, func.count(),
                func.sum(func.cast(FamilyMessage.urgent, Integer)))
            .where(within(FamilyMessage.family_id), FamilyMessage.status == "held",
                   FamilyMessage.hold_until > now)
            .group_by(FamilyMessage.family_id))}
        found.waiting = {fid: (count, urgent, since)
                         for fid, count, urgent, since in await _waiting(session, readers, now)}
    for staff_id, starts, ends in await _rows(session, staff_ids, lambda within: select(
            Absence.staff_id, Absence.starts_at, Absence.ends_at).where(
            within(Absence.staff_id), Absence.ends_at > now)):
        known = found.absence.get(staff_id)  # the next or current one: the first to start
        if known is None or (starts, ends) < known:
            found.absence[staff_id] = (starts, ends)
    good_ids = sorted({fid for sid in weekly if sid in coaches for fid, _ in coaches[sid].own})
    if good_ids:
        found.good = _good_news(await _rows(session, good_ids, lambda within: select(
            FamilyMessage.family_id, FamilyMessage.body).where(
            within(FamilyMessage.family_id), FamilyMessage.kind == "signal",
            FamilyMessage.received_at >= now - GOOD_NEWS_WINDOW)))
    return {sid: _snapshot(coach, found, now, sid in weekly) for sid, coach in coaches.items()}


def _snapshot(coach: _Coach, found: _Found, now: datetime, weekly: bool) -> Snapshot:
    """One coach's snapshot from the shared results: their families, their days."""
    alias = found.alias
    ids = [fid for fid, _ in coach.own]
    today = coach.local.date()
    # In UTC, as the rows' instants: comparing instants of two zones asks the coach's zone
    # for its offset twice a row, 0.2 s of a 1,000-coach morning (bench/README.md).
    start, until = coach.day_start.astimezone(UTC), _day_end(coach).astimezone(UTC)
    families = []
    for fid, since in coach.own:
        f = found.families[fid]
        families.append(FamilyState(
            fid, f.alias,
            paused=f.paused_until is not None and f.paused_until > now,
            contact=Frequency(f.contact_frequency) if f.contact_frequency else None,
            last_contact=f.last_contact_at, since=since,
            review=Frequency(f.review_frequency or "never"),
            last_review=f.last_review_at))
    return Snapshot(
        now=now, today=today, zone=coach.zone,
        families=tuple(families),
        appointments=tuple(AppointmentEntry(a.family_id, alias[a.family_id], a.starts_at,
                                            a.what, a.place, a.response)
                           for a in _mine(found.appointments, ids)
                           if start <= a.starts_at < until),
        items=tuple(DueItem(i.family_id, alias[i.family_id], i.what, i.due_date)
                    for i in _mine(found.items, ids) if i.due_date <= today),
        signals=tuple(Signal(fid, alias[fid], kind, what, at)
                      for _, fid, kind, what, at in _mine(found.signals, ids)),
        held=tuple(Held(fid, alias[fid], *found.held[fid])
                   for fid in sorted(coach.readers) if fid in found.held),
        waiting=tuple(Waiting(fid, alias[fid], *found.waiting[fid])
                      for fid in sorted(coach.readers) if fid in found.waiting),
        absence=found.absence.get(coach.staff.id),
        good_news=tuple(GoodNews(fid, alias[fid], *found.good[fid])
                        for fid in ids if fid in found.good) if weekly else (),
        weekly=weekly,
    )


def _day_end(coach: _Coach) -> datetime:
    """The start of the coach's next day (wall-clock arithmetic: 23 or 25 hours on the days
    the clocks change)."""
    return coach.day_start + timedelta(days=1)


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


Within = Callable[[Any], ColumnElement[bool]]  # a column's value is one of the ids asked for


async def _rows(session: AsyncSession, ids: Sequence[int],
                query: Callable[[Within], Select[*_Columns]]
                ) -> list[Row[*_Columns]]:
    """`query` for `ids`, the rows together: `query` is given what says that a column holds
    one of them. On PostgreSQL all ids go as one array (`= ANY`): one statement, prepared
    once, whatever their number. An IN list of thousands of parameters was rendered afresh
    and prepared and planned by the server anew for every length: a tenth of a cold
    morning's snapshots (bench/README.md). SQLite has no arrays: one IN list per CHUNK."""
    if session.get_bind().dialect.name == "postgresql":
        listed = list(ids)
        return list((await session.execute(query(
            lambda column: column == any_(bindparam("ids", listed, type_=ARRAY(column.type))))
        )).all())
    found: list[Row[*_Columns]] = []
    for chunk in _chunks(ids):
        def within(column: Any, chunk: list[int] = chunk) -> ColumnElement[bool]:
            return column.in_(chunk)  # type: ignore[no-any-return]
        found.extend((await session.execute(query(within))).all())
    return found


def _by_family(rows: Sequence[Any]) -> dict[int, list[Any]]:
    """Rows (id, family id, …) by family."""
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row[1], []).append(row)
    return grouped


def _mine(grouped: Mapping[int, Sequence[_Keyed]], family_ids: list[int]) -> list[_Keyed]:
    """One coach's rows (id, family id, …) of a result grouped by family, in id order."""
    return sorted((row for fid in family_ids for row in grouped.get(fid, ())),
                  key=lambda r: r[0])


async def _covered(session: AsyncSession, staffs: Sequence[Staff], now: datetime,
                   alias: dict[int, str]) -> dict[int, set[int]]:
    """Per staff id: the active families they stand in for now, as named substitute or as a
    coordinator for an absence without one (the rule of storage/repos/absences.py
    `_standing_in`, for many people in one query). Their aliases go into `alias`."""
    ids = [s.id for s in staffs]
    coordinators = {s.id for s in staffs if s.is_coordinator}
    rows = await _rows(session, ids, lambda within: select(
        Absence.substitute_id, Family.id, Family.alias)
        .join(FamilyCoach, FamilyCoach.staff_id == Absence.staff_id)
        .join(Family, Family.id == FamilyCoach.family_id)
        .where(Absence.starts_at <= now, Absence.ends_at > now, Family.active.is_(True),
               or_(within(Absence.substitute_id), Absence.substitute_id.is_(None))
               if coordinators else within(Absence.substitute_id)))
    covered: dict[int, set[int]] = {}
    for substitute, family_id, family_alias in rows:
        alias.setdefault(family_id, family_alias)
        for sid in (coordinators if substitute is None else (substitute,)):
            covered.setdefault(sid, set()).add(family_id)
    return covered


def _signals(rows: Sequence[Any]
             ) -> dict[int, list[tuple[int, int, str, str, datetime]]]:
    """The open "lukt niet" and "hulp nodig" signals by family: (id, family id, kind, what,
    when)."""
    found: dict[int, list[tuple[int, int, str, str, datetime]]] = {}
    for message_id, family_id, body, received_at in rows:
        try:
            data = json.loads(body or "{}")
        except ValueError:
            continue
        if data.get("s") in ("cannot", "help"):
            found.setdefault(family_id, []).append(
                (message_id, family_id, data["s"], str(data.get("what", "")), received_at))
    return found


def _good_news(rows: Sequence[Any]) -> dict[int, tuple[int, int]]:
    """Per family: agreements done and appointments kept (its signals of the past week)."""
    done: dict[int, int] = {}
    kept: dict[int, int] = {}
    for family_id, body in rows:
        kind = _signal_kind(body)
        if kind == "done":
            done[family_id] = done.get(family_id, 0) + 1
        elif kind == "coming":
            kept[family_id] = kept.get(family_id, 0) + 1
    return {fid: (done.get(fid, 0), kept.get(fid, 0)) for fid in sorted(set(done) | set(kept))}


async def _waiting(session: AsyncSession, family_ids: Sequence[int], now: datetime
                   ) -> list[tuple[int, int, int, datetime]]:
    """Per family: its unanswered messages that reached the coach, and those held until now
    (released at this opening, whether or not the release ran before the agenda) — how many,
    how many urgent, and when the oldest was written. Signals have their own part."""
    rows = await _rows(session, family_ids, lambda within: select(
        FamilyMessage.family_id, func.count(),
        func.sum(func.cast(FamilyMessage.urgent, Integer)),
        func.min(FamilyMessage.received_at))
        .where(within(FamilyMessage.family_id), FamilyMessage.kind != "signal",
               FamilyMessage.answered_at.is_(None),
               or_(FamilyMessage.status == "delivered",
                   and_(FamilyMessage.status == "held", FamilyMessage.hold_until <= now)))
        .group_by(FamilyMessage.family_id))
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
