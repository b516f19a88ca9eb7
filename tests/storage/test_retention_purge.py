"""Nothing kept past retention (issue 15, item 3), on SQLite and PostgreSQL: the purge
(storage/repos/privacy.py, run by bot/jobs/retention.py) also empties what was never sent or
delivered — pending sends, held and waiting messages — and old requests for help; a held
message without contents is still released and counted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.jobs.held_messages import release_held
from bot.jobs.retention import RetentionPurge
from storage.db import Database, Session
from storage.models import Family, FamilyCoach, FamilyMessage, HelpRequest, Member, Outbox, Staff
from storage.repos import outbox as outbox_rows
from storage.repos import privacy
from storage.repos.agenda import snapshot
from tests.caseload import joined_member, joined_staff

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)  # a Monday, inside the coach's hours
DAYS = 30
OLD = NOW - timedelta(days=DAYS + 1)  # older than the retention period
RECENT = NOW - timedelta(days=DAYS - 1)
MARIEKE_CHAT = 5001


async def caseload(session: Session) -> tuple[Staff, Family, Member]:
    """Sanne coaches Gezin J., where Marieke (moeder) writes."""
    sanne = joined_staff(1, "Sanne", NOW - timedelta(days=90), coach=True)
    family = Family(alias="Gezin J.", created_at=NOW - timedelta(days=90))
    session.add_all([sanne, family])
    await session.flush()  # the family's data key before anything sealed with it
    session.add(FamilyCoach(family_id=family.id, staff_id=sanne.id,
                            since=NOW - timedelta(days=90)))
    marieke = joined_member(family.id, MARIEKE_CHAT, "Marieke", "moeder",
                            NOW - timedelta(days=90))
    session.add(marieke)
    await session.flush()
    return sanne, family, marieke


async def purge(db: Database, now: datetime = NOW) -> None:
    """One pass of the retention job, as the dispatcher runs it."""
    async with db.transaction() as session:
        await RetentionPurge(DAYS)(session, now)


def message(family: Family, member: Member, body: str | None, *, at: datetime,
            status: str = "delivered", kind: str = "text", **extra: Any) -> FamilyMessage:
    return FamilyMessage(family_id=family.id, member_id=member.id, chat_id=MARIEKE_CHAT,
                         telegram_message_id=int(at.timestamp()) % 100000, kind=kind, body=body,
                         received_at=at, status=status,
                         delivered_at=at if status == "delivered" else None, **extra)


# Sends that never went --------------------------------------------------------------------------
def send(session: Session, family: Family, text: str, *, at: datetime,
         awaited: Outbox | None = None, chat_id: int = MARIEKE_CHAT) -> Outbox:
    return outbox_rows.add_pending(
        session, chat_id=chat_id, method="sendMessage", payload={"p": {"text": text}},
        purpose="relay", due_at=at, created_at=at, link_family_id=family.id,
        link_member_id=None, link_message_id=None, awaited=awaited)


async def test_a_send_still_pending_after_the_retention_period_goes_with_its_contents(
        db: Database) -> None:
    async with db.transaction() as session:
        _sanne, family, _marieke = await caseload(session)
        stuck = send(session, family, "Oud bericht dat nooit aankwam", at=OLD)
        # Its receipt waits for it: what it would confirm will never be sent.
        receipt = send(session, family, "Doorgestuurd", at=RECENT, awaited=stuck)
        stale = send(session, family, "Oud, geclaimd door een gestopte bot", at=OLD)
        stale.claimed_by, stale.claimed_until = "gone", datetime(2000, 1, 1, tzinfo=AMS)
        # Being sent right now, to the coach (a live lease, on the bot's clock and the
        # database's alike).
        flying = send(session, family, "Oud, nu onderweg", at=OLD, chat_id=1)
        flying.claimed_by, flying.claimed_until = "me", NOW + timedelta(days=3650)
        fresh = send(session, family, "Nieuw bericht", at=RECENT)
        await session.flush()
        ids = {"stuck": stuck.id, "receipt": receipt.id, "stale": stale.id,
               "flying": flying.id, "fresh": fresh.id}
    await purge(db)
    async with db.transaction() as session:
        left = {row.id: row for row in await session.scalars(select(Outbox))}
        # Not sent any more: in Marieke's lane only the new one is left to claim.
        claimed = await outbox_rows.claim_heads(
            session, db.dialect, NOW, 100, "other", outbox_rows.lease_until(
                db.dialect, NOW, 60, timedelta(minutes=1)), chat_id=MARIEKE_CHAT)
    assert sorted(left) == sorted([ids["flying"], ids["fresh"]])
    assert left[ids["fresh"]].status == "pending"
    assert left[ids["fresh"]].payload == {"p": {"text": "Nieuw bericht"}}
    # The send in flight finishes; the next pass takes it if it is still there.
    assert left[ids["flying"]].status == "pending"
    assert left[ids["flying"]].payload == {"p": {"text": "Oud, nu onderweg"}}
    assert [row.id for row in claimed] == [ids["fresh"]]


# Family messages, whatever became of them ------------------------------------------------------
async def test_every_old_message_loses_its_contents_whatever_its_status(db: Database) -> None:
    async with db.transaction() as session:
        _sanne, family, marieke = await caseload(session)
        rows = [
            message(family, marieke, "Afgeleverd", at=OLD),
            message(family, marieke, "Bewaard voor de opening", at=OLD, status="held",
                    hold_until=NOW + timedelta(days=1)),
            message(family, marieke, "Wacht op een coach die de bot blokkeerde", at=OLD,
                    status="waiting"),
            message(family, marieke, "foto van de brief", at=OLD, kind="photo",
                    status="held", hold_until=NOW + timedelta(days=1)),
            message(family, marieke, "Nieuw", at=RECENT, status="held",
                    hold_until=NOW + timedelta(days=1)),
        ]
        session.add_all(rows)
        await session.flush()
        ids = [r.id for r in rows]
    async with db.transaction() as session:
        assert await privacy.purge_before(session, NOW - timedelta(days=DAYS), NOW) == 4
    async with db.transaction() as session:
        found = {r.id: r for r in await session.scalars(select(FamilyMessage))}
    after = [(found[i].body, found[i].chat_id, found[i].telegram_message_id, found[i].status)
             for i in ids]
    assert after[:4] == [(None, None, None, "delivered"), (None, None, None, "held"),
                         (None, None, None, "waiting"), (None, None, None, "held")]
    assert after[4][0] == "Nieuw" and after[4][1] == MARIEKE_CHAT
    # What the agenda needs stays: when it came, from which family, that it waits.
    assert all(found[i].received_at == OLD and found[i].family_id == family.id
               for i in ids[:4])


async def test_a_held_message_without_contents_is_still_counted_and_released(
        db: Database) -> None:
    release_at = NOW + timedelta(days=1)  # Tuesday 10:00, inside the coach's hours
    async with db.transaction() as session:
        sanne, family, marieke = await caseload(session)
        session.add_all([
            message(family, marieke, "Een oud bericht", at=OLD, status="held",
                    hold_until=release_at),
            message(family, marieke, None, at=OLD, kind="voice", status="held",
                    hold_until=release_at, urgent=True),
        ])
    await purge(db)
    async with db.transaction() as session:
        staff = await session.get(Staff, sanne.id)
        assert staff is not None
        snap = await snapshot(session, staff, NOW, "Europe/Amsterdam")
        assert [(h.alias, h.count, h.urgent) for h in snap.held] == [("Gezin J.", 2, 1)]
        bodies = [m.body for m in await session.scalars(select(FamilyMessage))]
        assert bodies == [None, None]
    async with db.transaction() as session:
        assert await release_held(session, release_at) == 2
    async with db.transaction() as session:
        statuses = [(m.status, m.delivered_at) for m in await session.scalars(
            select(FamilyMessage))]
        sends = (await session.scalars(select(Outbox).where(Outbox.status == "pending")
                                       .order_by(Outbox.id))).all()
        staff = await session.get(Staff, sanne.id)
        assert staff is not None
        snap = await snapshot(session, staff, release_at, "Europe/Amsterdam")
    assert statuses == [("delivered", release_at)] * 2
    texts = [row.payload["p"]["text"] for row in sends if row.payload is not None]
    assert all(row.chat_id == sanne.chat_id for row in sends)
    assert texts[0].startswith("📬 Bewaard buiten je bereikbaarheid: 2 berichten van Gezin J.")
    # The voice message is no longer there to copy: the coach reads so, not a broken copy.
    assert any(t.startswith("🆘 Gezin J. · Marieke (moeder)")
               and t.endswith("(Dit bericht is niet meer beschikbaar.)") for t in texts)
    assert not any(row.method == "copyMessage" for row in sends)
    assert not any("Een oud bericht" in t for t in texts)
    # Now they wait for the coach's answer, as any message that reached her.
    assert [(w.alias, w.count, w.urgent) for w in snap.waiting] == [("Gezin J.", 2, 1)]


# Requests for help ------------------------------------------------------------------------------
async def test_old_requests_for_help_go_handled_or_not(db: Database) -> None:
    async with db.transaction() as session:
        sanne, family, _marieke = await caseload(session)
        rows = {
            "old, open": HelpRequest(family_id=family.id, staff_id=sanne.id, asked_at=OLD),
            "old, handled": HelpRequest(family_id=family.id, staff_id=sanne.id, asked_at=OLD,
                                        handled_at=OLD + timedelta(hours=2)),
            "recent, handled": HelpRequest(family_id=family.id, staff_id=sanne.id,
                                           asked_at=RECENT, handled_at=RECENT),
            "recent, open": HelpRequest(family_id=family.id, staff_id=sanne.id,
                                        asked_at=NOW - timedelta(days=2)),
        }
        session.add_all(rows.values())
        await session.flush()
        names = {row.id: name for name, row in rows.items()}
    await purge(db)
    async with db.transaction() as session:
        left = sorted(names[i] for i in (await session.scalars(select(HelpRequest.id))).all())
    assert left == ["recent, handled", "recent, open"]
