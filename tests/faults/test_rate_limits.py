"""Telegram's limits, read from the server's call log with the rate limiter on (as `gezinslijn
run` has it): at most 30 sends in any second overall, and per chat one a second sustained after
the short burst bot/outbox/ratelimit.py deliberately allows (a header and its copy, a split
text)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from bot import outbox
from bot.outbox.ratelimit import RateLimiter
from bot.simulator import LocalBotApi
from tests.e2e.conftest import WEDNESDAY_MORNING
from tests.faults.common import (
    RunningClock,
    people_who_wrote,
    queue_sends,
    running_bot,
    settled,
)

CHATS = 40
EACH = 3
BUSY = 10  # one chat gets this many at once
LIMITS = RateLimiter()
PER_CHAT, CHAT_BURST = LIMITS.per_chat, LIMITS.chat_burst
OVERALL = 30


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def bucket_excess(times: list[float], rate: float, burst: float, jitter: float = 0.05) -> float:
    """How far a chat's sends exceed a token bucket (burst, then `rate` a second): positive
    when some stretch of them came faster than the bucket allows (beyond network jitter)."""
    times = sorted(times)
    worst = float("-inf")
    for i in range(len(times)):
        for j in range(i, len(times)):
            allowed = burst + rate * (times[j] - times[i] + jitter)
            worst = max(worst, (j - i + 1) - allowed)
    return worst


async def test_no_chat_above_one_a_second_and_no_second_above_thirty(
        api: LocalBotApi, sqlite_url: str, tmp_path: Path) -> None:
    people = await people_who_wrote(api, sqlite_url, CHATS)
    clock = RunningClock(WEDNESDAY_MORNING, 60)
    async with running_bot(api, sqlite_url, tmp_path, clock) as runtime:
        await api.idle()
        mark = len(api.calls)
        out = outbox.Outgoing()
        for n in range(EACH):
            for person in people:
                out.text(person.chat_id, f"bericht {n} aan {person.first_name}")
        for n in range(BUSY - EACH):
            out.text(people[0].chat_id, f"extra {n}")
        await queue_sends(sqlite_url, out, clock.now())
        runtime.dispatcher.wake()
        await settled(api, sqlite_url, timeout=40)

    calls = [c for c in api.calls[mark:] if c.method == "sendMessage"]
    assert all(c.ok for c in calls)
    assert len(calls) == CHATS * EACH + BUSY - EACH
    per_chat: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        per_chat[str(call.params["chat_id"])].append(call.at)
    assert sorted(len(t) for t in per_chat.values()) == [EACH] * (CHATS - 1) + [BUSY]

    overall = most_in_any_window([c.at for c in calls], 1.0)
    excess = {chat: bucket_excess(times, PER_CHAT, CHAT_BURST) for chat, times in per_chat.items()}
    busy = sorted(per_chat[str(people[0].chat_id)])
    print(f"\nmost sends in one second: {overall}; busiest chat: {BUSY} sends in "
          f"{busy[-1] - busy[0]:.2f}s; worst per-chat excess: {max(excess.values()):.2f}")
    assert overall <= OVERALL
    assert max(excess.values()) <= 0, excess
    # Sustained: after its burst the busy chat got one a second.
    assert busy[-1] - busy[0] >= (BUSY - CHAT_BURST) / PER_CHAT - 0.1
