"""Telegram's send limits, in real time: about 30 messages a second overall and about one a
second per chat (python-telegram-bot's AIORateLimiter does not pace single private chats).

Overall: at most 28 sends in any one second (a rolling window, counted from when each send
leaves), two short of 30, spread evenly over the second on a schedule (`Spacing`). Measured at
the server (tests/faults/test_rate_limits.py): 29 a second, or a bucket that let two go at
once, arrived as 30 and 31 in a second (the network bunches sends); a window alone let a
second's sends go at once, and they arrived with the next second's as 49. Waiting sends are
let go by one timer, in turn, the moment the limit allows: each used to sleep and race for a
token of a bucket holding one, every late wake-up was lost, and the bot sent 24 of its 28 a
second (bench/README.md).
Those waiting are served people first: a family's message or a coach's answer goes before the
reminders, agendas and digests queued at the limiter (`bulk`), then in arrival order.

A bulk send that a person's send comes to wait behind in its chat (one send at a time per
chat) gives way while it still waits here, when the dispatcher says it may (`hurry(chat,
give_way=True)`: an agenda, a nudge, a reminder, a digest not begun, of no family or another
family): it raises `GiveWay` and goes right after the person's. Otherwise it goes as people's.
Going as people's alone was not enough: in the busiest evening each family's copy came behind
its coach's nudge, the nudges joined the people's queue, which then held more than a second of
sends, and the copies waited there twice (bench/README.md).

Per chat: a token bucket. A chat may get a short burst (a header and its copy, a split long
text) and is then paced at one message a second on average: deliberate, Telegram tolerates such
bursts in a private chat. Bulk sends leave a chat one token: a family's message that arrives in
a coach's chat during the morning's agenda and digests goes at once, not a second later.

Instances that share one bot share its 30 a second, by what each has to send (`fair_part`,
people's sends first): the one that polls Telegram handles every family's message and sends
their copies itself, and an even split held those at its half of the limit while the other
instance's half went to reminders (family messages waited 1.4-1.8 s in the outbox with two
instances, bench/README.md). `share(n, part)` sets this one's part.

A 429 is an order, not a hint: `pause` holds every send until `retry_after` has passed, also
when pacing is switched off (tests and benchmarks switch only the pacing off).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter

OVERALL_PER_SECOND = 30.0
WINDOW_SECONDS = 1.0
PEOPLES_TOKENS = 1.0  # of a chat's bucket, kept back from bulk sends


# Sends a second each instance keeps whatever the others have to send: a person's message that
# comes to an instance sending nothing else goes at once, not after the next share.
FLOOR = 3
# People's sends are counted this much more when the limit is shared: an instance's demand is
# what it let go in the last second and what waits now, so a part just big enough for its
# people's sends hid whatever more they needed, and their queue stood nearly full (two
# instances' busiest morning: the poller held 20.4 a second for 19.7 people's sends, and the
# slowest 1 % of the copies waited a second at its limiter, bench/README.md).
PEOPLE_HEADROOM = 0.25


@dataclass(frozen=True)
class Demand:
    """What an instance has to send: its sends let go in the last second and those waiting
    for the overall limit now, people's and bulk."""

    people: int = 0
    bulk: int = 0


@dataclass(frozen=True)
class Share:
    """Another live instance: what it reported it has to send, and the part it holds."""

    demand: Demand
    part: int


def fair_part(most: int, instances: int, mine: Demand, others: Sequence[Share]) -> int:
    """This instance's sends a second, of `most` for the whole bot, beside `others` (those that
    reported lately; `instances` counts the live ones, reported or not). Each keeps FLOOR;
    the rest goes to people's sends first, then to bulk sends, each instance by its share of
    the demand (evenly when nobody has anything to send). Never more than the others leave:
    the parts are taken in turn (the caller holds a lock while it reads theirs and writes its
    own), so together they stay within the limit while demands shift. People's sends are
    counted with PEOPLE_HEADROOM."""
    n = max(instances, 1 + len(others))
    budget = _budget(most, n)
    floor = floor_part(most, n)
    spare = budget - n * floor
    needs = _need(mine.people)
    people = needs + sum(_need(o.demand.people) for o in others)
    bulk = mine.bulk + sum(o.demand.bulk for o in others)
    if people + bulk == 0:
        wanted = budget // n
    elif people >= spare:
        wanted = floor + spare * needs // people
    else:
        left = spare - people
        wanted = floor + needs + (left * mine.bulk // bulk if bulk else left // n)
    unreported = n - 1 - len(others)  # just started: they keep their floor
    room = budget - sum(o.part for o in others) - unreported * floor
    return max(min(wanted, room), 1)


def _need(people: int) -> int:
    """An instance's people's sends a second, with room for more (PEOPLE_HEADROOM)."""
    return people + math.ceil(people * PEOPLE_HEADROOM)


def _budget(most: int, instances: int) -> int:
    """The sends a second the instances share: less one for each other instance (`share`)."""
    return max(most - (instances - 1), instances)


def floor_part(most: int, instances: int) -> int:
    """The part every live instance keeps whatever the others have to send, also one whose
    report the others no longer see (it took its part too long ago: `RateLimiter.share`)."""
    return min(FLOOR, _budget(most, instances) // instances)


class GiveWay(Exception):
    """A bulk send, not let go yet, steps back for a person's send in its chat."""


def retry_seconds(error: RetryAfter) -> float:
    """The real seconds a 429 orders the bot to wait."""
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def available_in(self, keep: float = 0.0) -> float:
        """How long until a token is there with `keep` more left over (none is taken)."""
        self._refill()
        need = 1 + keep
        return 0.0 if self.tokens >= need else (need - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1


class Window:
    """At most `limit` sends in any `seconds`, rolling."""

    def __init__(self, limit: int, seconds: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """How long until one more may go (none is taken)."""
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[-self.limit] + self.seconds - now

    def take(self, now: float) -> None:
        self.times.append(now)

    def moved(self, granted: float, now: float) -> None:
        """A send let go at `granted` leaves only `now` (its task waited for the event loop):
        it counts from when it leaves, so the sends after it keep their distance."""
        with contextlib.suppress(ValueError):
            self.times.remove(granted)
        self.times.append(now)


class Spacing:
    """Sends evenly spaced at `rate` a second, on a schedule (GCRA): a send let go a little
    late (the timer, a busy event loop) does not push back the ones after it, and none goes
    closer than half a spacing to the one before."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.due = 0.0  # when the next send is due on the schedule

    def wait(self, now: float) -> float:
        return max(0.0, self.due - 0.5 / self.rate - now)

    def take(self, now: float) -> None:
        self.due = max(self.due, now) + 1.0 / self.rate


class RateLimiter:
    def __init__(self, overall: float = OVERALL_PER_SECOND, per_chat: float = 1.0,
                 chat_burst: float = 4.0, enabled: bool = True) -> None:
        self.enabled = enabled
        self.most = max(int(overall) - 2, 1)  # this bot's sends in any second, all instances
        self.overall = Window(self.most)
        self.spread = Spacing(float(self.most))
        self.per_chat = per_chat
        self.chat_burst = chat_burst
        self.chats: OrderedDict[int, Bucket] = OrderedDict()
        self.paused_until = 0.0
        # Waiting for the overall window: (bulk, arrival, chat, future), people first.
        self._waiting: list[tuple[bool, int, int | None, asyncio.Future[float]]] = []
        # Chats where a person's send waits behind a bulk send: that one goes as people, or
        # gives way (`_giving_way`) when it still waits.
        self._hurried: set[int] = set()
        self._giving_way: set[int] = set()
        # Bulk sends waiting for their chat's token, woken when a person's send comes behind.
        self._pacing: dict[int, asyncio.Event] = {}
        self._arrival = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Sends let go lately, (when, bulk): what this instance has to send (`demand`).
        self._let_go: deque[tuple[float, bool]] = deque()
        # The part holds until then (time.monotonic), then falls to `_floor` (`share`).
        self.part_until = math.inf
        self._floor = self.most

    def share(self, instances: int, part: int | None = None,
              until: float | None = None) -> None:
        """`instances` send for this bot (PostgreSQL: several processes): this one takes
        `part` a second (`fair_part`), by default an even part of the 28 a second, less one a
        second for each other instance. Their schedules are not spread against each other,
        and on a loaded machine two at 14 a second arrived as 32 in one second
        (tests/faults/test_instances.py): 13 each for two, 8 for three.

        `until` (time.monotonic): the part holds until then and falls to the floor after,
        until the next share: the others stop counting a report that is no longer fresh and
        leave this instance only its floor. Without it an instance whose reports stopped for
        a while (a busy loop, the database slow) would keep sending at its part while the
        other took the rest, and the two together would pass Telegram's limit
        (tests/storage/test_send_shares.py)."""
        instances = max(instances, 1)
        if part is None:  # as when nobody has anything to send
            part = fair_part(self.most, instances, Demand(), ())
        self.part_until = math.inf if until is None else until
        self._floor = floor_part(self.most, instances)
        self._set_part(part)
        self._serve()

    def _set_part(self, part: int) -> None:
        part = max(min(part, self.most), 1)
        self.overall.limit = part
        self.spread.rate = float(part)

    def _lapse_if_due(self) -> None:
        """The part was not taken again in time: the floor until the next share."""
        if time.monotonic() >= self.part_until:
            self.part_until = math.inf
            self._set_part(min(self.overall.limit, self._floor))

    def pause(self, seconds: float) -> None:
        """A 429 tells the bot to wait exactly `retry_after` seconds before sending again."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def _paused(self) -> None:
        # Another 429 may extend the pause while this send waits: look again after each wait.
        for _ in range(100):
            pause = self.paused_until - time.monotonic()
            if pause <= 0:
                return
            await asyncio.sleep(pause)

    def _chat(self, chat_id: int) -> Bucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            bucket = self.chats[chat_id] = Bucket(self.per_chat, self.chat_burst)
            if len(self.chats) > 10_000:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        return bucket

    async def acquire(self, chat_id: int | None, bulk: bool = False) -> None:
        """Wait until this send may go now; `bulk`: planned mass sends, after people's."""
        await self._paused()
        if not self.enabled:
            return
        bucket = self._chat(chat_id) if chat_id is not None else None
        # A chat has one send in flight at a time (its lane), so its token, there now, is
        # still there when the overall window lets it go.
        if bucket is not None:
            for _ in range(1000):  # its pace: a second or so
                if bulk and chat_id in self._giving_way:
                    self._giving_way.discard(chat_id)
                    raise GiveWay
                wait = bucket.available_in(
                    keep=PEOPLES_TOKENS if bulk and chat_id not in self._hurried else 0)
                if wait <= 0:
                    break
                if bulk and chat_id is not None:
                    await self._pace(chat_id, wait)
                else:
                    await asyncio.sleep(wait)
        bulk = bulk and chat_id not in self._hurried
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): nothing from the old one counts
            self._loop, self._waiting, self._timer = loop, [], None
        turn: asyncio.Future[float] = loop.create_future()
        heapq.heappush(self._waiting, (bulk, next(self._arrival), chat_id, turn))
        self._serve()
        granted = await turn
        if chat_id is not None:
            self._hurried.discard(chat_id)
            self._giving_way.discard(chat_id)
        self.overall.moved(granted, time.monotonic())
        if bucket is not None:
            bucket.take()
        await self._paused()

    async def _pace(self, chat_id: int, wait: float) -> None:
        """A bulk send waits for its chat's token, or until a person's send comes behind it."""
        event = self._pacing.setdefault(chat_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), wait)
        except TimeoutError:
            pass
        finally:
            if self._pacing.get(chat_id) is event:
                del self._pacing[chat_id]

    def hurry(self, chat_id: int, give_way: bool = False) -> None:
        """A person's send now waits behind this chat's send (a chat sends one at a time): a
        bulk send of it, waiting here, goes as people, or, with `give_way`, raises GiveWay
        (the person's goes first). Without it a family's message waited behind a coach's
        digest that itself waited behind every other bulk send."""
        if not self.enabled:
            return
        self._hurried.add(chat_id)
        turns = [turn for bulk, _, chat, turn in self._waiting if bulk and chat == chat_id]
        if give_way and turns:
            for turn in turns:
                if not turn.done():
                    turn.set_exception(GiveWay())
        elif give_way:  # at its chat's pace, or not here yet: it looks before each wait
            self._giving_way.add(chat_id)
            event = self._pacing.get(chat_id)
            if event is not None:
                event.set()
        elif turns:
            self._waiting = [(bulk and chat != chat_id, n, chat, turn)
                             for bulk, n, chat, turn in self._waiting]
            heapq.heapify(self._waiting)
        if turns:
            self._serve()

    def _serve(self) -> None:
        """Let go as many waiting sends as the window allows, in turn; wake again when the
        window has room for the next."""
        if self._loop is None:
            return
        self._lapse_if_due()
        now = time.monotonic()
        while self._waiting:
            turn = self._waiting[0][3]
            if turn.done():  # given up while waiting (a lane stopped)
                heapq.heappop(self._waiting)
                continue
            wait = max(self.overall.wait(now), self.spread.wait(now))
            if wait > 0:
                if self._timer is None:
                    self._timer = self._loop.call_later(wait, self._woken)
                return
            bulk = heapq.heappop(self._waiting)[0]
            self.overall.take(now)
            self.spread.take(now)
            self._let_go.append((now, bulk))
            turn.set_result(now)

    def demand(self) -> Demand:
        """What this instance has to send now (`Demand`), for sharing the limit."""
        now = time.monotonic()
        while self._let_go and now - self._let_go[0][0] >= WINDOW_SECONDS:
            self._let_go.popleft()
        kinds = [bulk for _, bulk in self._let_go]
        kinds += [bulk for bulk, _, _, turn in self._waiting if not turn.done()]
        bulk = sum(kinds)
        return Demand(people=len(kinds) - bulk, bulk=bulk)

    @property
    def part(self) -> int:
        """This instance's sends a second now."""
        self._lapse_if_due()
        return self.overall.limit

    def _woken(self) -> None:
        self._timer = None
        self._serve()
