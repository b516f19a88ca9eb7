"""The one command: `python -m bench.run [--quick]` (see bench/README.md).

Runs the three parts on SQLite and on PostgreSQL, writes bench/results/<name>.json and
bench/results/latency.png, and prints where each target stands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import relay
from bench.common import postgres_available, postgres_base_url
from bench.dataset import Caseload
from bench.reminders import run_reminders

RESULTS = Path(__file__).resolve().parent / "results"
# Changes measured against the product as it is (bench/variants.py). sqlite_pool and
# planners_on_timer were measured here first and are now the product's own behaviour;
# no_pre_ping is measured but not adopted (pre-ping lets a pool recover after the database
# was away: tests/faults/test_database_away.py).
RECOMMENDED: dict[str, tuple[str, ...]] = {"sqlite": (), "postgresql": ("no_pre_ping",)}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        memory_kb = 0
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "memory_gb": round(memory_kb / 1024 / 1024, 1), "python": sys.version.split()[0],
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def source() -> dict[str, Any]:
    """Which code was measured: the commit, and whether the work tree had changes."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True,
                                  cwd=RESULTS.parent.parent, check=False).stdout.strip()
        except OSError:
            return ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if line[3:].startswith(("bot/", "handlers/", "storage/"))]
    return {"commit": git("rev-parse", "--short", "HEAD"), "changed_files": changed}


def versions() -> dict[str, str]:
    found = {"sqlite": sqlite3.sqlite_version}
    for name in ("python-telegram-bot", "SQLAlchemy", "aiosqlite", "asyncpg", "alembic",
                 "httpx", "aiohttp", "cryptography", "APScheduler", "matplotlib"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


async def postgres_version() -> str:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(postgres_base_url())
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def target(name: str, db: str, value: float | None, limit: float, better: str,
           unit: str) -> dict[str, Any]:
    passed = value is not None and (value <= limit if better == "lower" else value >= limit)
    return {"target": name, "database": db, "value": value, "limit": limit,
            "better": better, "unit": unit, "pass": passed}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    framework = results.get("framework", {})
    for db in ("sqlite", "postgresql"):
        part = results.get(db)
        if not part:
            continue
        if "relay" in part and framework:
            bot = part["relay"]["bot"]
            ratio = framework["burst"]["messages_per_s"] / bot["burst"]["messages_per_s"]
            found.append(target("relay throughput: framework ÷ bot", db, round(ratio, 2),
                                1.5, "lower", "×"))
            found.append(target("relay added latency p99", db, bot["latency"]["p99_ms"],
                                20.0, "lower", "ms"))
        if "reminders" in part:
            rem = part["reminders"]
            found.append(target("reminder burst: share of 30 msg/s", db,
                                rem["burst"]["fraction_of_limit"], 0.95, "higher", ""))
            found.append(target("reminder burst: 429s from the server", db,
                                rem["burst"]["server_429"], 0, "lower", ""))
            found.append(target("start-up with 100k reminders pending", db,
                                rem["startup"]["total_s"], 3.0, "lower", "s"))
            found.append(target("all agendas (1,000 coaches × 10 families)", db,
                                rem["agenda"]["seconds"], 10.0, "lower", "s"))
    return found


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: list[tuple[str, list[float], str, str]] = []
    framework = results.get("framework")
    if framework:
        series.append(("bare PTB relay", framework["latency_samples_ms"], "black", "-"))
    colours = {"sqlite": "tab:blue", "postgresql": "tab:orange"}
    for db in ("sqlite", "postgresql"):
        found = results.get(db, {}).get("relay")
        if not found:
            continue
        series.append((f"bot, {db}", found["bot"]["latency_samples_ms"], colours[db], "-"))
        if "bot_recommended" in found:
            series.append((f"bot, {db}, recommended changes",
                           found["bot_recommended"]["latency_samples_ms"], colours[db], "--"))
    if not series:
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for label, samples, colour, style in series:
        ordered = sorted(samples)
        fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
        left.step(ordered, fractions, where="post", label=label, color=colour, linestyle=style)
    left.axvline(20, color="grey", linestyle=":", label="target p99 20 ms")
    left.set_xscale("log")
    left.set_xlabel("added latency per message (ms, log scale)")
    left.set_ylabel("fraction of messages")
    left.set_title("Relay latency, one message at a time (ECDF)")
    left.legend(fontsize=8, loc="lower right")
    left.grid(True, which="both", alpha=0.3)
    right.boxplot([s[1] for s in series], whis=(1, 99), showfliers=False)
    right.set_xticks(range(1, len(series) + 1), [s[0].replace(", ", "\n") for s in series],
                     fontsize=8)
    right.set_yscale("log")
    right.set_ylabel("ms (log scale)")
    right.set_title("Box: p25–p75, whiskers p1–p99")
    right.grid(True, axis="y", which="both", alpha=0.3)
    figure.suptitle(f"Gezinslijn relay latency — {results['date'][:10]}, "
                    f"{results['machine']['cpus']} CPUs")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def headline(results: dict[str, Any]) -> str:
    lines = []
    framework = results.get("framework")
    if framework:
        lines.append(f"bare PTB relay: {framework['burst']['messages_per_s']} msg/s, latency "
                     f"p50 {framework['latency']['p50_ms']} ms p99 "
                     f"{framework['latency']['p99_ms']} ms")
    for db in ("sqlite", "postgresql"):
        part = results.get(db, {})
        for key in ("bot", "bot_recommended"):
            found = part.get("relay", {}).get(key)
            if found:
                lines.append(f"{db} {key}: {found['burst']['messages_per_s']} msg/s, latency "
                             f"p50 {found['latency']['p50_ms']} ms p99 "
                             f"{found['latency']['p99_ms']} ms")
        rem = part.get("reminders")
        if rem:
            burst = rem["burst"]
            lines.append(f"{db} reminders: start-up {rem['startup']['total_s']} s, RSS "
                         f"{rem['startup']['rss_mb']} MB (empty db {rem['startup_empty']['rss_mb']}"
                         f" MB); burst {burst['sent']}/{burst['reminders']} at "
                         f"{burst['send_rate_per_s']}/s ({burst['fraction_of_limit']:.0%}), "
                         f"restart {rem['restart']['total_s']} s, "
                         f"429s {burst['server_429']}, lag p99 {burst['lag']['p99_ms']} ms; "
                         f"agendas {rem['agenda']['seconds']} s")
    for found in results.get("targets", []):
        mark = "PASS" if found["pass"] else "FAIL"
        lines.append(f"[{mark}] {found['target']} ({found['database']}): {found['value']}"
                     f"{found['unit']} (target {'≤' if found['better'] == 'lower' else '≥'}"
                     f" {found['limit']}{found['unit']})")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> int:
    from storage import crypto

    key = crypto.new_key()
    crypto.configure([key])
    quick = args.quick
    latency_n = 100 if quick else 300
    relay_n = 500 if quick else 2000
    load = Caseload(burst=1_000 if quick else 10_000)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    parts = set(args.parts.split(","))
    log_dir = RESULTS / "logs"
    profile_dir = RESULTS / "profiles" if args.profile else None
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "machine": machine(),
        "versions": versions(),
        "source": source(),
        "parameters": {
            "relay_latency_messages": latency_n, "relay_burst_messages": relay_n,
            "coaches": load.coaches, "families": load.families,
            "pending_reminders": load.pending_reminders, "reminder_burst": load.burst,
            "send_limit_per_s": 30, "profiled": bool(args.profile),
            "recommended_variants": {k: list(v) for k, v in RECOMMENDED.items()},
        },
    }
    if "postgresql" in kinds:
        problem = await postgres_available(postgres_base_url())
        if problem:
            print(f"PostgreSQL skipped: {problem}", file=sys.stderr)
            results["postgresql_skipped"] = problem
            kinds.remove("postgresql")
        else:
            results["versions"]["postgresql"] = await postgres_version()
    from bench.common import database

    if "relay" in parts:
        print("relay: bare python-telegram-bot relay …", flush=True)
        results["framework"] = await relay.run_framework(latency_n, relay_n, log_dir)
    for kind in kinds:
        part: dict[str, Any] = results.setdefault(kind, {})
        if "relay" in parts:
            found: dict[str, Any] = {}
            print(f"relay: the bot on {kind} …", flush=True)
            async with database(kind, "relay") as db:
                found["bot"] = await relay.run_bot(
                    db.url, key, latency_n, relay_n, log_dir, f"relay-bot-{kind}",
                    profile_dir / f"relay-{kind}.txt" if profile_dir else None)
            if not args.no_variants and RECOMMENDED[kind]:
                print(f"relay: the bot on {kind} with {', '.join(RECOMMENDED[kind])} …",
                      flush=True)
                async with database(kind, "relayvariant") as db:
                    found["bot_recommended"] = await relay.run_bot(
                        db.url, key, latency_n, relay_n, log_dir,
                        f"relay-bot-{kind}-recommended", variants=RECOMMENDED[kind])
                    found["bot_recommended"]["variants"] = list(RECOMMENDED[kind])
            part["relay"] = found
        if "reminders" in parts:
            print(f"reminders and agenda on {kind} ({load.pending_reminders} pending, burst "
                  f"{load.burst}) …", flush=True)
            async with database(kind, "reminders") as db:
                part["reminders"] = await run_reminders(
                    db.url, key, load, log_dir, kind, profile_dir,
                    compare_burst=args.compare_burst)
    if profile_dir is not None:
        from bench.profile import summarize

        results["profiles"] = {path.stem: summarize(path)
                               for path in sorted(profile_dir.glob("*.txt"))}
    results["targets"] = targets(results)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / f"{args.output}.json"
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    plot(results, RESULTS / ("latency.png" if args.output == "latest"
                             else f"latency-{args.output}.png"))
    print(headline(results))
    print(f"written: {output}")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smaller runs: 500 relayed messages, a burst of 1,000 reminders")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--parts", default="relay,reminders",
                        help="comma separated: relay, reminders (reminders includes the agenda)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy on the bot during the relay burst and the reminder burst")
    parser.add_argument("--no-variants", action="store_true",
                        help="skip the relay runs with the recommended changes applied")
    parser.add_argument("--compare-burst", type=float, default=None, metavar="N",
                        help="a second reminder burst with the overall bucket's burst at N")
    parser.add_argument("--output", default="latest", help="results/<name>.json")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
