"""The real bot in its own process: `bot.app.Runtime`, exactly as `gezinslijn run` builds it,
on a simulated clock that runs at real speed from a chosen instant.

Run by the benchmark parts as `python -m bench.bot_child '<json config>'`. It reports, as JSON
lines: how long the imports, the construction and `start()` took, and the first dispatcher pass
after start (planners over every pending reminder, then a claim), its memory, and on "stop" how
much it sent and its peak memory.

With `clock_anchor_wall` in the config the clock is anchored to the wall clock instead
(`AnchoredClock`): several children given the same anchor read the same instant, and a line
`jump {"start": …, "anchor_wall": …}` moves it (the busiest-hour part skips from the morning to
the evening this way, in one process, as a bot that runs all day).
"""

from __future__ import annotations

import time

IMPORT_STARTED = time.perf_counter()

import asyncio  # noqa: E402
import atexit  # noqa: E402
import contextvars  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TextIO  # noqa: E402

from sqlalchemy import event  # noqa: E402

from bench import send_trace, variants  # noqa: E402
from bench.common import emit, rss_kb, wait_for_stop  # noqa: E402
from bot.app import Runtime  # noqa: E402
from bot.clock import Clock, SimulatedClock, utc  # noqa: E402
from bot.outbox.ratelimit import RateLimiter  # noqa: E402
from bot.settings import Settings  # noqa: E402

IMPORTS_SECONDS = time.perf_counter() - IMPORT_STARTED


# What the bot is doing when a statement runs: a planner ("plan:<name>"), the rest of the
# planning pass ("plan"), the claims' upkeep ("liveness", "renew"), storing and handling
# updates ("intake:…"), claiming and recording sends ("dispatch:…"); a pass that found nothing
# to do counts under "…:idle". Statements and commits are counted per stage, so the cost of a
# message or a reminder is not mixed with the passes the bot makes anyway.
STAGE: contextvars.ContextVar[str] = contextvars.ContextVar("bench_stage", default="other")


def planner_name(planner: Any) -> str:
    return str(getattr(planner, "__name__", None) or type(planner).__name__)


def _sql_trace() -> TextIO | None:
    """GEZINSLIJN_BENCH_SQL_TRACE=FILE: every statement in order, with its stage, its
    connection and its first 150 characters, and every commit (the SQL as written: no
    parameters, so no content). How a message's statements were found (bench/README.md)."""
    path = os.environ.get("GEZINSLIJN_BENCH_SQL_TRACE")
    if not path:
        return None
    trace = open(path, "a", buffering=1)  # noqa: SIM115 (open for the child's whole life)
    atexit.register(trace.close)
    return trace


class Counts:
    """Statements, commits and new connections, from SQLAlchemy's engine events; statements
    and commits also per stage (STAGE), and the key store's statements apart (its own
    engine)."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self.connects = 0
        self.keystore_statements = 0
        self.by_stage: dict[str, int] = {}
        self.commits_by_stage: dict[str, int] = {}
        # Per planner: passes, passes that produced something, what they produced, and the
        # statements of the productive and of the idle passes.
        self.planners: dict[str, dict[str, int]] = {}

    def install(self, runtime: Runtime) -> None:
        engine = runtime.db.engine.sync_engine
        by_stage = self.by_stage
        commits_by_stage = self.commits_by_stage

        trace = _sql_trace()

        def statement(connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
            self.statements += 1
            stage = STAGE.get()
            if trace is not None:
                trace.write(f"{stage}\t{id(connection)}\t{' '.join(sql.split())[:150]}\n")
            by_stage[stage] = by_stage.get(stage, 0) + 1

        def commit(*_: Any) -> None:
            self.commits += 1
            stage = STAGE.get()
            if trace is not None:
                trace.write(f"{stage}\t-\tCOMMIT\n")
            commits_by_stage[stage] = commits_by_stage.get(stage, 0) + 1

        def connect(*_: Any) -> None:
            self.connects += 1

        def keystore_statement(*_: Any) -> None:
            self.keystore_statements += 1

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", commit)
        event.listen(engine.pool, "connect", connect)
        event.listen(runtime.db.keystore.engine.sync_engine, "before_cursor_execute",
                     keystore_statement)
        self._stage_methods()

    def _staged(self, owner: Any, name: str, stage: str, idle: str | None = None) -> None:
        """Run owner.name with STAGE set; a call that returns nothing (an empty claim, a pass
        over no stored update) moves what it cost to `idle`."""
        original = getattr(owner, name)
        counters = (self.by_stage, self.commits_by_stage)

        @functools.wraps(original)
        async def run(*args: Any, **kwargs: Any) -> Any:
            before = [c.get(stage, 0) for c in counters]
            token = STAGE.set(stage)
            try:
                result = await original(*args, **kwargs)
            finally:
                STAGE.reset(token)
            if idle is not None and not result:
                for counter, was in zip(counters, before, strict=True):
                    spent = counter.get(stage, 0) - was
                    counter[stage] = was
                    counter[idle] = counter.get(idle, 0) + spent
            return result

        setattr(owner, name, run)

    def _stage_methods(self) -> None:
        import bot.outbox.dispatcher as dispatcher_module
        from bot.outbox.intake import Intake

        dispatcher = dispatcher_module.Dispatcher
        self._staged(dispatcher, "_plan_pass", "plan")  # in the background, or from plan()
        for name in ("liveness", "renew"):
            self._staged(dispatcher, name, name)
        self._staged(dispatcher, "claim", "dispatch:claim", idle="dispatch:claim:idle")
        # The main loop's claims (people first, then bulk): counted with the claims, not as
        # "other" (they were, from when claim_into_lanes came, leaving claims out of the
        # busiest hour's and the cost curve's statements per message).
        self._staged(dispatcher, "claim_into_lanes", "dispatch:claim",
                     idle="dispatch:claim:idle")
        self._staged(dispatcher, "_record", "dispatch:record")
        self._staged(dispatcher, "_retry", "dispatch:retry")
        self._staged(dispatcher, "_give_up", "dispatch:give_up")
        self._staged(Intake, "store", "intake:store")
        self._staged(Intake, "process_pending", "intake:handle", idle="intake:idle")
        self._staged(Intake, "handle_fresh", "intake:handle")  # fetched, handled at once
        self._staged(Intake, "_hold_poller_lock", "intake:poller_lock")
        original = dispatcher_module.planner_step
        planners = self.planners
        by_stage = self.by_stage

        @functools.wraps(original)
        async def planner_step(db: Any, planner: Any, now: datetime) -> int:
            stage = f"plan:{planner_name(planner)}"
            tally = planners.setdefault(stage[5:], {
                "passes": 0, "productive_passes": 0, "produced": 0,
                "statements_productive": 0, "statements_idle": 0})
            before = by_stage.get(stage, 0)
            token = STAGE.set(stage)
            try:
                produced = int(await original(db, planner, now))
            finally:
                STAGE.reset(token)
            spent = by_stage.get(stage, 0) - before
            tally["passes"] += 1
            if produced:
                tally["productive_passes"] += 1
                tally["produced"] += produced
                tally["statements_productive"] += spent
            else:
                tally["statements_idle"] += spent
            return produced

        dispatcher_module.planner_step = planner_step

    def snapshot(self) -> dict[str, Any]:
        return {"statements": self.statements, "commits": self.commits,
                "connects": self.connects, "keystore_statements": self.keystore_statements,
                "by_stage": dict(self.by_stage), "commits_by_stage": dict(self.commits_by_stage),
                "planners": {k: dict(v) for k, v in self.planners.items()}}


class AnchoredClock:
    """The bench's simulated clock: `start` at the wall-clock instant `anchor_wall`, then at
    real speed; children with the same anchor agree, and `jump` moves it (bench only)."""

    def __init__(self, start: datetime, anchor_wall: float) -> None:
        self.jump(start, anchor_wall)

    def jump(self, start: datetime, anchor_wall: float) -> None:
        self._start = utc(start)
        self._anchor = anchor_wall

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.time() - self._anchor)

    def real_seconds(self, simulated: float) -> float:
        return simulated


class Tracer:
    """How long each stage of the bot's pipeline takes (wrappers around its steps)."""

    def __init__(self) -> None:
        self.stages: dict[str, list[float]] = {}

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)
        stages = self.stages.setdefault(stage, [])

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                stages.append(time.perf_counter() - started)

        setattr(owner, name, timed)

    def install(self, runtime: Runtime) -> None:
        import bot.outbox.dispatcher as dispatcher_module
        from bot.outbox.intake import Intake

        self.wrap(Intake, "offset", "intake: read offset (txn)")
        self.wrap(Intake, "store", "intake: store updates (txn)")
        self.wrap(Intake, "process_pending", "intake: handle stored updates (incl. handler)")
        self.wrap(Intake, "handle_fresh", "intake: handle fetched updates (incl. handler)")
        self.wrap(runtime.app, "process_update", "handler: process_update (txn)")
        self.wrap(dispatcher_module, "planner_step", "dispatcher: one planner (txn)")
        self.wrap(dispatcher_module.Dispatcher, "claim", "dispatcher: claim (txn)")
        self.wrap(dispatcher_module.Dispatcher, "_call", "dispatcher: Bot API call (HTTP)")
        self.wrap(dispatcher_module.Dispatcher, "_record", "dispatcher: record sent (txn)")

    def report(self) -> dict[str, dict[str, float]]:
        found = {name: {"n": len(values), "mean_ms": round(1000 * sum(values) / len(values), 3),
                        "total_s": round(sum(values), 3)}
                 for name, values in self.stages.items() if values}
        for values in self.stages.values():
            values.clear()
        return found


def make_limiter(config: dict[str, Any]) -> RateLimiter:
    if not config.get("rate_limit", True):
        return RateLimiter(enabled=False)
    return RateLimiter()


def _time_family_keys() -> dict[str, float]:
    """How long start-up spends giving families their data keys (bot/jobs/data_keys.py)."""
    import bot.app as app_module

    timing: dict[str, float] = {}
    original = getattr(app_module, "keep_family_keys")  # noqa: B009 (patched where it is used)

    async def timed(db: Any) -> None:
        started = time.perf_counter()
        try:
            await original(db)
        finally:
            timing["keep_family_keys_s"] = time.perf_counter() - started

    setattr(app_module, "keep_family_keys", timed)  # noqa: B010
    return timing


async def main(config: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    variants.apply(list(config.get("variants", [])))
    send_trace.install()  # GEZINSLIJN_BENCH_TRACE (bench/send_trace.py)
    family_keys = _time_family_keys()
    with tempfile.TemporaryDirectory(prefix="gezinslijn-bench-bot-") as folder:
        settings = Settings(telegram_token=config["token"], telegram_api_url=config["api_url"],
                            database_url=config["database_url"],
                            encryption_key=config["encryption_key"],
                            key_file=Path(folder) / "unused.key", log_level="WARNING")
        clock_start = datetime.fromisoformat(config["clock_start"])
        started = time.perf_counter()
        anchored: AnchoredClock | None = None
        clock: Clock
        if config.get("clock_anchor_wall") is not None:
            anchored = AnchoredClock(clock_start, float(config["clock_anchor_wall"]))
            clock = anchored
            clock_origin_wall = float(config["clock_anchor_wall"])
        else:
            clock = SimulatedClock(clock_start, 1.0)
            clock_origin_wall = time.time()
        runtime = Runtime(settings, clock, limiter=make_limiter(config),
                          freeze_heap=True)  # as the installed command's
        constructed = time.perf_counter()
        counts = Counts()
        counts.install(runtime)
        tracer = Tracer()
        if config.get("trace", True):
            tracer.install(runtime)
        await runtime.start()
        ready = time.perf_counter()
        # The first dispatcher pass: every planner over the whole table, then a claim.
        await runtime.dispatcher.run_once()
        first_pass = time.perf_counter()
        memory = rss_kb()
        emit("ready", imports_s=IMPORTS_SECONDS, construct_s=constructed - started,
             start_s=ready - constructed, first_pass_s=first_pass - ready,
             total_s=first_pass - started, rss_kb=memory.get("VmRSS"),
             clock_origin_wall=clock_origin_wall, clock_start=clock_start.isoformat(),
             instance=runtime.dispatcher.instance, polling=runtime.intake.polling,
             **family_keys)
        while True:
            # "counts": the database work so far; "jump {…}": move the anchored clock;
            # anything else: stop.
            line = (await wait_for_stop()).strip()
            if line == "counts":
                emit("counts", sent=runtime.dispatcher.sent, **counts.snapshot(),
                     stages=tracer.report(), rss_kb=rss_kb().get("VmRSS"),
                     polling=runtime.intake.polling)
                continue
            if line.startswith("jump ") and anchored is not None:
                target = json.loads(line[5:])
                anchored.jump(datetime.fromisoformat(target["start"]),
                              float(target["anchor_wall"]))
                runtime.dispatcher.wake()
                emit("jumped", now=clock.now().isoformat())
                continue
            break
        memory = rss_kb()
        sent = runtime.dispatcher.sent
        await runtime.stop()
    emit("stopped", sent=sent, **counts.snapshot(), rss_kb=memory.get("VmRSS"),
         peak_rss_kb=memory.get("VmHWM"))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
