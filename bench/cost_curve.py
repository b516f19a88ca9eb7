"""Part 5: how the cost grows — SQL statements per relayed message, per reminder sent and per
agenda, as the caseload (coaches × families), the pending reminders (1k → 10k → 100k) and the
message history (0 → 100k family_message rows) grow. One small measurement per point.

Each point is a database of its own, seeded (`bench/dataset.py`), and one bot process
(`bench/bot_child.py`, pacing off: this counts work, it does not time it) on the anchored
clock, started at 08:00 (every family gets its data key then, timed apart):

- *agenda*: the clock jumps to 09:00, when every coach's window opens; the agendas are
  planned (`MorningAgenda`, statements of its productive passes) and sent (claim and record);
- *relay*: one family message at a time (a warm-up first), each copy landed in the coach's
  chat before the next: the statements of storing, handling, claiming and recording;
- *reminders*: the clock jumps to 18:00, when a fixed number of evening-before reminders
  (200; fewer families: all of them) fall due: planned (`ReminderSender`) and sent.

The statements the bot makes anyway (planner passes that found nothing, empty claims, renewing
claims) are counted apart (bench/bot_child.py stages), so each figure is the work of the item
itself. Statements to the key store (a family's data key fetched once) are reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.busiest_hour import (
    DAY_START,
    EVENING,
    MESSAGE_STAGES,
    OPENING,
    ask_counts,
    counter_delta,
    jump,
    spawn_bots,
    startup_figures,
)
from bench.common import Child, bench_key, database, one_part_parser, tagged
from bench.dataset import Caseload, seed_caseload
from bench.server import BenchBotApi
from storage.db import Database
from storage.models import Outbox, Staff

RELAY_MESSAGES = 20
WARMUP = 3
REMINDERS_DUE = 200
SEND_STAGES = ("dispatch:claim", "dispatch:record", "dispatch:retry", "dispatch:give_up")


@dataclass(frozen=True)
class Point:
    axis: str
    coaches: int
    families_per_coach: int = 10
    appointments_ahead: int = 1  # pending reminders = families × this
    history: int = 0  # older family_message rows

    @property
    def families(self) -> int:
        return self.coaches * self.families_per_coach

    def caseload(self) -> Caseload:
        return Caseload(coaches=self.coaches, families_per_coach=self.families_per_coach,
                        appointments_ahead=self.appointments_ahead,
                        burst=min(REMINDERS_DUE, self.families), held_every=0,
                        history=self.history)


def points(quick: bool = False) -> list[Point]:
    """Three axes through one base point (100 coaches × 10 families, 1,000 pending reminders,
    no history), which is measured once. Each point takes well under a minute, so `--quick`
    measures the same curve but for its largest caseload (20,000 families)."""
    base = Point("base", 100)
    caseload = [Point("caseload", 10), Point("caseload", 1_000)]
    if not quick:
        caseload.append(Point("caseload", 2_000))
    reminders = [Point("pending reminders", 100, appointments_ahead=10),
                 Point("pending reminders", 100, appointments_ahead=100)]
    history = [Point("history", 100, history=10_000), Point("history", 100, history=100_000)]
    return [base, *caseload, *reminders, *history]


def _stage_sum(delta: dict[str, Any], stages: tuple[str, ...], key: str = "by_stage") -> int:
    found = delta.get(key, {})
    return int(sum(found.get(stage, 0) for stage in stages))


async def _until(check: Any, db: Database, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check(db):
            return True
        await asyncio.sleep(0.5)
    return False


async def _agendas_sent(db: Database) -> bool:
    async with db.transaction() as session:
        pending = await session.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.purpose == "agenda", Outbox.status == "pending"))
        waiting = await session.scalar(select(func.count()).select_from(Staff).where(
            Staff.is_coach.is_(True), Staff.agenda_sent_on.is_(None)))
    return pending == 0 and waiting == 0


def _planned(delta: dict[str, Any], planner: str) -> tuple[int, int]:
    """(items produced, statements of the productive passes) of one planner."""
    tally = delta.get("planners", {}).get(planner, {})
    return int(tally.get("produced", 0)), int(tally.get("statements_productive", 0))


async def _agenda(child: Child, db: Database) -> dict[str, Any]:
    before = (await ask_counts([child]))[0]
    await jump([child], OPENING)
    done = await _until(_agendas_sent, db, 600)
    await asyncio.sleep(1.0)  # the last record
    delta = counter_delta((await ask_counts([child]))[0], before)
    agendas, planning = _planned(delta, "MorningAgenda")
    return {"agendas": agendas, "complete": done,
            **_per_item("agenda", agendas, planning, delta)}


def _per_item(name: str, items: int, planning: int, delta: dict[str, Any]) -> dict[str, Any]:
    """Planning statements per item, and sending (claim and record) per row sent, counted
    once per item (an agenda or a reminder is one message)."""
    sent = int(delta.get("sent", 0))
    per_send = _stage_sum(delta, SEND_STAGES) / sent if sent else 0.0
    # How many rows one claim finds depends on when the lanes end, not on the data: the same
    # 100 agendas took 14 claims at one point and 28 at another (the eighth whole run). The
    # growth along the curve is judged without them (bench/run.py); they stand beside it.
    claims = _stage_sum(delta, ("dispatch:claim",)) / sent if sent else 0.0
    return {
        f"statements_per_{name}": round(planning / items + per_send, 2) if items else None,
        f"statements_per_{name}_claims_apart": (
            round(planning / items + per_send - claims, 2) if items else None),
        f"planning_per_{name}": round(planning / items, 2) if items else None,
        "sending_per_row": round(per_send, 2),
        "claims_per_row": round(claims, 2),
        "rows_sent": sent,
        "keystore_statements": delta.get("keystore_statements", 0),
        "by_stage": {k: v for k, v in sorted(delta.get("by_stage", {}).items()) if v},
    }


async def _relay(child: Child, api: BenchBotApi, member: Any, first_tag: int) -> dict[str, Any]:
    tag = first_tag

    async def one() -> None:
        nonlocal tag
        member.send_text(tagged(tag))
        if not await api.wait_arrivals(len(api.arrivals) + 1, timeout=60):
            raise RuntimeError(f"message #{tag} never reached the coach")
        await api.idle(quiet=0.1, timeout=30)
        tag += 1

    for _ in range(WARMUP):
        await one()
    before = (await ask_counts([child]))[0]
    for _ in range(RELAY_MESSAGES):
        await one()
    delta = counter_delta((await ask_counts([child]))[0], before)
    n = RELAY_MESSAGES
    return {
        "messages": n,
        "statements_per_message": round(_stage_sum(delta, MESSAGE_STAGES) / n, 2),
        "commits_per_message": round(
            _stage_sum(delta, MESSAGE_STAGES, "commits_by_stage") / n, 2),
        "by_stage_per_message": {stage: round(count / n, 2) for stage, count
                                 in sorted(delta.get("by_stage", {}).items()) if count},
        "keystore_statements": delta.get("keystore_statements", 0),
    }


async def _reminders(child: Child, db: Database, due: int) -> dict[str, Any]:
    before = (await ask_counts([child]))[0]
    await jump([child], EVENING.due - timedelta(seconds=1))
    done = await _until(EVENING.drained, db, 600)
    await asyncio.sleep(1.0)
    delta = counter_delta((await ask_counts([child]))[0], before)
    reminders, planning = _planned(delta, "ReminderSender")
    return {"due": due, "handled": reminders, "complete": done,
            **_per_item("reminder", reminders, planning, delta)}


async def measure_point(kind: str, point: Point, key: str, log_dir: Path) -> dict[str, Any]:
    load = point.caseload()
    api = BenchBotApi()
    await api.start()
    found: dict[str, Any] = {**asdict(point), "families": load.families,
                             "pending_reminders": load.pending_reminders,
                             "family_messages": load.history}
    try:
        members = [api.started_user(f"Lid {n}") for n in range(load.families)]
        coaches = [api.started_user(f"Coach {n}") for n in range(load.coaches)]
        api.watch(coaches[0])
        async with database(kind, "cost") as bench_db:
            found["seed_s"] = (await seed_caseload(
                bench_db.url, load, [c.chat_id for c in coaches],
                [m.chat_id for m in members]))["seconds"]
            db = Database(bench_db.url)
            children, ready = await spawn_bots(
                api, bench_db.url, key, DAY_START, log_dir,
                [f"cost-{kind}-{point.axis.replace(' ', '-')}-{point.coaches}"],
                timeout=3600, rate_limit=False)
            child = children[0]
            try:
                found["startup"] = startup_figures(ready[0])
                found["agenda"] = await _agenda(child, db)
                found["relay"] = await _relay(child, api, members[0], 1)
                found["reminders"] = await _reminders(child, db, load.burst)
            finally:
                await child.stop()
                await db.dispose()
    finally:
        await api.stop()
    return found


async def run_cost_curve(kind: str, key: str, log_dir: Path, quick: bool) -> dict[str, Any]:
    measured = []
    for point in points(quick):
        print(f"cost curve on {kind}: {point.axis}, {point.coaches} coaches × "
              f"{point.families_per_coach}, {point.families * point.appointments_ahead} "
              f"pending reminders, {point.history} older messages …", flush=True)
        measured.append(await measure_point(kind, point, key, log_dir))
    return {"points": measured, "relay_messages": RELAY_MESSAGES,
            "reminders_due": REMINDERS_DUE}


def table(results: dict[str, Any]) -> list[str]:
    """Markdown rows: one per point and database."""
    lines = ["| database | axis | coaches × families | pending reminders | older messages | "
             "per relayed message | per reminder (claims apart; claims a row) | "
             "per agenda (claims apart; claims a row) | start-up (family keys) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for db in ("sqlite", "postgresql"):
        for p in results.get(db, {}).get("cost", {}).get("points", []):
            lines.append(
                f"| {db} | {p['axis']} | {p['coaches']} × {p['families_per_coach']} | "
                f"{p['pending_reminders']:,} | {p['family_messages']:,} | "
                f"{p['relay']['statements_per_message']} | "
                f"{_with_claims(p['reminders'], 'reminder')} | "
                f"{_with_claims(p['agenda'], 'agenda')} | "
                f"{p['startup'].get('total_s')} s ({p['startup'].get('keep_family_keys_s')} s) |")
    return lines


def _with_claims(part: dict[str, Any], name: str) -> str:
    """"1.41 (1.13; 0.28)": all statements an item, those without the claims, claims a row
    (results before the claims were counted apart show the first alone)."""
    whole = part[f"statements_per_{name}"]
    apart = part.get(f"statements_per_{name}_claims_apart")
    return f"{whole}" if apart is None else f"{whole} ({apart}; {part['claims_per_row']})"


def plot(results: dict[str, Any], path: Path) -> bool:
    """Statements per item along each axis; False when matplotlib is not installed."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    axes = [("caseload", "families", "families (coaches × 10)"),
            ("pending reminders", "pending_reminders", "pending reminders"),
            ("history", "family_messages", "older family messages (none drawn at 1)")]
    measures = [("relay", "statements_per_message", "per relayed message", "o"),
                ("reminders", "statements_per_reminder", "per reminder", "s"),
                ("agenda", "statements_per_agenda", "per agenda", "^")]
    figure, panels = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    colours = {"sqlite": "tab:blue", "postgresql": "tab:orange"}
    for panel, (axis, field, label) in zip(panels, axes, strict=True):
        for db in ("sqlite", "postgresql"):
            found = results.get(db, {}).get("cost", {}).get("points", [])
            chosen = sorted((p for p in found if p["axis"] in (axis, "base")),
                            key=lambda p: max(1, p[field]))
            if not chosen:
                continue
            xs = [max(1, p[field]) for p in chosen]
            for part, key, name, marker in measures:
                ys = [p[part][key] for p in chosen]
                panel.plot(xs, ys, marker=marker, color=colours[db],
                           linestyle={"relay": "-", "reminders": "--", "agenda": ":"}[part],
                           label=f"{db}, {name}")
        panel.axhline(8, color="grey", linestyle=":", linewidth=1)
        panel.set_xscale("log")
        panel.set_xlabel(label + " (log scale)")
        panel.set_title(f"as {axis} grows")
        panel.grid(True, which="both", alpha=0.3)
    panels[0].set_ylabel("SQL statements per item")
    panels[0].legend(fontsize=7)
    figure.suptitle("Gezinslijn: SQL statements per item as the data grows "
                    "(dotted: target 8 per relayed message)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


async def _main(args: argparse.Namespace) -> None:
    key = bench_key()
    if args.point:
        coaches, ahead, history = (int(x) for x in args.point.split(","))
        result: dict[str, Any] = await measure_point(
            args.db, Point("test", coaches, appointments_ahead=ahead, history=history), key,
            Path(args.log_dir))
    else:
        result = await run_cost_curve(args.db, key, Path(args.log_dir), args.quick)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    parser = one_part_parser("python -m bench.cost_curve")
    parser.add_argument("--point", default="", help="coaches,appointments_ahead,history: one")
    asyncio.run(_main(parser.parse_args()))
