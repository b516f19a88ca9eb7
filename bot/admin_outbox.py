"""`gezinslijn admin outbox`: what the bot still has to send, and what it gave up on, for an
operator who never saw the bot; `--requeue` puts what was given up back in line.

Plain aligned text, in English like the rest of the command line. Counts, ages, purposes and
kinds of error only: never content, chat ids, names or aliases (PRODUCT.md §5).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

from bot.clock import Clock
from storage.repos import outbox_admin
from storage.repos.outbox_admin import (
    DATABASE_ERRORS,
    REQUEUE_STATUSES,
    OutboxOverview,
    Requeued,
    StatusCounts,
)

# The order an operator reads them in, and what each means.
MEANINGS = {
    "pending": "waiting to be sent",
    "parked": "the recipient blocked the bot; sent once they unblock it",
    "failed": "given up after repeated errors; not sent",
    "expired": "too late to be of use; not sent",
    "cancelled": "a receipt whose copy did not arrive; not sent",
}
KIND_LENGTH = 40


def error_kind(reason: str) -> str:
    """The kind of a stored reason: its leading number ("429 retry after 5s" -> "429"), else the
    text before the first colon or digit ("bad request: chat not found" -> "bad request")."""
    reason = reason.strip()
    number = re.match(r"\d+", reason)
    if number:
        return number.group()
    return re.split(r"[:\d]", reason, maxsplit=1)[0].strip()[:KIND_LENGTH] or "other"


def human_age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _tally(counts: Counter[str]) -> str:
    """`relay 8, receipt 3`: most first, then by name (a stable order to compare runs)."""
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} {count}" for name, count in items if count) or "-"


def _kinds(errors: Counter[str]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for reason, count in errors.items():
        kinds[error_kind(reason)] += count
    return kinds


def _age(now: datetime, since: datetime | None) -> str:
    return human_age(now - since) if since is not None else "-"


def _line(label: str, value: object, note: str = "") -> str:
    return f"  {label:<24}{value!s:<6} {note}".rstrip()


def _status_order(statuses: dict[str, StatusCounts]) -> list[str]:
    return list(MEANINGS) + sorted(set(statuses) - set(MEANINGS))


def format_overview(url: str, now: datetime, view: OutboxOverview) -> str:
    lines = [f"Gezinslijn outbox report: database {url}, at {now:%Y-%m-%d %H:%M:%S} UTC", "",
             "Outgoing messages (table outbox) not sent:",
             f"  {'status':<11}{'rows':>6}  {'oldest':<8}meaning"]
    for status in _status_order(view.statuses):
        counts = view.statuses.get(status, StatusCounts())
        lines.append(f"  {status:<11}{counts.count:>6}  {_age(now, counts.oldest):<8}"
                     f"{MEANINGS.get(status, 'unknown status')}")
    lines.append(f"Sent in the last 24 h: {view.sent_last_day}")
    for status in _status_order(view.statuses):
        if status in view.statuses and view.statuses[status].count:
            lines += ["", *_status_detail(status, view.statuses[status], view)]
    lines += ["", "Incoming updates (table inbound_update):",
              _line("waiting to be handled", view.updates_waiting),
              _line("kept aside", view.kept_aside,
                    "failed every attempt; handled again only after --requeue")]
    if view.kept_aside:
        lines += [_line("oldest kept aside", _age(now, view.kept_aside_oldest)),
                  _line("errors", _tally(view.kept_aside_errors))]
    return "\n".join(lines)


def _status_detail(status: str, counts: StatusCounts, view: OutboxOverview) -> list[str]:
    lines = [f"{status} ({counts.count}):", _line("by purpose", _tally(counts.by_purpose))]
    if status == "pending":
        detail = view.pending
        lines += [_line("not yet due", detail.not_yet_due),
                  _line("stuck", detail.stuck,
                        "due over 5 min ago and not waiting for a retry"),
                  _line("being sent now", detail.claimed, "claimed by a running bot"),
                  _line("waiting for retry", detail.retry_wait, "a retry time in the future")]
    elif status in REQUEUE_STATUSES:
        lines += [_line("can be re-queued", counts.with_payload,
                        "content still there: gezinslijn admin outbox --requeue"),
                  _line("content gone", counts.count - counts.with_payload,
                        "cannot be sent again")]
    if counts.errors:
        lines.append(_line("last errors", _tally(_kinds(counts.errors))))
    return lines


def format_requeued(url: str, now: datetime, done: Requeued) -> str:
    lines = [f"Gezinslijn outbox re-queue: database {url}, at {now:%Y-%m-%d %H:%M:%S} UTC", "",
             "Re-queued as pending (sent by the running bot in their chat's order):"]
    lines += [_line(status, count) for status, count in done.by_status.items()]
    lines.append(_line("total", sum(done.by_status.values())))
    gone = sum(done.without_payload.values())
    if gone:
        lines += ["", "Not re-queued: their content is gone, they cannot be sent again:"]
        lines += [_line(status, count) for status, count in sorted(done.without_payload.items())]
    if done.updates is not None:
        lines += ["", _line("incoming updates", done.updates,
                            "kept aside before; the bot handles them again")]
    return "\n".join(lines)


async def report(database_url: str, clock: Clock) -> str:
    url = outbox_admin.display_url(database_url)
    db = outbox_admin.open_database(database_url)
    try:
        now = clock.now()
        async with db.transaction() as session:
            view = await outbox_admin.overview(session, now)
    except DATABASE_ERRORS as error:
        raise outbox_admin.unreachable(database_url, error) from None
    finally:
        await db.dispose()
    return format_overview(url, now, view)


async def requeue(database_url: str, clock: Clock, status: str | None = None,
                  purpose: str | None = None) -> str:
    """`status`/`purpose` narrow the re-queue to those outbox rows: kept-aside updates then
    stay as they are."""
    statuses = (status,) if status else REQUEUE_STATUSES
    updates_too = status is None and purpose is None
    url = outbox_admin.display_url(database_url)
    db = outbox_admin.open_database(database_url)
    try:
        now = clock.now()
        async with db.transaction() as session:
            done = await outbox_admin.requeue(session, statuses, purpose, updates_too)
    except DATABASE_ERRORS as error:
        raise outbox_admin.unreachable(database_url, error) from None
    finally:
        await db.dispose()
    return format_requeued(url, now, done)
