"""Part 2: 100,000 planned reminders — start-up and memory of a Runtime with them pending, then
a burst of reminders due at the same moment, sent under the real 30 msg/s limit.

The bot runs in its own process with the default `RateLimiter`; the local Bot API server (here)
refuses sends over 30/s with 429 (see bench/server.py). Part 3 (the agenda) runs on the same
caseload, before the burst.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.agenda import run_agenda
from bench.common import BURST_AT, Child, percentile, summary_ms
from bench.dataset import Caseload, seed_caseload
from bench.server import BenchBotApi, max_in_window, windows_over

LIMIT = 30.0


def _bot_config(api: BenchBotApi, database_url: str, key: str, clock_start: datetime,
                **extra: Any) -> dict[str, Any]:
    return {"api_url": api.base_url, "token": api.token, "database_url": database_url,
            "encryption_key": key, "clock_start": clock_start.isoformat(), "trace": False,
            **extra}


async def _startup(api: BenchBotApi, database_url: str, key: str, log_dir: Path,
                   name: str) -> dict[str, Any]:
    """A Runtime started with nothing due yet (an hour before the burst): its timings and RSS."""
    spawned = time.perf_counter()
    child = await Child.spawn("bench.bot_child", _bot_config(
        api, database_url, key, BURST_AT - timedelta(hours=1)), log_dir, name)
    try:
        ready = await child.event()
        ready["process_to_ready_s"] = time.perf_counter() - spawned
    finally:
        await child.stop()
    keys = ("imports_s", "construct_s", "start_s", "first_pass_s", "total_s",
            "process_to_ready_s")
    found: dict[str, Any] = {k: round(float(ready[k]), 3) for k in keys}
    found["rss_mb"] = round(int(ready["rss_kb"]) / 1024, 1)
    return found


async def _burst(api: BenchBotApi, database_url: str, key: str, size: int,
                 member_chats: set[int], lead: float, log_dir: Path, name: str,
                 profile: Path | None) -> dict[str, Any]:
    sends_before = len(api.sends)
    refused_before = api.refused_429
    config = _bot_config(api, database_url, key, BURST_AT - timedelta(seconds=lead))
    child = await Child.spawn("bench.bot_child", config, log_dir, name)
    try:
        ready = await child.event()
        due_wall = float(ready["clock_origin_wall"]) + lead
        if profile is not None:
            await child.start_profiler(profile)
        done = await api.wait_sends(member_chats, size, timeout=size / LIMIT * 2 + 120)
        finished = time.time()
    finally:
        final = await child.stop()
    sends = [at for at, chat in api.sends[sends_before:] if chat in member_chats]
    if not sends:
        raise RuntimeError(f"{name}: no reminder was sent; log:\n{child.log_tail()}")
    first, last = min(sends), max(sends)
    lags = sorted(at - due_wall for at in sends)
    # The best possible under the limit: a full bucket (30 at once), then 30 a second.
    ideal = [max(0.0, (index + 1 - LIMIT) / LIMIT) for index in range(len(sends))]
    rate = len(sends) / (last - due_wall) if last > due_wall else float("nan")
    return {
        "reminders": size,
        "sent": len(sends),
        "complete": done,
        "seconds_from_due_to_last": round(last - due_wall, 2),
        "first_send_after_due_s": round(first - due_wall, 3),
        "send_rate_per_s": round(rate, 2),
        "fraction_of_limit": round(rate / LIMIT, 3),
        "steady_rate_per_s": round((len(sends) - 1) / (last - first), 2) if last > first else None,
        "server_429": api.refused_429 - refused_before,
        "lag": summary_ms(lags),
        "ideal_lag_p99_ms": round(percentile(ideal, 99) * 1000, 1),
        "max_sends_in_any_1s": max_in_window(sends),
        "sends_over_30_in_trailing_1s": windows_over(sends, int(LIMIT)),
        "peak_rss_mb": round(int(final.get("peak_rss_kb") or 0) / 1024, 1),
        "waited_s": round(finished - due_wall, 1),
    }


async def seed_and_start(api: BenchBotApi, database_url: str, key: str, load: Caseload,
                         log_dir: Path, label: str) -> tuple[list[int], dict[str, Any]]:
    """The part's people on the server, a bot started on the empty database (the schema),
    the caseload seeded, and a bot started on it (it gives every family its key and does the
    day's first planner passes: the morning agenda claims every coach). The members' chats,
    and the timings."""
    members = [api.started_user(f"Lid {n}").chat_id for n in range(load.families)]
    coaches = [api.started_user(f"Coach {n}").chat_id for n in range(load.coaches)]
    found: dict[str, Any] = {
        "startup_empty": await _startup(api, database_url, key, log_dir,
                                        f"startup-empty-{label}")}
    found["seed"] = await seed_caseload(database_url, load, coaches, members)
    found["startup"] = await _startup(api, database_url, key, log_dir, f"startup-{label}")
    return members, found


async def run_reminders(database_url: str, key: str, load: Caseload, log_dir: Path,
                        label: str, profile_dir: Path | None = None) -> dict[str, Any]:
    api = BenchBotApi(limit=LIMIT, limit_burst=LIMIT)
    await api.start()
    result: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    try:
        member_chats, started = await seed_and_start(api, database_url, key, load, log_dir,
                                                     label)
        result.update(started)
        # A restart later the same day does not plan the morning again.
        result["restart"] = await _startup(api, database_url, key, log_dir,
                                           f"restart-{label}")
        result["agenda"] = await run_agenda(database_url, load)
        lead = max(3.0, 2 * result["startup"]["total_s"] + 1.0)
        due_chats = set(member_chats[:load.burst])
        result["burst"] = await _burst(
            api, database_url, key, load.burst, due_chats, lead, log_dir, f"burst-{label}",
            profile_dir / f"burst-{label}.txt" if profile_dir else None)
    finally:
        await api.stop()
    result["load_after"] = os.getloadavg()[0]
    return result
