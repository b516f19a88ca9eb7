"""Part 3: the morning agenda of every coach — `handlers.agenda.snapshot` and `build_agenda`
for each of the 1,000 coaches (10 families each), one transaction per coach, as a morning job
would. Rendering the text is timed apart."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from bench.common import AGENDA_AT, summary_ms
from bench.dataset import Caseload
from bot.domain.agenda import build_agenda
from bot.i18n import translator
from handlers.agenda import render, snapshot
from storage.db import Database
from storage.models import Staff


async def run_agenda(database_url: str, load: Caseload) -> dict[str, Any]:
    db = Database(database_url)
    now = AGENDA_AT
    try:
        async with db.transaction() as session:
            coaches = list((await session.scalars(
                select(Staff).where(Staff.is_coach.is_(True)).order_by(Staff.id))).all())
        per_coach: list[float] = []
        snapshots = 0.0
        entries = 0
        agendas = []
        started = time.perf_counter()
        for staff in coaches:
            began = time.perf_counter()
            async with db.transaction() as session:
                snap = await snapshot(session, staff, now, "Europe/Amsterdam")
            taken = time.perf_counter()
            agenda = build_agenda(snap)
            per_coach.append(time.perf_counter() - began)
            snapshots += taken - began
            agendas.append(agenda)
            entries += (len(agenda.appointments) + len(agenda.due) + len(agenda.overdue)
                        + len(agenda.held) + len(agenda.signals) + len(agenda.contact_due)
                        + len(agenda.reviews_due))
        total = time.perf_counter() - started
        tr = translator("nl", "NL", "Europe/Amsterdam")
        rendered = time.perf_counter()
        for agenda in agendas:
            render(tr, agenda, now)
        render_s = time.perf_counter() - rendered
    finally:
        await db.dispose()
    return {
        "coaches": len(coaches),
        "families": load.families,
        "seconds": round(total, 3),
        "snapshot_share": round(snapshots / total, 3) if total else None,
        "per_coach": summary_ms(per_coach),
        "entries_per_agenda": round(entries / max(1, len(coaches)), 1),
        "render_all_s": round(render_s, 3),
    }
