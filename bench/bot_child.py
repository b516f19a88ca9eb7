"""The real bot in its own process: `bot.app.Runtime`, exactly as `gezinslijn run` builds it,
on a simulated clock that runs at real speed from a chosen instant.

Run by the benchmark parts as `python -m bench.bot_child '<json config>'`. It reports, as JSON
lines: how long the imports, the construction and `start()` took, and the first dispatcher pass
after start (planners over every pending reminder, then a claim), its memory, and on "stop" how
much it sent and its peak memory.
"""

from __future__ import annotations

import time

IMPORT_STARTED = time.perf_counter()

import asyncio  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import event  # noqa: E402

from bench import variants  # noqa: E402
from bench.common import emit, rss_kb, wait_for_stop  # noqa: E402
from bot.app import Runtime  # noqa: E402
from bot.clock import SimulatedClock  # noqa: E402
from bot.outbox.ratelimit import Bucket, RateLimiter  # noqa: E402
from bot.settings import Settings  # noqa: E402

IMPORTS_SECONDS = time.perf_counter() - IMPORT_STARTED


class Counts:
    """Statements, commits and new connections, from SQLAlchemy's engine events."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self.connects = 0

    def install(self, runtime: Runtime) -> None:
        engine = runtime.db.engine.sync_engine

        def statement(*_: Any) -> None:
            self.statements += 1

        def commit(*_: Any) -> None:
            self.commits += 1

        def connect(*_: Any) -> None:
            self.connects += 1

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", commit)
        event.listen(engine.pool, "connect", connect)

    def snapshot(self) -> dict[str, int]:
        return {"statements": self.statements, "commits": self.commits,
                "connects": self.connects}


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
    limiter = RateLimiter()
    burst = config.get("overall_burst")
    if burst is not None:  # a variant to compare: the overall bucket with a smaller burst
        limiter.overall = Bucket(limiter.overall.rate, float(burst))
    return limiter


async def main(config: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    variants.apply(list(config.get("variants", [])))
    with tempfile.TemporaryDirectory(prefix="gezinslijn-bench-bot-") as folder:
        settings = Settings(telegram_token=config["token"], telegram_api_url=config["api_url"],
                            database_url=config["database_url"],
                            encryption_key=config["encryption_key"],
                            key_file=Path(folder) / "unused.key", log_level="WARNING")
        clock_start = datetime.fromisoformat(config["clock_start"])
        started = time.perf_counter()
        clock = SimulatedClock(clock_start, 1.0)
        clock_origin_wall = time.time()
        runtime = Runtime(settings, clock, limiter=make_limiter(config))
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
             clock_origin_wall=clock_origin_wall, clock_start=clock_start.isoformat())
        while True:
            # "counts": the database work so far; anything else: stop.
            line = await wait_for_stop()
            if line.strip() != "counts":
                break
            emit("counts", sent=runtime.dispatcher.sent, **counts.snapshot(),
                 stages=tracer.report())
        memory = rss_kb()
        sent = runtime.dispatcher.sent
        await runtime.stop()
    emit("stopped", sent=sent, **counts.snapshot(), rss_kb=memory.get("VmRSS"),
         peak_rss_kb=memory.get("VmHWM"))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
