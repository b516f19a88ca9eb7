"""Where a family message's time goes, step by step: a trace of the bot child, for the busiest
hours (`python -m bench.busiest_hour --trace DIR`).

The bot child (GEZINSLIJN_BENCH_TRACE=DIR) writes one JSON line per step to DIR/<pid>.jsonl:
an update fetched, handled (start and end, the outbox rows it wrote), a row put into its lane,
a send begun (before the limiter), its Bot API call begun and ended; every event-loop
step of 50 ms or more, with the coroutines that held the loop, and every garbage collector
pass as long; and each part of the limit the instance took (PostgreSQL: its demand, people's
and bulk, and its part), to see whether its reports kept coming. Ids, purposes and
`time.perf_counter()` only (one clock for every process on Linux: CLOCK_MONOTONIC), never
contents. The bench joins them with the moment it wrote each message and the moment its copy
reached the coach: per stage, the time the messages spent there, and which stage the slowest
ones lost their time in. Wrapping costs the bot a little CPU; compare traced runs only with
traced runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ENV = "GEZINSLIJN_BENCH_TRACE"
HOLD_SECONDS = 0.05  # an event-loop step this long is written down (what held the loop)
STAGES = (
    ("poll", "pushed", "fetched"),  # written → fetched by getUpdates
    ("before handler", "fetched", "h0"),  # fetched → its handling begins
    ("handler", "h0", "h1"),  # handling, its commit and the rows it claimed into lanes
    ("to lane", "h1", "lane"),  # handled → the copy in its chat's lane (a claim, if not yet)
    ("in lane", "lane", "a0"),  # in the lane → its send begins (rows ahead in that chat)
    ("limiter", "a0", "c0"),  # Telegram's limits (the bucket, the chat's pace)
    ("call", "c0", "arrived"),  # the Bot API call until the copy is in the coach's chat
)


# The bot child's side ------------------------------------------------------------------------
def install() -> None:
    """Wrap the steps when GEZINSLIJN_BENCH_TRACE is set (the bot child calls this)."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    import atexit

    import bot.outbox as outbox_face
    import bot.outbox.outgoing as outgoing
    from bot.outbox.dispatcher import Dispatcher
    from bot.outbox.intake import Intake

    Path(folder).mkdir(parents=True, exist_ok=True)
    # Line by line: the bench reads it while the bot runs.
    out = open(Path(folder) / f"{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115
    atexit.register(out.close)
    now = time.perf_counter
    written: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
        "bench_trace_rows", default=None)
    sending: contextvars.ContextVar[int | None] = contextvars.ContextVar(
        "bench_trace_row", default=None)

    def emit(**line: Any) -> None:
        out.write(json.dumps(line, separators=(",", ":")) + "\n")

    receive = Intake.receive

    @functools.wraps(receive)
    async def traced_receive(self: Any, updates: Sequence[dict[str, Any]]) -> None:
        if updates:
            emit(k="fetch", u=[int(u["update_id"]) for u in updates], t=now())
        await receive(self, updates)

    process = Intake._process

    @functools.wraps(process)
    async def traced_process(self: Any, update_id: int, payload: dict[str, Any],
                             take: Any) -> Any:
        rows: list[Any] = []
        token = written.set(rows)
        started = now()
        try:
            return await process(self, update_id, payload, take)
        finally:
            written.reset(token)
            emit(k="h", u=update_id, t0=started, t1=now(),
                 r=[[row.id, row.purpose] for row in rows if row.id is not None])

    write = outgoing.write

    @functools.wraps(write)
    async def traced_write(session: Any, sends: Iterable[Any], when: Any) -> Any:
        rows = await write(session, sends, when)
        found = written.get()
        if found is not None:
            found.extend(rows)
        return rows

    add_to_lane = Dispatcher._add_to_lane

    @functools.wraps(add_to_lane)
    def traced_add_to_lane(self: Any, row: Any) -> None:
        if row.chat_id not in self._lanes:  # a lane of its own; into one that runs: _place
            emit(k="lane", r=row.id, t=now())
        add_to_lane(self, row)

    import bot.outbox.dispatcher as dispatching

    place = dispatching._place

    @functools.wraps(place)
    def traced_place(queue: Any, row: Any) -> None:
        # Also the rows a lane's record or next claim took for it: the two-instance morning's
        # copies behind their own digest went that way, unfollowed (bench/README.md).
        emit(k="lane", r=row.id, t=now())
        place(queue, row)

    attempt = Dispatcher._attempt

    @functools.wraps(attempt)
    async def traced_attempt(self: Any, row: Any, method: str, params: Any) -> Any:
        token = sending.set(row.id)
        emit(k="a", r=row.id, t=now())
        try:
            return await attempt(self, row, method, params)
        finally:
            sending.reset(token)

    call = Dispatcher._call

    @functools.wraps(call)
    async def traced_call(self: Any, method: str, chat_id: int, params: Any) -> Any:
        row = sending.get()
        if row is not None:
            emit(k="c", r=row, t=now())
        return await call(self, method, chat_id, params)

    from storage.repos import send_shares  # the dispatcher calls it through the module

    report = send_shares.report

    @functools.wraps(report)
    async def traced_report(session: Any, instance: str, people: int, bulk: int,
                            part: int) -> None:
        await report(session, instance, people, bulk, part)
        emit(k="share", t=now(), p=people, b=bulk, part=part)

    send_shares.report = traced_report  # type: ignore[assignment]

    run = asyncio.Handle._run

    @functools.wraps(run)
    def timed_run(self: asyncio.Handle) -> None:
        started = now()
        run(self)
        ended = now()
        if ended - started >= HOLD_SECONDS:
            emit(k="hold", t0=started, t1=ended, w=_holder(self))

    Intake.receive = traced_receive  # type: ignore[method-assign]
    Intake._process = traced_process  # type: ignore[method-assign]
    outgoing.write = traced_write  # type: ignore[assignment]
    # (handlers write through it)
    outbox_face.write = traced_write  # type: ignore[attr-defined,assignment]
    Dispatcher._add_to_lane = traced_add_to_lane  # type: ignore[method-assign]
    dispatching._place = traced_place
    Dispatcher._attempt = traced_attempt  # type: ignore[method-assign]
    Dispatcher._call = traced_call  # type: ignore[method-assign]
    asyncio.Handle._run = timed_run  # type: ignore[method-assign]

    collecting: dict[str, float] = {}

    def collected(phase: str, info: dict[str, Any]) -> None:
        """The garbage collector's passes of HOLD_SECONDS or more: they hold the loop too
        (written as a hold of their own; the step they fell in is one as well)."""
        if phase == "start":
            collecting["t0"] = now()
            return
        started = collecting.pop("t0", None)
        if started is not None and now() - started >= HOLD_SECONDS and not out.closed:
            emit(k="hold", t0=started, t1=now(), w=f"gc generation {info['generation']}")

    gc.callbacks.append(collected)


def _holder(handle: asyncio.Handle) -> str:
    """What held the event loop: the task's coroutines as they stood after the step (where it
    awaited next): the outermost, the innermost three of the bot's own (bot/, storage/,
    handlers/) and the innermost of all; or the callback's name."""
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        return getattr(callback, "__qualname__", type(callback).__name__)
    chain: list[tuple[str, bool]] = []
    coro: Any = task.get_coro()
    while coro is not None and hasattr(coro, "cr_code") and len(chain) < 40:
        code = coro.cr_code
        chain.append((code.co_qualname, any(f"/{part}/" in code.co_filename
                                            for part in ("bot", "storage", "handlers"))))
        coro = coro.cr_await
    if not chain:
        return "?"
    own = [name for name, ours in chain[1:-1] if ours][-3:]
    names = [chain[0][0], *own, chain[-1][0]] if len(chain) > 1 else [chain[0][0]]
    return " > ".join(dict.fromkeys(names))


# The bench's side ----------------------------------------------------------------------------
def read(folder: Path) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, float]],
                                dict[int, int]]:
    """Per update: fetched, h0, h1 (its last handling); per row: lane, a0, c0 (their first:
    the wait a message felt); each update's relayed copy (row id)."""
    updates: dict[int, dict[str, float]] = {}
    rows: dict[int, dict[str, float]] = {}
    copy_of: dict[int, int] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for text in path.read_text().splitlines():
            line = json.loads(text)
            kind = line["k"]
            if kind == "fetch":
                for update in line["u"]:
                    updates.setdefault(update, {}).setdefault("fetched", line["t"])
            elif kind == "h":
                update = updates.setdefault(line["u"], {})
                update.setdefault("h0", line["t0"])
                update["h1"] = line["t1"]
                for row, purpose in line["r"]:
                    if purpose == "relay":
                        copy_of[line["u"]] = row
            elif kind in ("lane", "a", "c"):  # (also "hold" and "share": read apart)
                step = {"lane": "lane", "a": "a0", "c": "c0"}[kind]
                rows.setdefault(line["r"], {}).setdefault(step, line["t"])
    return updates, rows, copy_of


def breakdown(folder: Path, tags: Sequence[int], pushed: dict[int, float],
              update_of: dict[int, int], arrived: dict[int, float]) -> dict[str, Any]:
    """For the messages `tags`: per stage, p50 / p99 / max in seconds; for the slowest 1 %,
    the mean of each stage (where they lost their time); how many could not be followed."""
    updates, rows, copy_of = read(folder)
    timelines: list[dict[str, float]] = []
    lost: Counter[str] = Counter()  # why a message could not be followed
    for tag in tags:
        update = update_of.get(tag)
        if update is None or tag not in arrived or update not in updates:
            lost["no update or no arrival"] += 1
            continue
        moments = {"pushed": pushed[tag], "arrived": arrived[tag], **updates[update]}
        moments.update(rows.get(copy_of.get(update, -1), {}))
        missing = sorted(name for _, start, end in STAGES for name in (start, end)
                         if name not in moments)
        if missing:
            lost["without " + ", ".join(dict.fromkeys(missing))] += 1
        else:
            timelines.append(moments)
    if not timelines:
        return {"followed": 0, "of": len(tags), "not_followed": dict(lost)}
    window = (min(pushed[tag] for tag in tags if tag in pushed),
              max(arrived.get(tag, pushed[tag]) for tag in tags if tag in pushed))
    per_stage = {name: sorted(max(0.0, t[end] - t[start]) for t in timelines)
                 for name, start, end in STAGES}
    slowest = sorted(timelines, key=lambda t: t["arrived"] - t["pushed"])
    slowest = slowest[-max(1, len(slowest) // 100):]

    def pick(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 3)

    return {
        "followed": len(timelines), "of": len(tags), "not_followed": dict(lost),
        "stages_s": {name: {"p50": pick(v, 0.5), "p99": pick(v, 0.99), "max": round(v[-1], 3)}
                     for name, v in per_stage.items()},
        "slowest_1pct_mean_s": {
            name: round(sum(max(0.0, t[end] - t[start]) for t in slowest) / len(slowest), 3)
            for name, start, end in STAGES},
        "slowest_1pct_total_s": round(
            sum(t["arrived"] - t["pushed"] for t in slowest) / len(slowest), 3),
        "loop_holds": holds(folder, *window),
    }


def holds(folder: Path, since: float, until: float, top: int = 6) -> dict[str, Any]:
    """The event-loop steps of HOLD_SECONDS or more between `since` and `until`: how many, how
    long in all, the longest, and the coroutines that held the loop longest in all."""
    found: list[tuple[float, str]] = []
    for path in sorted(folder.glob("*.jsonl")):
        for text in path.read_text().splitlines():
            line = json.loads(text)
            if line["k"] == "hold" and since <= line["t0"] <= until:
                found.append((line["t1"] - line["t0"], line["w"]))
    collections = [seconds for seconds, holder in found if holder.startswith("gc ")]
    found = [(seconds, holder) for seconds, holder in found if not holder.startswith("gc ")]
    by_holder: dict[str, float] = {}
    for seconds, holder in found:
        by_holder[holder] = by_holder.get(holder, 0.0) + seconds
    return {"n": len(found), "total_s": round(sum(s for s, _ in found), 3),
            "longest_s": round(max((s for s, _ in found), default=0.0), 3),
            "by_holder_s": {holder: round(seconds, 3)
                            for holder, seconds in sorted(by_holder.items(),
                                                          key=lambda kv: -kv[1])[:top]},
            # Within the steps above: the garbage collector's long passes.
            "gc_n": len(collections), "gc_s": round(sum(collections), 3)}
