"""Which chats got new outbox rows in this process, and when (in commits, not in time).

The dispatcher asks it before it claims a chat's next row after a send: when the claim that
took the row found nothing else waiting in its chat and no transaction of this process wrote
to that chat since, that claim would find nothing (a statement for every relayed message and
every receipt, issue 16). Rows from elsewhere (another instance, the admin command, a time
that passes) are found by the dispatcher's regular pass, as before.

Noted when the writing transaction has committed (storage.db.Database.transaction): a row
written before a claim but committed after it is noted after the claim's mark."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

# Chats remembered by their last write; an older write is known only as "at most then".
KEPT = 65536


class WriteLog:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._count = 0  # commits that wrote outbox rows
        # chat -> its last two such commits (the last may be the asker's own)
        self._last: OrderedDict[int, tuple[int, int]] = OrderedDict()
        self._forgotten = 0  # the latest commit of a chat no longer remembered

    def mark(self) -> int:
        """Now, to ask `written_since` about later."""
        return self._count

    def written_since(self, chat_id: int, mark: int, besides: int | None = None) -> bool:
        """A commit after `mark` (other than the commit `besides`) wrote a row for this chat,
        or may have (forgotten since)."""
        last, before = self._last.get(chat_id, (self._forgotten, self._forgotten))
        return (before if last == besides else last) > mark

    def note(self, chat_ids: Iterable[int]) -> int:
        """A transaction that wrote rows for these chats has committed: its number."""
        chats = frozenset(chat_ids)
        if not chats:
            return self._count
        self._count += 1
        for chat in chats:
            last, _ = self._last.get(chat, (self._forgotten, self._forgotten))
            self._last[chat] = (self._count, last)
            self._last.move_to_end(chat)
        while len(self._last) > self._kept:
            self._forgotten = max(self._forgotten, self._last.popitem(last=False)[1][0])
        return self._count
