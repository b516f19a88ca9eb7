"""Part 1: family messages relayed to the coach — the real bot against a bare framework relay.

Both run in their own process and poll the same kind of local Bot API server (in this
process). Two phases per relay:

- latency: one message at a time; the next is written only when the previous copy has landed
  in the coach's chat and the server has been quiet for 30 ms. Latency is the time from
  pushing the update into the server to the copy arriving in the coach's chat.
- throughput: N messages pushed at once; messages/s from the first push to the last arrival.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import RELAY_CLOCK, Child, ProcessWatch, summary_ms, tagged
from bench.dataset import seed_relay_family
from bench.server import BenchBotApi

WARMUP = 20


async def _wait_tag(api: BenchBotApi, tag: int, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while tag not in api.arrivals:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"message #{tag} never reached the coach")
        api.arrived.clear()
        try:
            await asyncio.wait_for(api.arrived.wait(), min(remaining, 1.0))
        except TimeoutError:
            continue
    return api.arrivals[tag]


async def _drive(api: BenchBotApi, child: Child, latency_n: int, burst_n: int,
                 profile: Path | None, counts: bool = False) -> dict[str, Any]:
    member = next(p for p in api.people.values() if p.first_name == "Marieke")
    tags = itertools.count(1)
    pushed: dict[int, float] = {}

    async def one() -> float:
        tag = next(tags)
        pushed[tag] = time.perf_counter()
        member.send_text(tagged(tag))
        arrived = await _wait_tag(api, tag)
        await api.idle(quiet=0.03, timeout=30)
        return arrived - pushed[tag]

    for _ in range(WARMUP):
        await one()
    if counts:
        await child.ask("counts")  # resets the stage timings
    latencies = [await one() for _ in range(latency_n)]
    stages = (await child.ask("counts"))["stages"] if counts else {}

    calls_before = len(api.calls)
    before = await child.ask("counts") if counts else {}
    if profile is not None:
        await child.start_profiler(profile)
        await asyncio.sleep(1.0)  # py-spy attaches
    burst = [next(tags) for _ in range(burst_n)]
    # The process's CPU for the burst: steadier than its rate on a machine whose other
    # tenants come and go (the bare relay's rate moved 283 → 353 a second between two runs
    # ten minutes apart), and what framework ÷ bot comes down to once the bot is CPU-bound.
    watch = ProcessWatch([child.pid])
    cpu_before = watch.mark()
    started = time.perf_counter()
    for tag in burst:
        pushed[tag] = time.perf_counter()
        member.send_text(tagged(tag))
    if not await api.wait_arrivals(WARMUP + latency_n + burst_n, timeout=max(120, burst_n)):
        raise RuntimeError(f"{child.name}: only {len(api.arrivals)} copies arrived")
    finished = max(api.arrivals[tag] for tag in burst)
    await api.idle(quiet=0.2, timeout=120)
    cpu_s = watch.window(cpu_before)[0]["cpu_s"]
    if profile is not None:
        await child.stop_profiler()
    elapsed = finished - started
    database: dict[str, float] = {}
    if counts:
        after = await child.ask("counts")
        database = {f"{key}_per_message": round((after[key] - before[key]) / burst_n, 2)
                    for key in ("statements", "commits", "connects")}
        database.update(_split_by_stage(before, after, burst_n))
    per_method = Counter(call.method for call in api.calls[calls_before:]
                         if call.method != "getUpdates")
    return {
        "latency": summary_ms(latencies),
        **({"latency_stages": stages} if stages else {}),
        "latency_samples_ms": [round(s * 1000, 3) for s in latencies],
        "burst": {
            "messages": burst_n,
            "seconds": round(elapsed, 3),
            "messages_per_s": round(burst_n / elapsed, 1),
            # CPU of the process (all threads), burst and its last records: per message.
            "cpu_ms_per_message": round(1000 * cpu_s / burst_n, 2),
            "latency": summary_ms([api.arrivals[t] - pushed[t] for t in burst]),
            "api_calls_per_message": {method: round(count / burst_n, 2)
                                      for method, count in sorted(per_method.items())},
            **({"database": database} if database else {}),
        },
    }


# The stages that are the relay's own work: storing and handling the updates, claiming,
# sending and recording (bench/bot_child.py STAGE). The rest is what the bot does anyway
# while it runs (the planners' passes every half second, the claims' upkeep), whose share of
# a message shrinks as the bot relays faster.
RELAY_STAGES = ("intake:", "dispatch:")


def _split_by_stage(before: dict[str, Any], after: dict[str, Any], n: int
                    ) -> dict[str, float]:
    """Statements and commits per message of the burst: the relay's own, and the rest."""
    split: dict[str, float] = {}
    for key, counter in (("statements", "by_stage"), ("commits", "commits_by_stage")):
        spent = {stage: count - before.get(counter, {}).get(stage, 0)
                 for stage, count in after.get(counter, {}).items()}
        own = sum(count for stage, count in spent.items() if stage.startswith(RELAY_STAGES))
        split[f"relay_{key}_per_message"] = round(own / n, 2)
        split[f"background_{key}_per_message"] = round(
            (sum(spent.values()) - own) / n, 2)
    return split


async def run_framework(latency_n: int, burst_n: int, log_dir: Path,
                        profile: Path | None = None, name: str = "relay-framework"
                        ) -> dict[str, Any]:
    api = BenchBotApi()
    await api.start()
    try:
        coach = api.started_user("Sanne")
        api.watch(coach)
        api.user("Marieke")
        child = await Child.spawn("bench.bare_relay", {
            "api_url": api.base_url, "token": api.token, "target": coach.chat_id},
            log_dir, name)
        try:
            await child.event()
            result = await _drive(api, child, latency_n, burst_n, profile)
        finally:
            await child.stop()
    finally:
        await api.stop()
    return result


async def run_bot(database_url: str, encryption_key: str, latency_n: int, burst_n: int,
                  log_dir: Path, name: str, profile: Path | None = None,
                  variants: tuple[str, ...] = ()) -> dict[str, Any]:
    api = BenchBotApi()
    await api.start()
    try:
        coach = api.started_user("Sanne")
        api.watch(coach)
        member = api.user("Marieke")
        await seed_relay_family(database_url, coach.chat_id, member.chat_id)
        child = await Child.spawn("bench.bot_child", {
            "api_url": api.base_url, "token": api.token, "database_url": database_url,
            "encryption_key": encryption_key, "clock_start": RELAY_CLOCK.isoformat(),
            "rate_limit": False, "variants": list(variants)}, log_dir, name)
        try:
            ready = await child.event()
            result = await _drive(api, child, latency_n, burst_n, profile, counts=True)
        finally:
            final = await child.stop()
        result["process"] = {"ready": ready, "stopped": final}
    finally:
        await api.stop()
    return result
