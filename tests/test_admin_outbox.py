"""`gezinslijn admin outbox` (bot/admin_outbox.py, storage/repos/outbox_admin.py): the report
counts what the bot still has to send and what it gave up on, without a word of content or a
chat id; `--requeue` puts given-up rows that still have their content back in line, and hands
kept-aside updates back to the bot."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.admin_outbox import error_kind, human_age
from bot.cli import main
from bot.clock import SystemClock
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import InboundUpdate, Outbox
from tests.conftest import TEST_KEY

SECRET = "GEHEIM-Zeewolde-kookt-42"
FAMILY_CHAT = 987654321
COACH_CHAT = 5550001112223


def _payload() -> dict[str, Any]:
    return {"chat_id": FAMILY_CHAT, "text": f"{SECRET} (van Jolien)", "reply_to": COACH_CHAT}


# name -> (status, purpose, with payload, fields relative to now)
ROWS: dict[str, tuple[str, str, bool, dict[str, Any]]] = {
    "stuck": ("pending", "relay", True, {"created": -timedelta(hours=3, minutes=1),
                                         "due": -timedelta(minutes=20)}),
    "claimed": ("pending", "receipt", True, {"due": -timedelta(minutes=1), "claimed": True}),
    "retrying": ("pending", "reminder", True, {"due": -timedelta(minutes=30),
                                               "not_before": timedelta(minutes=10),
                                               "error": "network: NetworkError"}),
    "later": ("pending", "agenda", True, {"due": timedelta(hours=1)}),
    "failed": ("failed", "relay", True, {"created": -timedelta(days=4, hours=1),
                                         "error": "bad request: chat not found"}),
    "failed_gone": ("failed", "answer", False, {"error": "429 retry after 5s"}),
    "parked": ("parked", "relay", True, {"error": "forbidden"}),
    "expired": ("expired", "reminder", True, {"expires": -timedelta(hours=1)}),
    "cancelled": ("cancelled", "receipt", False, {}),
    "sent": ("sent", "relay", False, {"sent": -timedelta(hours=1)}),
    "sent_long_ago": ("sent", "relay", False, {"sent": -timedelta(hours=30)}),
}


def _row(now: datetime, status: str, purpose: str, with_payload: bool,
         when: dict[str, Any]) -> Outbox:
    due = now + when.get("due", -timedelta(minutes=2))
    return Outbox(
        chat_id=FAMILY_CHAT if purpose != "receipt" else COACH_CHAT, method="sendMessage",
        payload=_payload() if with_payload else None, purpose=purpose, status=status,
        due_at=due, created_at=now + when.get("created", due - now),
        attempts=3 if status in ("failed", "parked") else 1,
        claimed_by="instance-a" if when.get("claimed") else None,
        claimed_until=now + timedelta(minutes=1) if when.get("claimed") else None,
        last_error=when.get("error"),
        not_before=now + when["not_before"] if "not_before" in when else None,
        expires_at=now + when["expires"] if "expires" in when else None,
        sent_at=now + when["sent"] if "sent" in when else None,
        sent_message_id=77 if status == "sent" else None)


async def _seed(url: str) -> dict[str, int]:
    """One row in each state, an update kept aside and one still waiting; returns row ids."""
    await upgrade_async(url)
    now = SystemClock().now()
    db = Database(url)
    try:
        async with db.transaction() as session:
            rows = {name: _row(now, *spec) for name, spec in ROWS.items()}
            session.add_all(rows.values())
            session.add(InboundUpdate(
                update_id=1001, payload={"message": {"text": SECRET, "chat": {"id": FAMILY_CHAT}}},
                received_at=now - timedelta(days=2, hours=1), attempts=5, chat_id=FAMILY_CHAT,
                kept_aside_at=now - timedelta(hours=2), last_error="KeyError"))
            session.add(InboundUpdate(update_id=1002, payload={"message": {"text": SECRET}},
                                      received_at=now, attempts=0, chat_id=COACH_CHAT))
            await session.flush()
            return {name: row.id for name, row in rows.items()}
    finally:
        await db.dispose()


async def _outbox(url: str) -> dict[int, Outbox]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            return {row.id: row for row in (await session.scalars(select(Outbox))).all()}
    finally:
        await db.dispose()


async def _updates(url: str) -> dict[int, InboundUpdate]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            rows = (await session.scalars(select(InboundUpdate))).all()
            return {row.update_id: row for row in rows}
    finally:
        await db.dispose()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("GEZINSLIJN_ENCRYPTION_KEY", TEST_KEY)
    for name in ("GEZINSLIJN_TELEGRAM_TOKEN", "GEZINSLIJN_CLOCK_START", "GEZINSLIJN_CLOCK_SPEED"):
        monkeypatch.delenv(name, raising=False)  # counting needs no token
    return monkeypatch


async def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`gezinslijn ...` as an operator types it (main() runs its own event loop: a thread)."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _value(out: str, label: str, after: str = "") -> str:
    """The rest of the first line starting with `label`, after the line `after` if given."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after)) if after else 0
    for line in lines[start:]:
        if line.strip().startswith(label):
            return line.strip()[len(label):].strip()
    raise AssertionError(f"no line {label!r} in:\n{out}")


def _no_secrets(text: str) -> None:
    assert SECRET not in text and "Jolien" not in text
    assert str(FAMILY_CHAT) not in text and str(COACH_CHAT) not in text


async def test_report_counts_without_content_or_chat_ids(
        db_url: str, settings_env: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    await _seed(db_url)
    settings_env.setenv("GEZINSLIJN_DATABASE_URL", db_url)
    code, out, err = await _cli(capsys, "admin", "outbox")
    assert code == 0, err
    _no_secrets(out + err)
    assert out.startswith("Gezinslijn outbox report: database ")
    assert "UTC" in out.splitlines()[0]

    assert _value(out, "pending").split()[:2] == ["4", "3"]  # 4 rows, oldest 3 h
    assert _value(out, "failed").split()[:2] == ["2", "4"]  # oldest 4 d
    assert _value(out, "parked").split()[0] == "1"
    assert _value(out, "expired").split()[0] == "1"
    assert _value(out, "cancelled").split()[0] == "1"
    assert _value(out, "Sent in the last 24 h:") == "1"

    assert _value(out, "by purpose", after="pending (4)") == \
        "agenda 1, receipt 1, relay 1, reminder 1"
    assert _value(out, "not yet due", after="pending (4)").startswith("1")
    assert _value(out, "stuck", after="pending (4)").startswith("1 ")
    assert _value(out, "being sent now", after="pending (4)").startswith("1 ")
    assert _value(out, "waiting for retry", after="pending (4)").startswith("1 ")
    assert _value(out, "last errors", after="pending (4)") == "network 1"

    assert _value(out, "by purpose", after="failed (2)") == "answer 1, relay 1"
    assert _value(out, "can be re-queued", after="failed (2)").startswith("1 ")
    assert _value(out, "content gone", after="failed (2)").startswith("1 ")
    assert _value(out, "last errors", after="failed (2)") == "429 1, bad request 1"
    assert _value(out, "last errors", after="parked (1)") == "forbidden 1"

    incoming = "Incoming updates"
    assert _value(out, "waiting to be handled", after=incoming) == "1"
    assert _value(out, "kept aside", after=incoming).startswith("1 ")
    assert _value(out, "oldest kept aside", after=incoming) == "2 d"
    assert _value(out, "errors", after=incoming) == "KeyError 1"


async def test_requeue_puts_given_up_rows_back_in_their_place(
        db_url: str, settings_env: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = await _seed(db_url)
    before = await _outbox(db_url)
    settings_env.setenv("GEZINSLIJN_DATABASE_URL", db_url)
    code, out, err = await _cli(capsys, "admin", "outbox", "--requeue")
    assert code == 0, err
    _no_secrets(out + err)
    assert _value(out, "total") == "3"
    assert _value(out, "failed", after="Not re-queued") == "1"
    assert _value(out, "incoming updates").startswith("1 ")

    after = await _outbox(db_url)
    for name in ("failed", "parked", "expired"):
        row, old = after[ids[name]], before[ids[name]]
        assert row.status == "pending", name
        assert (row.attempts, row.last_error, row.not_before, row.expires_at,
                row.claimed_by, row.claimed_until) == (0, None, None, None, None, None)
        assert row.due_at == old.due_at and row.payload == _payload()
    # Without content, sent, cancelled or still pending: as they were.
    for name in ("failed_gone", "cancelled", "sent", "sent_long_ago", "retrying", "claimed"):
        row, old = after[ids[name]], before[ids[name]]
        assert (row.status, row.attempts, row.last_error, row.sent_at, row.claimed_by) == \
            (old.status, old.attempts, old.last_error, old.sent_at, old.claimed_by), name

    updates = await _updates(db_url)
    assert (updates[1001].kept_aside_at, updates[1001].attempts) == (None, 0)

    # The report agrees: nothing given up with content is left.
    code, out, _ = await _cli(capsys, "admin", "outbox")
    assert code == 0
    assert _value(out, "pending").split()[0] == "7"
    assert _value(out, "failed").split()[0] == "1"
    assert _value(out, "kept aside", after="Incoming updates").startswith("0 ")


async def test_requeue_narrowed_leaves_the_rest(
        db_url: str, settings_env: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = await _seed(db_url)
    settings_env.setenv("GEZINSLIJN_DATABASE_URL", db_url)
    code, out, err = await _cli(capsys, "admin", "outbox", "--requeue", "--status", "parked")
    assert code == 0, err
    assert _value(out, "total") == "1"
    assert "incoming updates" not in out
    code, out, err = await _cli(capsys, "admin", "outbox", "--requeue", "--purpose", "reminder")
    assert code == 0, err
    assert _value(out, "total") == "1"

    rows = await _outbox(db_url)
    assert rows[ids["parked"]].status == "pending"
    assert rows[ids["expired"]].status == "pending"  # the reminder
    assert rows[ids["failed"]].status == "failed"  # a relay: not chosen either time
    assert (await _updates(db_url))[1001].kept_aside_at is not None


async def test_requeue_without_requeue_flag_is_refused(
        settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        await _cli(capsys, "admin", "outbox", "--purpose", "relay")
    assert exit_.value.code == 2
    assert "--requeue" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["postgresql://gl:sesame@127.0.0.1:1/gezinslijn",
                                 "sqlite:///{tmp}/nowhere/gezinslijn.db"])
async def test_unreachable_database_is_one_sentence(
        url: str, tmp_path: Path, settings_env: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = url.format(tmp=tmp_path)
    settings_env.setenv("GEZINSLIJN_DATABASE_URL", url)
    for argv in (["admin", "outbox"], ["admin", "outbox", "--requeue"]):
        code, out, err = await _cli(capsys, *argv)
        assert code == 1 and out == ""
        assert err.startswith("gezinslijn: The database ") and err.count("\n") == 1, err
        assert "Traceback" not in err and "sesame" not in err
    assert not (tmp_path / "nowhere").exists()  # no empty database made on the way


async def test_unmigrated_database_is_one_sentence(
        tmp_path: Path, settings_env: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    settings_env.setenv("GEZINSLIJN_DATABASE_URL", f"sqlite:///{path}")
    code, _, err = await _cli(capsys, "admin", "outbox")
    assert code == 1 and err.count("\n") == 1 and "has the bot run once" in err, err


@pytest.mark.parametrize(("reason", "kind"), [
    ("network: NetworkError", "network"), ("forbidden", "forbidden"),
    ("bad request: chat not found", "bad request"), ("429 retry after 5s", "429"),
    ("timed out after 15s", "timed out after"), ("  ", "other")])
def test_error_kind(reason: str, kind: str) -> None:
    assert error_kind(reason) == kind


@pytest.mark.parametrize(("age", "text"), [
    (timedelta(seconds=12), "12 s"), (timedelta(minutes=3, seconds=59), "3 min"),
    (timedelta(hours=2, minutes=5), "2 h"), (timedelta(hours=47), "47 h"),
    (timedelta(days=4, hours=23), "4 d"), (timedelta(seconds=-3), "0 s")])
def test_human_age(age: timedelta, text: str) -> None:
    assert human_age(age) == text
