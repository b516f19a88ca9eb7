"""Summaries of py-spy's collapsed stacks (`--format raw`): where the bot's time went.

py-spy samples every thread; in this container it cannot tell idle threads from busy ones, so
idle samples are recognised here by their innermost frame (the event loop in `select`, an
aiosqlite connection thread waiting for work) and left out. What remains is busy time: the
event loop running Python, and the connection threads inside SQLite (including its fsyncs).
The bench child's own stdin reader (a thread-pool thread) is left out as well.

The summary gives how busy the event loop was, the share of busy time per thread kind and per
component (the innermost library on the stack), and the functions with the most busy time,
inclusive and self.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

IDLE_LEAVES = (
    "EpollSelector.select (selectors.py",
    "_connection_worker_thread (aiosqlite/core.py:59)",  # tx.get(): waiting for work
)
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")
# Order matters: the first match on a stack, from the innermost frame out, names the component.
COMPONENTS = (
    ("sqlite3 driver (aiosqlite thread)", ("aiosqlite/", "sqlite3/")),
    ("asyncpg", ("asyncpg/",)),
    ("cryptography (Fernet)", ("cryptography/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("alembic", ("alembic/",)),
    ("HTTP client (aiohttp, httpx)", ("aiohttp/", "yarl/", "multidict/", "httpx/", "httpcore/",
                                      "h11/", "anyio/")),
    ("python-telegram-bot", ("telegram/",)),
    ("apscheduler", ("apscheduler/",)),
    ("json", ("json/",)),
    ("babel / gettext", ("babel/", "gettext.py")),
    ("bot/ handlers/ storage/", ("bot/", "handlers/", "storage/")),
    ("asyncio event loop", ("asyncio/", "selectors.py")),
    ("threading", ("threading.py", "queue.py", "concurrent/")),
)


def _frames(stack: str) -> tuple[str, list[str]]:
    parts = stack.split(";")
    thread = parts[0]
    return thread, parts[1:]


def _short(frame: str, keep_line: bool = False) -> str:
    found = FRAME.match(frame)
    if not found:
        return frame
    file = found["file"]
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    line = f":{found['line']}" if keep_line and found["line"] else ""
    return f"{found['func']} ({file}{line})"


def _thread_kind(thread: str) -> str:
    if "MainThread" in thread:
        return "main thread (event loop)"
    if "_connection_worker_thread" in thread:
        return "aiosqlite connection threads"
    return "other threads"


def _component(frames: list[str]) -> str:
    for frame in reversed(frames):
        short = _short(frame)
        for name, markers in COMPONENTS:
            if any(marker in short for marker in markers):
                return name
    return "other"


def summarize(path: Path, rate: int = 200, top: int = 15) -> dict[str, Any]:
    threads: Counter[str] = Counter()
    components: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    thread_ids: set[str] = set()
    main_samples = 0
    main_busy = 0
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, frames = _frames(stack)
        if any("concurrent/futures/thread.py" in frame for frame in frames):
            continue  # the bench child's stdin reader
        thread_ids.add(thread.split(")")[0])
        leaf = _short(frames[-1], keep_line=True) if frames else ""
        idle = any(leaf.startswith(marker) for marker in IDLE_LEAVES)
        if "MainThread" in thread:
            main_samples += count
            main_busy += 0 if idle else count
        if idle:
            continue
        total += count
        threads[_thread_kind(thread)] += count
        components[_component(frames)] += count
        for name in {_short(frame) for frame in frames}:
            inclusive[name] += count
        if frames:
            own[_short(frames[-1], keep_line=True)] += count

    def share(counter: Counter[str], limit: int) -> list[dict[str, Any]]:
        return [{"name": name, "share": round(count / total, 3)}
                for name, count in counter.most_common(limit)]

    noise = ("_run_module_as_main", "_run_code", "<module>", "run (asyncio/runners.py)",
             "Runner.run", "run_until_complete", "run_forever", "_run_once", "Handle._run",
             "Thread._bootstrap", "Thread.run", "_connection_worker_thread")
    for name in [n for n in inclusive if any(n.startswith(x) or x in n for x in noise)]:
        del inclusive[name]
    return {
        "busy_thread_seconds": round(total / rate, 2),
        "event_loop_busy": round(main_busy / main_samples, 3) if main_samples else None,
        "threads_seen": len(thread_ids),
        "by_thread": share(threads, 5),
        "by_component": share(components, len(COMPONENTS) + 1),
        "top_inclusive": share(inclusive, top),
        "top_self": share(own, top),
    }


def render(summary: dict[str, Any]) -> str:
    lines = [f"busy {summary['busy_thread_seconds']} thread-s, event loop busy "
             f"{(summary['event_loop_busy'] or 0) * 100:.0f}%, "
             f"{summary['threads_seen']} threads seen"]
    for key in ("by_thread", "by_component", "top_inclusive", "top_self"):
        lines.append(f"  {key}:")
        lines += [f"    {item['share'] * 100:5.1f}%  {item['name']}" for item in summary[key]]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(render(summarize(Path(sys.argv[1]))))
