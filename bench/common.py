"""Shared by the benchmark parts: statistics, the fixed instants, databases to create and drop,
and the child processes (the bot, the bare relay) that the parts drive."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

AMS = ZoneInfo("Europe/Amsterdam")
# A Wednesday inside the default availability (ma-vr 09:00-17:00): the relay runs "at" 10:00.
RELAY_CLOCK = datetime(2026, 11, 25, 10, 0, tzinfo=AMS)
# Evening-before reminders are planned at 18:00 local: the burst is all of them at once.
BURST_AT = datetime(2026, 11, 25, 18, 0, tzinfo=AMS)
# The morning agenda of the same day.
AGENDA_AT = datetime(2026, 11, 25, 7, 30, tzinfo=AMS)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"#(\d{6})")


def bench_key() -> str:
    """A fresh encryption key for this run, configured for this process (children get it)."""
    from storage import crypto

    key = crypto.new_key()
    crypto.configure([key])
    return key


def one_part_parser(prog: str) -> argparse.ArgumentParser:
    """The command line of a part run on its own (`python -m bench.<part>`): one database,
    printed; bench.run writes the results file."""
    parser = argparse.ArgumentParser(prog=prog, description="one database, printed (bench.run "
                                     "writes the results file)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--log-dir", default=str(ROOT / "bench" / "results" / "logs"))
    return parser


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of durations given in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(sum(ms) / len(ms), 3),
    }


def tagged(number: int, text: str = "Hoi, even een vraag over morgen") -> str:
    return f"{text} #{number:06d}"


def tag_of(text: str) -> int | None:
    found = TAG.search(text)
    return int(found.group(1)) if found else None


# Databases ----------------------------------------------------------------------------------
@dataclass
class BenchDatabase:
    kind: str  # "sqlite" | "postgresql"
    url: str
    cleanup: list[Any] = field(default_factory=list)


def postgres_base_url() -> str:
    return (os.environ.get("GEZINSLIJN_BENCH_POSTGRES_URL")
            or os.environ.get("GEZINSLIJN_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)


async def postgres_available(base: str) -> str | None:
    """None when the server answers, else why not."""
    import asyncpg  # type: ignore[import-untyped]

    try:
        connection = await asyncpg.connect(_plain_pg(base), timeout=5)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


def _plain_pg(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@contextlib.asynccontextmanager
async def database(kind: str, label: str) -> AsyncIterator[BenchDatabase]:
    """A new empty database, migrated to head, dropped afterwards."""
    from storage.migrate import upgrade

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"gezinslijn-bench-{label}-") as folder:
            url = f"sqlite:///{folder}/bench.db"
            await asyncio.to_thread(upgrade, url)
            yield BenchDatabase(kind, url)
        return
    import asyncpg  # type: ignore[import-untyped]

    base = postgres_base_url()
    name = f"gezinslijn_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_plain_pg(base))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    head, _, _ = base.rpartition("/")
    url = f"{head}/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        yield BenchDatabase(kind, url)
    finally:
        admin = await asyncpg.connect(_plain_pg(base))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# Child processes ------------------------------------------------------------------------------
def _open_log(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w")


class Child:
    """A benchmark child process speaking JSON lines on stdout; "stop" on stdin ends it."""

    def __init__(self, process: asyncio.subprocess.Process, log_path: Path, name: str) -> None:
        self.process = process
        self.log_path = log_path
        self.name = name
        self.started = time.perf_counter()
        self.profiler: asyncio.subprocess.Process | None = None

    @classmethod
    async def spawn(cls, module: str, config: dict[str, Any], log_dir: Path, name: str) -> Child:
        log_path = log_dir / f"{name}.log"
        handle = _open_log(log_path)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, json.dumps(config), cwd=str(ROOT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=handle,
            env=env)
        handle.close()
        return cls(process, log_path, name)

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    async def event(self, timeout: float = 120) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            try:
                line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            except TimeoutError:
                raise RuntimeError(f"{self.name}: no answer within {timeout}s; "
                                   f"log:\n{self.log_tail()}") from None
            if not line:
                raise RuntimeError(f"{self.name} ended early; log:\n{self.log_tail()}")
            text = line.decode().strip()
            if text.startswith("{"):
                found: dict[str, Any] = json.loads(text)
                return found

    async def start_profiler(self, output: Path) -> None:
        """py-spy on this child (all threads: aiosqlite runs its queries in one), collapsed
        stacks written to `output` when stopped."""
        output.parent.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        self.profiler = await asyncio.create_subprocess_exec(
            str(spy), "record", "--pid", str(self.pid), "--rate", "200", "--format", "raw",
            "--output", str(output), "--threads",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def stop_profiler(self) -> None:
        if self.profiler is None:
            return
        import signal

        with contextlib.suppress(ProcessLookupError):
            self.profiler.send_signal(signal.SIGINT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.profiler.wait(), 30)
        self.profiler = None

    async def stop(self, timeout: float = 60) -> dict[str, Any]:
        await self.stop_profiler()
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.process.stdin.write(b"stop\n")
            await self.process.stdin.drain()
        final: dict[str, Any] = {}
        with contextlib.suppress(RuntimeError):
            final = await self.event(timeout)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        return final

    async def ask(self, line: str, timeout: float = 30) -> dict[str, Any]:
        """Send a request line; the child's answering event."""
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        return await self.event(timeout)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"


def emit(event: str, **data: Any) -> None:
    """For children: one JSON line on stdout."""
    print(json.dumps({"event": event, **data}), flush=True)


def rss_kb() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in kB (Linux)."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


async def wait_for_stop() -> str:
    """For children: block until the parent writes a line (or closes stdin); the line."""
    return await asyncio.to_thread(sys.stdin.readline)


def summary_s(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p99/max/mean of durations in seconds (lags of minutes read better so)."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50_s": round(percentile(seconds, 50), 3),
        "p99_s": round(percentile(seconds, 99), 3),
        "max_s": round(max(seconds), 3),
        "mean_s": round(sum(seconds) / len(seconds), 3),
    }


class ProcessWatch:
    """CPU time and resident memory of child processes, read from /proc (Linux) once a second
    while running: CPU share over a window, and the highest RSS seen."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.tick = os.sysconf("SC_CLK_TCK")
        self.peak_kb: dict[int, int] = dict.fromkeys(self.pids, 0)
        self._task: asyncio.Task[None] | None = None

    def cpu_seconds(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def rss_kb(self, pid: int) -> int:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def mark(self) -> dict[int, tuple[float, float]]:
        """(wall time, CPU seconds) per process now: the start of a window."""
        for pid in self.pids:
            self.peak_kb[pid] = 0
        return {pid: (time.monotonic(), self.cpu_seconds(pid)) for pid in self.pids}

    def window(self, since: dict[int, tuple[float, float]]) -> list[dict[str, float]]:
        """Per process since `mark`: CPU seconds, CPU share of one core, peak RSS."""
        found = []
        for pid in self.pids:
            wall, cpu = since[pid]
            used = self.cpu_seconds(pid) - cpu
            elapsed = time.monotonic() - wall
            found.append({"cpu_s": round(used, 2),
                          "cpu_percent": round(100 * used / elapsed, 1) if elapsed else math.nan,
                          "rss_peak_mb": round(self.peak_kb.get(pid, 0) / 1024, 1)})
        return found

    async def _sample(self) -> None:
        while True:
            for pid in self.pids:
                self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), self.rss_kb(pid))
            await asyncio.sleep(1.0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
