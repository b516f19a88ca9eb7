"""Part 3: the morning agenda of every coach (1,000 coaches, 10 families each), when all their
windows open at once.

- *morning job* (the headline, `seconds`): `MorningAgenda` itself at the opening: it claims
  every coach's day, loads all snapshots with one set of queries (`storage.repos.agenda.
  snapshots`), builds and writes each agenda and its outbox row (flushed, as at commit), in one
  transaction, rolled back afterwards so the burst that follows sends no agendas;
- *snapshots*: `snapshots` for all coaches and `build_agenda` for each, in one transaction;
- *per coach* (the way it was, for comparison): `snapshot` and `build_agenda` in one
  transaction per coach.

Every family has its own data key. The headline and the per-coach run start with none of them
cached, as a bot that has just started (each key is fetched from the key store once);
`warm_seconds` is the morning job again with the keys cached, as in a bot that has been running.
Rendering the texts alone is timed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bench.common import AGENDA_AT, bench_key, database, one_part_parser, summary_ms
from bench.dataset import Caseload
from bot.agenda_text import render
from bot.callbacks import CallbackSigner
from bot.domain.agenda import Agenda, build_agenda
from bot.i18n import translator
from bot.jobs.morning_agenda import MorningAgenda
from bot.settings import Settings
from storage import keystore
from storage.db import Database
from storage.models import Staff
from storage.repos.agenda import snapshot, snapshots

ZONE = "Europe/Amsterdam"
OPENING = AGENDA_AT.replace(hour=9, minute=0)  # the coaches' windows open (ma-vr 09:00)


class _Undo(Exception):
    """Rolls the morning job's transaction back: the burst after it must not send agendas."""


def _entries(agenda: Agenda) -> int:
    return (len(agenda.appointments) + len(agenda.due) + len(agenda.overdue) + len(agenda.held)
            + len(agenda.signals) + len(agenda.contact_due) + len(agenda.reviews_due))


async def _per_coach(db: Database, coaches: list[Staff], now: datetime
                     ) -> tuple[float, float, list[float]]:
    """One transaction per coach: total seconds, of which snapshots, and each coach's time."""
    per_coach: list[float] = []
    snapshot_s = 0.0
    started = time.perf_counter()
    for staff in coaches:
        began = time.perf_counter()
        async with db.transaction() as session:
            snap = await snapshot(session, staff, now, ZONE)
        taken = time.perf_counter()
        build_agenda(snap)
        per_coach.append(time.perf_counter() - began)
        snapshot_s += taken - began
    return time.perf_counter() - started, snapshot_s, per_coach


async def _together(db: Database, coaches: list[Staff], now: datetime
                    ) -> tuple[float, float, list[Agenda]]:
    """All coaches in one transaction: total seconds, of which snapshots, and the agendas."""
    started = time.perf_counter()
    async with db.transaction() as session:
        found = await snapshots(session, coaches, now, {c.id: ZONE for c in coaches})
    taken = time.perf_counter()
    agendas = [build_agenda(found[c.id]) for c in coaches]
    finished = time.perf_counter()
    return finished - started, taken - started, agendas


async def _morning_job(db: Database) -> dict[str, Any]:
    """MorningAgenda at the opening, every coach due (their day not yet claimed), rolled back."""
    job = MorningAgenda(Settings(region="NL"), CallbackSigner(b"bench-agenda" * 3))
    found: dict[str, Any] = {}
    try:
        async with db.transaction() as session:
            await session.execute(update(Staff).values(agenda_sent_on=None))
            await session.flush()
            began = time.perf_counter()
            found["sent"] = await job(session, OPENING)
            await session.flush()  # the outbox rows, sealed and inserted as at commit
            found["seconds"] = time.perf_counter() - began
            raise _Undo
    except _Undo:
        pass
    return found


async def run_agenda(database_url: str, load: Caseload) -> dict[str, Any]:
    db = Database(database_url)
    now = AGENDA_AT
    try:
        async with db.transaction() as session:
            coaches = list((await session.scalars(
                select(Staff).where(Staff.is_coach.is_(True)).order_by(Staff.id))).all())
        keystore.forget_cached()
        cold = await _morning_job(db)
        warm = await _morning_job(db)
        together, together_snapshots, agendas = await _together(db, coaches, now)
        keystore.forget_cached()
        old_total, old_snapshot_s, per_coach = await _per_coach(db, coaches, now)
        tr = translator("nl", "NL", ZONE)
        rendered = time.perf_counter()
        for agenda in agendas:
            render(tr, agenda, now)
        render_s = time.perf_counter() - rendered
    finally:
        await db.dispose()
    return {
        "coaches": len(coaches),
        "families": load.families,
        "agendas_sent": cold["sent"],
        "seconds": round(cold["seconds"], 3),
        "warm_seconds": round(warm["seconds"], 3),
        "snapshots_seconds": round(together, 3),
        "snapshots_share": round(together_snapshots / together, 3) if together else None,
        "per_coach_seconds": round(old_total, 3),
        "per_coach_snapshot_share": round(old_snapshot_s / old_total, 3) if old_total else None,
        "per_coach": summary_ms(per_coach),
        "entries_per_agenda": round(sum(map(_entries, agendas)) / max(1, len(coaches)), 1),
        "render_all_s": round(render_s, 3),
    }


async def _main(args: argparse.Namespace) -> None:
    """The reminders part's data (1,000 coaches × 10 families, 100,000 reminders) on a fresh
    database, a bot started on it as in the whole run, then the agendas `--rounds` times:
    for trying a change to them without the burst."""
    from pathlib import Path

    from bench.reminders import LIMIT, seed_and_start  # (it imports this module)
    from bench.server import BenchBotApi

    load = Caseload()
    api = BenchBotApi(limit=LIMIT, limit_burst=LIMIT)
    await api.start()
    try:
        async with database(args.db, "agenda") as db:
            await seed_and_start(api, db.url, bench_key(), load, Path(args.log_dir),
                                 f"agenda-{args.db}")
            rounds = [await run_agenda(db.url, load) for _ in range(args.rounds)]
    finally:
        await api.stop()
    print(json.dumps(rounds, indent=2, default=str))


if __name__ == "__main__":
    parser = one_part_parser("python -m bench.agenda")
    parser.add_argument("--rounds", type=int, default=3, help="the agendas, this many times")
    asyncio.run(_main(parser.parse_args()))
