"""Sends written as outbox rows without the ORM's unit of work (bot/outbox/outgoing.py write,
storage/repos/outbox.py add_pending_rows): in their order, a receipt waiting for its copy, every
payload sealed as a mapped row's is (the family's key when it has a family, the master key
ring when not), in one INSERT, the rows that wait for one of them too (on SQLite a large write
goes level by level); on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from bot.outbox import Link, Outgoing, write
from storage import keystore, sealing
from storage.db import OUTBOX_CHATS, Database
from storage.models import Family, Outbox
from tests.caseload import family_with_member
from tests.storage.statements import recorded

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
COACH = 300


async def test_a_copy_and_its_receipt_in_order_sealed_and_linked(db: Database) -> None:
    family_id, member_id = await family_with_member(db, NOW)
    out = Outgoing()
    link = Link(family_id, member_id, None)
    out.text(COACH, "Gezin J. · Marieke: ik kom later", purpose="relay", link=link)
    out.react(501, 77, after=out.last)
    out.text(COACH, "Goedemorgen Sanne, je agenda", purpose="agenda")
    async with db.transaction() as session:
        statements = await recorded(session)
        copy, receipt, agenda = await write(session, out.sends, NOW)
        assert session.info[OUTBOX_CHATS] == {COACH, 501}
    inserts = [s for s in statements if "INSERT INTO outbox" in s]
    # The rows and the receipt that waits for its copy in one statement (two for every
    # relayed message before, issue 16; on SQLite until the ids were given there too).
    assert len(inserts) == 1, inserts
    assert copy.id < receipt.id and agenda.id < receipt.id
    assert (receipt.waits_for, copy.waits_for, agenda.waits_for) == (copy.id, None, None)

    async with db.transaction() as session:
        raw = dict((await session.execute(text("SELECT id, payload FROM outbox"))).all())
        key_id = await session.scalar(select(Family.key_id).where(Family.id == family_id))
        stored = {row.id: row for row in await session.scalars(select(Outbox))}
    # The family's copy with the family's key (erasing the family shreds it); the receipt
    # and the coach's agenda, of no family, with the master key ring; never plain.
    assert key_id is not None and sealing.key_of(raw[copy.id]) == key_id
    assert sealing.key_of(raw[receipt.id]) is None and sealing.key_of(raw[agenda.id]) is None
    assert all("ik kom later" not in value and "agenda" not in value for value in raw.values())
    for row in (copy, receipt, agenda):
        found = stored[row.id]
        assert (found.payload, found.chat_id, found.purpose, found.status, found.attempts) \
            == (row.payload, row.chat_id, row.purpose, "pending", 0)
        assert (found.link_family_id, found.waits_for) == (row.link_family_id, row.waits_for)
    assert stored[copy.id].payload["p"]["text"].endswith("ik kom later")


async def test_a_morning_of_rows_is_one_insert_and_its_ids_keep_the_order_given(
        db: Database) -> None:
    """A lane goes by id: the rows of one write get ids that rise in the order given, however
    many go in one statement and whatever their chats (a coach's digest: its title, then its
    copies). 300 rows over 7 chats, as a morning writes them: one INSERT."""
    family_id, member_id = await family_with_member(db, NOW)
    out = Outgoing()
    for n in range(300):
        link = Link(family_id, member_id, None) if n % 3 == 0 else None
        out.text(COACH + n % 7, f"regel {n}", purpose="agenda" if n % 2 else "digest",
                 link=link)
    async with db.transaction() as session:
        statements = await recorded(session)
        rows = await write(session, out.sends, NOW)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1, len(inserts)
    ids = [row.id for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == 300
    async with db.transaction() as session:
        stored = {row.id: row for row in await session.scalars(select(Outbox))}
    # Each id is its own row's: the text given at that place, for that chat.
    assert [(stored[i].chat_id, stored[i].payload["p"]["text"]) for i in ids] == \
        [(COACH + n % 7, f"regel {n}") for n in range(300)]


async def test_rows_that_wait_get_their_ids_after_those_that_do_not(db: Database) -> None:
    """Ids rise level by level: first every row that waits for no row of the write, in the
    order given, then those waiting for one of them, then those waiting for those. So a row
    that waits never stands before a later row of its chat that does not: a crisis answer
    after a receipt in the family's chat goes without waiting for the coach's copy."""
    family_id, member_id = await family_with_member(db, NOW)
    link = Link(family_id, member_id, None)
    earlier = Outgoing()
    earlier.text(COACH + 2, "eerder", purpose="relay", link=link)
    async with db.transaction() as session:
        [before] = await write(session, earlier.sends, NOW)
    out = Outgoing()
    out.text(COACH, "kopie 1", purpose="relay", link=link)  # 0
    out.react(501, 77, after=0)  # 1: waits for 0
    out.text(501, "hulplijn", purpose="answer", link=link)  # 2
    out.text(COACH + 1, "kopie 2", purpose="relay", link=link)  # 3
    out.text(501, "doorgestuurd", purpose="receipt", after=1)  # 4: waits for 1
    out.react(502, 78, after=3)  # 5: waits for 3
    out.text(503, "na eerder", purpose="answer", after_row=before.id)  # 6: a row written before
    out.text(503, "na kopie 2", purpose="answer", after=3, after_row=before.id)  # 7: `after`
    async with db.transaction() as session:
        rows = await write(session, out.sends, NOW)
    ids = [row.id for row in rows]
    order = sorted(range(8), key=lambda n: ids[n])
    assert order == [0, 2, 3, 6, 1, 5, 7, 4], (order, ids)
    assert min(ids) > before.id
    assert [row.waits_for for row in rows] == \
        [None, ids[0], None, None, ids[1], ids[3], before.id, ids[3]]
    async with db.transaction() as session:
        stored = {row.id: row for row in await session.scalars(select(Outbox))}
    assert {i: (stored[i].chat_id, stored[i].waits_for, stored[i].status, stored[i].attempts)
            for i in ids} == {row.id: (row.chat_id, row.waits_for, "pending", 0)
                              for row in rows}
    assert stored[ids[2]].payload["p"]["text"] == "hulplijn"
    assert stored[ids[4]].payload["p"]["text"] == "doorgestuurd"
    assert stored[ids[0]].created_at == NOW and stored[ids[0]].due_at == rows[0].due_at


async def test_a_family_without_a_key_gets_one_and_its_rows_open_later(db: Database) -> None:
    async with db.transaction() as session:
        family = Family(alias="Gezin Zonder Sleutel", created_at=NOW)
        session.add(family)
        await session.flush()
        family_id = family.id
        await session.execute(text("UPDATE family SET key_id = NULL WHERE id = :id"),
                              {"id": family_id})
    out = Outgoing()
    out.text(COACH, "een bericht", purpose="relay", link=Link(family_id, None, None))
    async with db.transaction() as session:
        [row] = await write(session, out.sends, NOW)
    keystore.forget_cached()  # as a fresh process
    async with db.transaction() as session:
        key_id = await session.scalar(select(Family.key_id).where(Family.id == family_id))
        raw = await session.scalar(text("SELECT payload FROM outbox"))
        found = await session.get(Outbox, row.id)
    assert key_id is not None and sealing.key_of(raw) == key_id
    assert found is not None and found.payload == {"p": {"text": "een bericht"}}


async def test_nothing_to_write_writes_nothing(db: Database) -> None:
    async with db.transaction() as session:
        statements = await recorded(session)
        assert await write(session, [], NOW) == []
    assert statements == []


async def test_sqlite_never_gives_an_id_twice_after_rows_written_together(db: Database) -> None:
    """SQLite gives the ids of a write with waiting rows itself (storage/repos/outbox.py
    _insert_ranked_sqlite): they come after the largest id the outbox ever gave, and the next
    write's come after theirs, even once those rows are gone (a lane goes by id, and a record
    finds its row by it)."""
    family_id, member_id = await family_with_member(db, NOW)
    link = Link(family_id, member_id, None)
    first = Outgoing()
    first.text(COACH, "eerste", purpose="relay", link=link)
    async with db.transaction() as session:
        [before] = await write(session, first.sends, NOW)
        await session.execute(text("DELETE FROM outbox"))  # the largest id gone
    together = Outgoing()
    together.text(COACH, "kopie", purpose="relay", link=link)
    together.react(501, 77, after=0)
    async with db.transaction() as session:
        copy, receipt = await write(session, together.sends, NOW)
        await session.execute(text("DELETE FROM outbox"))
    assert before.id < copy.id < receipt.id and receipt.waits_for == copy.id
    after = Outgoing()
    after.text(COACH, "daarna", purpose="relay", link=link)
    async with db.transaction() as session:
        [later] = await write(session, after.sends, NOW)
    assert later.id > receipt.id


async def test_a_large_write_with_waiting_rows_keeps_its_order_and_links(db: Database) -> None:
    """More rows than SQLite's one statement takes (level by level there): the same ids'
    order and links as in one statement."""
    family_id, member_id = await family_with_member(db, NOW)
    link = Link(family_id, member_id, None)
    out = Outgoing()
    for n in range(40):
        out.text(COACH, f"kopie {n}", purpose="relay", link=link)
        out.react(501, n, after=out.last)
    async with db.transaction() as session:
        statements = await recorded(session)
        rows = await write(session, out.sends, NOW)
    inserts = [s for s in statements if "INSERT INTO outbox" in s]
    assert len(inserts) == (1 if db.dialect == "postgresql" else 2), len(inserts)
    copies, receipts = rows[0::2], rows[1::2]
    assert [r.waits_for for r in receipts] == [c.id for c in copies]
    assert max(c.id for c in copies) < min(r.id for r in receipts)
    assert [c.id for c in copies] == sorted(c.id for c in copies)
