"""What operators measure, in the Prometheus text format (`/metrics`, served by bot/ops_http.py).

Every name starts with `gezinslijn_`. A label carries only a kind the code itself names: a Bot
API method, an outbox status or purpose, an error kind. Never a name, alias, chat id, message
or error text (PRODUCT.md §5). Each running bot has a registry of its own (not the process-wide
one: the tests run several bots in one process).

Read from the database at each scrape (on PostgreSQL every instance shows the same numbers:
aggregate them with max, not sum). Ages are in seconds on the bot's clock.

- `gezinslijn_database_up`: 1 when the scrape's queries answered within 2 s, else 0 (the
  other numbers of this list are then left out of that scrape);
- `gezinslijn_outbox_rows{status,purpose}`: outbox rows not sent, by status (pending, parked,
  failed, expired, cancelled) and purpose (relay, receipt, reminder, notice, …);
- `gezinslijn_outbox_oldest_pending_seconds{purpose}`: how long the longest-waiting due
  pending row has waited (0: none waits);
- `gezinslijn_intake_backlog`: updates stored but not handled yet;
- `gezinslijn_intake_oldest_seconds`: how long the oldest of those has waited (0: none);
- `gezinslijn_intake_kept_aside`: updates kept aside after failing every attempt (see
  `gezinslijn admin outbox`);
- `gezinslijn_family_messages_waiting{status}`: family messages held for the coach's next
  opening (`held`), or waiting for a coach who blocked the bot (`waiting`).

Counted by this instance since it started:

- `gezinslijn_sends_total{method}`: sends Telegram accepted;
- `gezinslijn_send_failures_total{method,error}`: failed attempts (a retried send counts
  once per attempt); `error` is one of network, telegram, rate_limited (429 after 429),
  blocked, chat_not_found, bad_request, no_contents, other;
- `gezinslijn_telegram_429_total{method}` and `gezinslijn_telegram_429_wait_seconds_total`:
  Telegram's "too many requests" answers and the real seconds every send waited for them;
- `gezinslijn_reminder_lag_seconds` (histogram): a family reminder from the moment it was
  queued (its due time, or the restart of a bot that was down then) to Telegram's acceptance,
  on the bot's clock;
- `gezinslijn_handler_seconds` (histogram): one update's unit of work, in real seconds
  (handled or failed).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from storage.models import Outbox
from storage.repos.metrics import WAITING_MESSAGES, Counts

if TYPE_CHECKING:
    from bot.services import Services

# Outbox statuses shown (sent rows are counted as sends instead: there are many of them).
STATUSES = ("pending", "parked", "failed", "expired", "cancelled")
# Purposes always shown (0 when none waits), so a dashboard has its lines from the start;
# others appear once seen.
PURPOSES = ("answer", "relay", "receipt", "digest", "reminder", "notice")
ERROR_KINDS = ("network", "telegram", "rate_limited", "blocked", "chat_not_found",
               "bad_request", "no_contents", "other")
REMINDER_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600)
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_METHOD = re.compile(r"[A-Za-z]{1,40}")
_PURPOSE = re.compile(r"[a-z_]{1,20}")


def method_label(method: str) -> str:
    """A Bot API method's name; anything else (it never is) as `other`."""
    return method if _METHOD.fullmatch(method) else "other"


def purpose_label(purpose: str) -> str:
    """An outbox purpose as the code names it (relay, reminder, …); anything else as `other`."""
    return purpose if _PURPOSE.fullmatch(purpose) else "other"


def error_kind(reason: str) -> str:
    """The kind of a failed send, from the dispatcher's reason (which may quote Telegram's
    answer: only the kind leaves here)."""
    if reason.startswith("network:"):
        return "network"
    if reason.startswith("telegram:"):
        return "telegram"
    if reason.startswith("429"):
        return "rate_limited"
    if reason == "forbidden":
        return "blocked"
    if reason == "bad request: chat not found":
        return "chat_not_found"
    if reason.startswith("bad request"):
        return "bad_request"
    if reason == "no contents left":
        return "no_contents"
    return "other"


class DatabaseCounts(Collector):
    """The numbers read from the database, as of the last scrape (bot/ops_http.py reads them
    with a time limit, then renders)."""

    def __init__(self) -> None:
        self._counts: Counts | None = None
        self._now: datetime | None = None
        # Purposes seen so far: a purpose that drained still shows, as 0.
        self.purposes: set[str] = set(PURPOSES)

    def update(self, counts: Counts | None, now: datetime) -> None:
        self._counts, self._now = counts, now
        if counts is not None:
            self.purposes.update(purpose_label(group.purpose) for group in counts.outbox)

    def _age(self, then: datetime | None) -> float:
        if then is None or self._now is None:
            return 0.0
        return max((self._now - then).total_seconds(), 0.0)

    def collect(self) -> Iterable[Metric]:
        counts = self._counts
        yield GaugeMetricFamily("gezinslijn_database_up",
                                "1 when the database answered this scrape's queries in time.",
                                value=0 if counts is None else 1)
        if counts is None:
            return
        rows = GaugeMetricFamily("gezinslijn_outbox_rows", "Outbox rows not sent, by status "
                                 "and purpose.", labels=["status", "purpose"])
        oldest = GaugeMetricFamily("gezinslijn_outbox_oldest_pending_seconds",
                                   "How long the longest-waiting due pending row has waited.",
                                   labels=["purpose"])
        found: dict[tuple[str, str], tuple[int, datetime | None]] = {}
        for group in counts.outbox:  # purposes named `other` add up
            key = (group.status, purpose_label(group.purpose))
            count, due = found.get(key, (0, None))
            earliest = min((d for d in (due, group.oldest_due) if d is not None), default=None)
            found[key] = (count + group.count, earliest)
        for purpose in sorted(self.purposes):
            for status in STATUSES:
                rows.add_metric([status, purpose], found.get((status, purpose), (0, None))[0])
            oldest.add_metric([purpose], self._age(found.get(("pending", purpose),
                                                             (0, None))[1]))
        yield rows
        yield oldest
        yield GaugeMetricFamily("gezinslijn_intake_backlog",
                                "Updates stored but not handled yet.",
                                value=counts.updates_waiting)
        yield GaugeMetricFamily("gezinslijn_intake_oldest_seconds",
                                "How long the oldest update not handled yet has waited.",
                                value=self._age(counts.updates_oldest))
        yield GaugeMetricFamily("gezinslijn_intake_kept_aside",
                                "Updates kept aside after failing every attempt.",
                                value=counts.updates_kept_aside)
        waiting = GaugeMetricFamily("gezinslijn_family_messages_waiting",
                                    "Family messages held for the coach's next opening, or "
                                    "waiting for a coach who blocked the bot.",
                                    labels=["status"])
        for status in WAITING_MESSAGES:
            waiting.add_metric([status], counts.messages_waiting.get(status, 0))
        yield waiting


class Metrics:
    """One running bot's metrics. The dispatcher and the handlers report here."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._sends = Counter("gezinslijn_sends", "Sends Telegram accepted.", ["method"],
                              registry=registry)
        self._failures = Counter("gezinslijn_send_failures", "Failed send attempts, by kind.",
                                 ["method", "error"], registry=registry)
        self._throttled = Counter("gezinslijn_telegram_429", "Telegram's 429 answers.",
                                  ["method"], registry=registry)
        self._waited = Counter("gezinslijn_telegram_429_wait_seconds",
                               "Real seconds every send waited after a 429.",
                               registry=registry)
        self._reminder_lag = Histogram("gezinslijn_reminder_lag_seconds",
                                       "Family reminders from due to sent (bot's clock).",
                                       buckets=REMINDER_BUCKETS, registry=registry)
        self._handler = Histogram("gezinslijn_handler_seconds",
                                  "One update's unit of work (real seconds).",
                                  buckets=HANDLER_BUCKETS, registry=registry)
        self.database = DatabaseCounts()
        registry.register(self.database)

    def sent(self, row: Outbox, now: datetime) -> None:
        self._sends.labels(method_label(row.method)).inc()
        self.database.purposes.add(purpose_label(row.purpose))
        if row.purpose == "reminder":
            # The row is queued when the reminder is due (bot/jobs/reminders.py plans every
            # few seconds); a bot that was down then counts from its restart. Not the
            # reminder's own due time: rows are claimed most overdue first, and a late
            # reminder must not go ahead of a family's message.
            self._reminder_lag.observe(max((now - row.due_at).total_seconds(), 0.0))

    def failed(self, method: str, reason: str) -> None:
        self._failures.labels(method_label(method), error_kind(reason)).inc()

    def throttled(self, method: str, seconds: float) -> None:
        self._throttled.labels(method_label(method)).inc()
        self._waited.inc(max(seconds, 0.0))

    def handled(self, seconds: float) -> None:
        self._handler.observe(seconds)


@asynccontextmanager
async def timed(services: Services) -> AsyncIterator[None]:
    """Times the block as one update's unit of work (handlers/common.py `work`)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if services.dispatcher is not None:
            services.dispatcher.metrics.handled(time.perf_counter() - started)
