"""Values this process sealed or opened lately are opened again without Fernet
(storage/plain_memo.py), and give exactly what opening them would: nothing once their family's
key is destroyed, nothing once the master key that sealed them left the ring."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy.util import greenlet_spawn

from storage import crypto, keystore, sealing
from storage.db import Database
from storage.plain_memo import LONGEST, PlainMemo
from tests.conftest import TEST_KEY


@pytest.fixture
def decrypts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every Fernet decryption made (a family key's or the master ring's)."""
    made: list[str] = []
    fernet, ring = Fernet.decrypt, MultiFernet.decrypt

    def counted_fernet(self: Fernet, token: bytes | str, ttl: int | None = None) -> bytes:
        made.append("family")
        return fernet(self, token, ttl)

    def counted_ring(self: MultiFernet, msg: bytes | str, ttl: int | None = None) -> bytes:
        made.append("ring")
        return ring(self, msg, ttl)

    monkeypatch.setattr(Fernet, "decrypt", counted_fernet)
    monkeypatch.setattr(MultiFernet, "decrypt", counted_ring)
    yield made


async def test_a_value_sealed_or_opened_lately_opens_without_fernet_and_reads_the_same(
        db: Database, decrypts: list[str]) -> None:
    key_id = await db.keystore.create()
    token = sealing.seal(key_id, "Bel je me morgen? 🙏")
    assert sealing.open_token(token) == "Bel je me morgen? 🙏"
    assert decrypts == []  # sealed here: known

    sealing.memo.clear()  # as if sealed by another process: opened once, then known
    assert sealing.open_token(token) == "Bel je me morgen? 🙏"
    assert sealing.open_token(token) == "Bel je me morgen? 🙏"
    assert decrypts == ["family"]


async def test_nothing_is_read_from_the_memo_once_the_familys_key_is_destroyed(
        db: Database) -> None:
    key_id = await db.keystore.create()
    token = sealing.seal(key_id, "Marieke")
    assert sealing.open_token(token) == "Marieke"
    await db.keystore.destroy([key_id])  # the family erased
    assert len(sealing.memo) == 0
    assert sealing.open_token(token) == ""


async def test_a_key_no_longer_in_this_processs_cache_is_not_vouched_for_by_the_memo(
        db: Database, decrypts: list[str]) -> None:
    key_id = await db.keystore.create()
    token = sealing.seal(key_id, "Gezin Jansen")
    keystore._keys.pop(key_id)  # left the cache without a word (another store's destroy)
    using = sealing.use(db.keystore)
    try:  # fetched from the store (in SQLAlchemy's greenlet, as a query reads) and opened
        assert await greenlet_spawn(sealing.open_token, token) == "Gezin Jansen"
    finally:
        sealing.stop_using(using)
    assert decrypts == ["family"]


def test_the_master_ring_remembers_what_it_sealed_until_the_ring_changes(
        decrypts: list[str]) -> None:
    token = crypto.seal("✓ ontvangen")
    assert crypto.unseal(token) == "✓ ontvangen"
    assert decrypts == []
    other = crypto.new_key()
    try:
        crypto.configure([other])  # the old key left the ring: its values are unreadable
        assert crypto.unseal(token) == ""
        crypto.configure([other, TEST_KEY])
        assert crypto.unseal(token) == "✓ ontvangen"
        assert crypto.unseal(token) == "✓ ontvangen"
        assert decrypts == ["ring", "ring"]  # the one that failed, then once
    finally:
        crypto.configure([TEST_KEY])


def test_the_memo_is_bounded_and_lets_the_least_recently_used_go_first() -> None:
    memo = PlainMemo(size=2)
    memo.put("a", "1")
    memo.put("b", "2")
    assert memo.get("a") == "1"  # used: b is now the oldest
    memo.put("c", "3")
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == ("1", None, "3")
    memo.put("long", "x" * (LONGEST + 1))  # a long text: opened as before, not kept
    assert memo.get("long") is None and len(memo) == 2
