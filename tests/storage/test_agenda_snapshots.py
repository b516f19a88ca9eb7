"""The agendas as set queries (issue 16, item 2), on SQLite and PostgreSQL: `snapshots` loads
every coach's agenda snapshot in one set of queries and gives each coach exactly what the
per-coach snapshot gave (covered families, duos, time zones, the week's good news); the number
of statements does not grow with the number of coaches; the morning job claims each coach's
day once, also with two instances."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Integer, and_, event, func, or_, select

from bot import agenda_text
from bot.callbacks import CallbackSigner
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
    build_agenda,
)
from bot.i18n import translator
from bot.jobs import morning_agenda
from bot.jobs.morning_agenda import MorningAgenda
from bot.settings import Settings
from storage.db import Database
from storage.models import (
    Absence,
    ActionItem,
    Appointment,
    Family,
    FamilyCoach,
    FamilyMessage,
    Outbox,
    Staff,
)
from storage.repos import agenda, people
from storage.repos.absences import covered_families
from tests.caseload import joined_member, joined_staff
from tests.loop_turns import turns_at_each_call

AMS = "Europe/Amsterdam"
# Daytime everywhere on one date; and a moment when Amsterdam and Tokyo are a day further on
# than Curaçao (each coach's own day decides what is today's).
DAYTIME = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
ZONES = {"Anna": AMS, "Bram": "America/Curacao", "Cees": "Asia/Tokyo", "Dirk": AMS,
         "Kim": AMS, "Eva": "Asia/Tokyo"}
WEEKLY = {"Anna", "Bram", "Kim"}
# alias: coaches. Cees is away now with Anna standing in; Dirk is away now without a
# substitute (Kim, a coordinator, stands in); Gezin H. has both of them.
CASELOAD = {"Gezin A.": ("Anna",), "Gezin B.": ("Anna",), "Gezin C.": ("Bram",),
            "Gezin D.": ("Anna", "Bram"), "Gezin E.": ("Cees",), "Gezin F.": ("Dirk",),
            "Gezin G.": ("Kim",), "Gezin H.": ("Cees", "Dirk"), "Gezin I.": ("Anna",)}
INACTIVE = {"Gezin I."}
PAUSED = {"Gezin B."}


async def _build(db: Database, now: datetime) -> dict[str, Staff]:
    """The caseload above; every family with appointments, agreements, messages and signals
    around `now`, so that each coach's zone and each part of the snapshot matter."""
    since = now - timedelta(days=60)
    staff: dict[str, Staff] = {}
    async with db.transaction() as session:
        for chat, name in enumerate(ZONES, start=1):
            person = joined_staff(chat, name, since, coach=True, coordinator=name == "Kim")
            session.add(person)
            staff[name] = person
        await session.flush()
        for n, (alias, coaches) in enumerate(CASELOAD.items()):
            family = Family(alias=alias, created_at=since, active=alias not in INACTIVE,
                            paused_until=now + timedelta(days=3) if alias in PAUSED else None,
                            contact_frequency=("weekly", None, "daily")[n % 3],
                            review_frequency=("monthly", "never", "quarterly")[n % 3],
                            last_contact_at=now - timedelta(days=n * 2) if n % 2 else None,
                            last_review_at=now - timedelta(days=40) if n % 2 == 0 else None)
            session.add(family)
            await session.flush()
            for coach in coaches:
                session.add(FamilyCoach(family_id=family.id, staff_id=staff[coach].id,
                                        since=since + timedelta(days=n)))
            member = joined_member(family.id, 1000 + n, "Lid", "moeder", since)
            session.add(member)
            await session.flush()
            for hours in (-30, -2, 1, 9, 20, 30, 44, 60):
                session.add(Appointment(
                    family_id=family.id, starts_at=now + timedelta(hours=hours + n / 10),
                    what=f"afspraak {hours}", place="thuis" if hours % 2 else None,
                    status="cancelled" if hours == 9 else "planned",
                    response="coming" if hours == 20 else None,
                    created_at=since, updated_at=since))
            for days, status in ((-3, "open"), (-1, "open"), (0, "open"), (1, "open"),
                                 (-2, "done")):
                session.add(ActionItem(family_id=family.id, what=f"punt {days}",
                                       due_date=now.date() + timedelta(days=days),
                                       status=status, created_at=since))
            messages = [
                ("text", "held", now + timedelta(hours=2), False, None, timedelta(hours=3)),
                ("text", "held", now + timedelta(hours=5), n % 2 == 0, None, timedelta(hours=1)),
                ("text", "held", now - timedelta(hours=1), True, None, timedelta(hours=9)),
                ("text", "delivered", None, False, None, timedelta(hours=20 + n)),
                ("text", "delivered", None, False, now, timedelta(hours=30)),
            ]
            for kind, status, hold_until, urgent, answered, ago in messages:
                if n % 4 == 3 and status == "held":
                    continue  # some families have nothing held
                session.add(FamilyMessage(
                    family_id=family.id, member_id=member.id, kind=kind, body="bericht",
                    status=status, hold_until=hold_until, urgent=urgent, answered_at=answered,
                    received_at=now - ago))
            signals = [({"s": "cannot", "what": "huisbezoek"}, timedelta(days=2), None),
                       ({"s": "help"}, timedelta(hours=5), None),
                       ({"s": "cannot", "what": "oud"}, timedelta(days=20), None),
                       ({"s": "help"}, timedelta(days=1), now),
                       ({"s": "done", "what": "formulier"}, timedelta(days=3), now),
                       ({"s": "coming"}, timedelta(days=6), now),
                       ({"s": "coming"}, timedelta(days=9), now)]
            for body, ago, answered in signals[: 3 + n % 5]:
                session.add(FamilyMessage(
                    family_id=family.id, member_id=member.id, kind="signal",
                    body=json.dumps(body), status="delivered", urgent=body["s"] == "help",
                    answered_at=answered, received_at=now - ago))
            session.add(FamilyMessage(family_id=family.id, member_id=member.id, kind="signal",
                                      body="not json", received_at=now - timedelta(hours=1)))
        for away, starts, ends, substitute in (
                ("Cees", -2, 5, "Anna"), ("Dirk", -1, 3, None), ("Dirk", 20, 30, "Kim"),
                ("Bram", 10, 12, "Anna"), ("Eva", 4, 6, None), ("Eva", 3, 8, None)):
            session.add(Absence(staff_id=staff[away].id, starts_at=now + timedelta(days=starts),
                                ends_at=now + timedelta(days=ends),
                                substitute_id=staff[substitute].id if substitute else None,
                                created_at=since))
    return staff


async def _as_before(session: Any, staff: Staff, now: datetime, zone: str,
                     weekly: bool) -> Snapshot:
    """The per-coach snapshot as it was before the set queries (one transaction per coach),
    kept here as the reference the set version must match."""
    local = now.astimezone(ZoneInfo(zone))
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    families = (await session.execute(
        select(Family, FamilyCoach.since).join(FamilyCoach, FamilyCoach.family_id == Family.id)
        .where(FamilyCoach.staff_id == staff.id, Family.active.is_(True)))).all()
    ids = [f.id for f, _ in families]
    alias = {f.id: f.alias for f, _ in families}
    covered = [f for f in await covered_families(session, staff, now) if f.id not in alias]
    alias.update((f.id, f.alias) for f in covered)
    readers = ids + [f.id for f in covered]
    appts = (await session.scalars(select(Appointment).where(
        Appointment.family_id.in_(ids), Appointment.status == "planned",
        Appointment.starts_at >= day_start,
        Appointment.starts_at < day_start + timedelta(days=2)))).all()
    items = (await session.scalars(select(ActionItem).where(
        ActionItem.family_id.in_(ids), ActionItem.status == "open",
        ActionItem.due_date <= local.date()))).all()
    signal_rows = (await session.scalars(select(FamilyMessage).where(
        FamilyMessage.family_id.in_(ids), FamilyMessage.kind == "signal",
        FamilyMessage.answered_at.is_(None),
        FamilyMessage.received_at >= now - agenda.SIGNAL_WINDOW))).all()
    held_rows = (await session.execute(
        select(FamilyMessage.family_id, func.count(),
               func.sum(func.cast(FamilyMessage.urgent, Integer)))
        .where(FamilyMessage.family_id.in_(readers), FamilyMessage.status == "held",
               FamilyMessage.hold_until > now).group_by(FamilyMessage.family_id))).all()
    waiting_rows = (await session.execute(
        select(FamilyMessage.family_id, func.count(),
               func.sum(func.cast(FamilyMessage.urgent, Integer)),
               func.min(FamilyMessage.received_at))
        .where(FamilyMessage.family_id.in_(readers), FamilyMessage.kind != "signal",
               FamilyMessage.answered_at.is_(None),
               or_(FamilyMessage.status == "delivered",
                   and_(FamilyMessage.status == "held", FamilyMessage.hold_until <= now)))
        .group_by(FamilyMessage.family_id))).all()
    absence = (await session.execute(select(Absence.starts_at, Absence.ends_at).where(
        Absence.staff_id == staff.id, Absence.ends_at > now).order_by(Absence.starts_at)
        .limit(1))).first()
    good = (await session.execute(
        select(FamilyMessage.family_id, FamilyMessage.body)
        .where(FamilyMessage.family_id.in_(ids), FamilyMessage.kind == "signal",
               FamilyMessage.received_at >= now - agenda.GOOD_NEWS_WINDOW))).all() \
        if weekly else []
    done: dict[int, int] = {}
    kept: dict[int, int] = {}
    for family_id, body in good:
        kind = agenda._signal_kind(body)
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
            f.id, f.alias, paused=f.paused_until is not None and f.paused_until > now,
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
        waiting=tuple(Waiting(fid, alias[fid], int(count), int(urgent or 0), since)
                      for fid, count, urgent, since in waiting_rows),
        absence=(absence[0], absence[1]) if absence else None,
        good_news=tuple(GoodNews(fid, alias[fid], done.get(fid, 0), kept.get(fid, 0))
                        for fid in sorted(set(done) | set(kept))),
        weekly=weekly)


def _today_only(snap: Snapshot) -> Snapshot:
    zone = ZoneInfo(snap.zone)
    return dataclasses.replace(snap, appointments=tuple(
        a for a in snap.appointments if a.at.astimezone(zone).date() == snap.today))


def _unordered(snap: Snapshot) -> Snapshot:
    """The reference's rows came in the database's order (no ORDER BY): compare as sets."""
    parts = ("families", "appointments", "items", "signals", "held", "waiting", "good_news")
    return Snapshot(now=snap.now, today=snap.today, zone=snap.zone, absence=snap.absence,
                    weekly=snap.weekly,
                    **{part: tuple(sorted(getattr(snap, part), key=repr)) for part in parts})


def _names(staff: dict[str, Staff], snap: Snapshot, part: str) -> set[str]:
    return {row.alias for row in getattr(snap, part)}


@pytest.mark.parametrize("now", [DAYTIME, MIDNIGHT], ids=["daytime", "midnight"])
async def test_each_coach_gets_what_the_per_coach_snapshot_gave(
        db: Database, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    staff = await _build(db, now)
    coaches = list(staff.values())
    zones = {s.id: ZONES[name] for name, s in staff.items()}
    weekly = {staff[name].id for name in WEEKLY}
    async with db.transaction() as session:
        together = await agenda.snapshots(session, coaches, now, zones, weekly)
        backwards = await agenda.snapshots(session, coaches[::-1], now, zones, weekly)
        with monkeypatch.context() as patch:
            patch.setattr(agenda, "CHUNK", 2)  # many IN lists, also for covered families
            chunked = await agenda.snapshots(session, coaches, now, zones, weekly)
        tomorrows = 0
        for name, person in staff.items():
            alone = await agenda.snapshot(session, person, now, ZONES[name], name in WEEKLY)
            before = await _as_before(session, person, now, ZONES[name], name in WEEKLY)
            assert together[person.id] == alone == backwards[person.id] \
                == chunked[person.id], name
            # Only the coach's today's appointments are read (the reference read two days):
            # the same agenda.
            assert _unordered(alone) == _unordered(_today_only(before)), name
            assert build_agenda(alone) == build_agenda(before), name
            assert all(a.at.astimezone(ZoneInfo(alone.zone)).date() == alone.today
                       for a in alone.appointments), name
            tomorrows += len(before.appointments) - len(alone.appointments)
    assert tomorrows > 0  # the data has appointments on the next day, left out
    assert set(together) == {s.id for s in coaches}
    anna, bram, kim = together[staff["Anna"].id], together[staff["Bram"].id], \
        together[staff["Kim"].id]
    # Not an empty comparison: the parts are there, and where they belong.
    assert _names(staff, anna, "families") == {"Gezin A.", "Gezin B.", "Gezin D."}
    assert "Gezin D." in _names(staff, bram, "families")  # the duo in both
    # Anna stands in for Cees, Kim (coordinator) for Dirk; both for Gezin H.
    assert {"Gezin E.", "Gezin H."} <= _names(staff, anna, "waiting")
    assert {"Gezin F.", "Gezin H."} <= _names(staff, kim, "waiting")
    assert {"Gezin E.", "Gezin H."} & _names(staff, anna, "held")
    assert "Gezin E." not in _names(staff, anna, "appointments") | _names(staff, anna, "items")
    assert anna.appointments and anna.items and anna.signals and anna.good_news
    assert not together[staff["Cees"].id].good_news  # not weekly
    assert together[staff["Eva"].id].families == ()
    assert together[staff["Eva"].id].absence == (now + timedelta(days=3), now + timedelta(days=8))
    if now == MIDNIGHT:
        assert anna.today == bram.today + timedelta(days=1)


async def _statements(db: Database, coaches: list[Staff], now: datetime) -> int:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.transaction() as session:
            found = await agenda.snapshots(session, coaches, now,
                                           {c.id: AMS for c in coaches}, {c.id for c in coaches})
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert all(s.families and s.appointments and s.waiting for s in found.values())
    return len([s for s in statements
                if not s.strip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT"))])


async def test_statements_do_not_grow_with_the_number_of_coaches(db: Database) -> None:
    staff = await _build(db, DAYTIME)
    async with db.transaction() as session:  # 27 more coaches, each with a family of their own
        extra = [joined_staff(100 + n, f"Coach {n}", DAYTIME, coach=True) for n in range(27)]
        session.add_all(extra)
        await session.flush()
        for person in extra:
            family = Family(alias=f"Gezin {person.id}", created_at=DAYTIME)
            session.add(family)
            await session.flush()
            session.add(FamilyCoach(family_id=family.id, staff_id=person.id, since=DAYTIME))
            session.add(Appointment(family_id=family.id, starts_at=DAYTIME + timedelta(hours=2),
                                    what="huisbezoek", created_at=DAYTIME, updated_at=DAYTIME))
            session.add(FamilyMessage(family_id=family.id, kind="text", body="x",
                                      received_at=DAYTIME - timedelta(hours=1)))
    three = [staff["Anna"], staff["Bram"], staff["Kim"]]
    small = await _statements(db, three, DAYTIME)
    large = await _statements(db, three + extra, DAYTIME)
    assert small == large, f"{small} statements for 3 coaches, {large} for 30"
    assert small <= 9


async def _outbox_agendas(db: Database) -> dict[int | None, list[str]]:
    """The agenda texts in the outbox, by chat."""
    found: dict[int | None, list[str]] = {}
    async with db.transaction() as session:
        for row in (await session.scalars(select(Outbox).where(Outbox.purpose == "agenda")
                                          .order_by(Outbox.id))).all():
            assert row.payload is not None
            found.setdefault(row.chat_id, []).append(row.payload["p"]["text"])
    return found


@pytest.mark.parametrize("slice_", [None, 2], ids=["one slice", "slices of two"])
async def test_the_morning_job_sends_each_agenda_once_as_the_per_coach_snapshot_would(
        migrated_db_url: str, monkeypatch: pytest.MonkeyPatch, slice_: int | None) -> None:
    """Two instances at Monday's opening (09:00): every coach in chat, not away, gets one
    agenda, with the text the per-coach snapshot gives; the other instance claims nothing.
    The same when the coaches are read and rendered a few at a time (morning_agenda.SLICE)."""
    if slice_ is not None:
        monkeypatch.setattr(morning_agenda, "SLICE", slice_)
    opening = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo(AMS))
    first, second = Database(migrated_db_url), Database(migrated_db_url)
    try:
        staff = await _build(first, opening - timedelta(minutes=1))
        settings = Settings(region="NL")
        signer = CallbackSigner(b"k" * 32)
        jobs = [MorningAgenda(settings, signer), MorningAgenda(settings, signer)]

        async def run(db: Database, job: MorningAgenda) -> int:
            async with db.transaction() as session:
                return await job(session, opening)

        if first.dialect == "postgresql":  # at the same moment: the claim decides
            sent = list(await asyncio.gather(run(first, jobs[0]), run(second, jobs[1])))
        else:  # SQLite: one writer at a time
            sent = [await run(first, jobs[0]), await run(second, jobs[1])]
        away = {"Cees", "Dirk"}
        assert sum(sent) == len(staff) - len(away)
        found = await _outbox_agendas(first)
        assert set(found) == {s.chat_id for name, s in staff.items() if name not in away}
        tr = translator("nl", "NL", AMS)
        async with first.transaction() as session:
            for name, person in staff.items():
                if name in away:
                    continue
                snap = await agenda.snapshot(session, person, opening, AMS, weekly=True)
                assert found[person.chat_id] == [agenda_text.render(
                    tr, build_agenda(snap), opening)], name
                row = await session.get(Staff, person.id)
                assert row is not None and row.agenda_sent_on == date(2026, 11, 30)
        # Later that morning nothing more goes out.
        assert await run(second, MorningAgenda(settings, signer)) == 0
    finally:
        await first.dispose()
        await second.dispose()


async def _ticks_at_each_call(db: Database, monkeypatch: pytest.MonkeyPatch, where: Any,
                              name: str, now: datetime) -> tuple[int, list[int]]:
    """Run the morning job at `now` with SLICE 2 beside a task that counts its turns; at each
    call of `where.name`, how many turns the other task had had so far."""
    monkeypatch.setattr(morning_agenda, "SLICE", 2)
    async with turns_at_each_call(monkeypatch, where, name) as seen, \
            db.transaction() as session:
        sent = await MorningAgenda(Settings(region="NL"), CallbackSigner(b"k" * 32))(
            session, now)
    return sent, seen


async def test_the_morning_job_lets_the_event_loop_go_on_between_slices(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between slices of coaches other tasks run (a family's message at 09:00): the whole
    region's agendas made in one go held the event loop up to 0.67 s (bench/README.md)."""
    opening = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo(AMS))
    await _build(db, opening - timedelta(minutes=1))
    sent, seen = await _ticks_at_each_call(db, monkeypatch, agenda_text, "render", opening)
    assert sent == len(seen) == 4
    # Within a slice nothing else ran; between the slices it did.
    assert seen[0] == seen[1] < seen[2] == seen[3]


async def test_the_morning_job_s_look_at_every_coach_lets_the_event_loop_go_on(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The look at who is due, every 30 s all day, is sliced too: at 2,000 coaches it held the
    loop 0.13 s each time (bench/README.md)."""
    opening = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo(AMS))
    await _build(db, opening - timedelta(minutes=1))
    # A minute before the opening nobody is due yet: only the look runs.
    _, seen = await _ticks_at_each_call(db, monkeypatch, morning_agenda, "morning_agenda_due",
                                        opening - timedelta(minutes=1))
    assert len(seen) >= 4
    # Within a slice of two nothing else ran; between the slices it did.
    assert all(seen[n] == seen[n + 1] for n in range(0, len(seen) - 1, 2))
    assert all(seen[n] < seen[n + 1] for n in range(1, len(seen) - 1, 2))


async def test_a_claimed_day_is_not_claimed_again(db: Database) -> None:
    staff = await _build(db, DAYTIME)
    today = date(2026, 11, 30)
    days = {s.id: today for s in staff.values()}
    days[staff["Bram"].id] = today - timedelta(days=1)  # another zone, still yesterday there
    async with db.transaction() as session:
        assert await people.claim_agenda_days(session, {staff["Anna"].id: today}) \
            == {staff["Anna"].id}
    async with db.transaction() as session:
        assert await people.claim_agenda_days(session, days) \
            == {s.id for name, s in staff.items() if name != "Anna"}
    async with db.transaction() as session:
        assert await people.claim_agenda_days(session, days) == set()
        assert await people.claim_agenda_days(session, {}) == set()


async def test_the_agenda_goes_at_the_opening_not_a_look_later(migrated_db_url: str) -> None:
    """A look ten seconds before Monday's 09:00 opening finds nothing due; at 09:00:01, well
    within the job's 30-second pace, the agendas go (they went up to 30 s late)."""
    opening = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo(AMS))
    db = Database(migrated_db_url)
    try:
        staff = await _build(db, opening - timedelta(minutes=1))
        job = MorningAgenda(Settings(region="NL"), CallbackSigner(b"k" * 32))

        async def run(at: datetime) -> int:
            async with db.transaction() as session:
                return await job(session, at)

        assert await run(opening - timedelta(seconds=10)) == 0
        assert job.next_opening == opening
        assert await run(opening + timedelta(seconds=1)) == len(staff) - len({"Cees", "Dirk"})
        assert await run(opening + timedelta(seconds=2)) == 0  # the pace holds again
    finally:
        await db.dispose()
