"""What follows a handler's writes to the outbox in its transaction, and several fetched updates
handled in one transaction.

`OutboxCommit` is the outbox's part of a transaction that handlers wrote rows in: before the
commit the copy to the coach is claimed and the records of sends made meanwhile go along
(Dispatcher.claim_written, Carrier); after it, the claimed rows go into their lanes and the
dispatcher is woken; after a rollback, the records go back to their lanes.

`Together`: in a burst, each fetched update's handler had a transaction of its own, with the
offset raised in it: a BEGIN, an UPDATE and a COMMIT (with its flush to disk) around every
message (issue 16). The intake now handles a few fetched updates in one transaction instead
(bot/outbox/intake.py `handle_fresh`): each handler's unit of work joins it (handlers/common
`work`), and the offset moves past them all in it. Nothing a handler does leaves the process
before that commit: what it sends is written to the outbox, and what follows the commit waits
for it. Should one of them fail, the transaction is rolled back whole and the updates are
handled one at a time, as before, each in its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from bot.outbox.dispatcher import Carrier
from bot.services import Services
from storage.db import Database, Session, Shared, shared_transaction
from storage.models import Outbox

AfterCommit = Callable[[], Awaitable[None]]


class OutboxCommit:
    """The outbox rows one transaction's units of work wrote, and what comes of them."""

    def __init__(self, svc: Services, carry_from_start: bool = True) -> None:
        self.svc = svc
        # Records of sends wait for an open carrier's commit: for one handler's transaction
        # (milliseconds), not for the whole of several handled together (a lane's next send
        # waited for them all); those take along the records waiting at their end only.
        self.carrier: Carrier | None = svc.dispatcher.carrier() \
            if svc.dispatcher is not None and carry_from_start else None
        self.rows: list[Outbox] = []
        self.sends = False  # a unit had something to send
        self.claimed: list[Outbox] = []
        self.after_commit: list[AfterCommit] = []

    def add(self, rows: Sequence[Outbox], sends: bool, after_commit: Sequence[AfterCommit]
            ) -> None:
        self.rows.extend(rows)
        self.sends = self.sends or sends
        self.after_commit.extend(after_commit)

    async def before_commit(self, session: Session, now: datetime) -> None:
        """At the transaction's end. Raises RecordsNotCarried when the records taken along
        failed in it (the transaction is lost then)."""
        dispatcher = self.svc.dispatcher
        if dispatcher is None or not self.rows:
            return
        # The copy to the coach, claimed here: one commit less per relayed message.
        self.claimed = await dispatcher.claim_written(session, self.rows, now)
        if self.carrier is None:
            self.carrier = dispatcher.carrier()
        if self.carrier is not None:
            # The records of sends waiting now go in this commit (one commit less a relayed
            # message in a burst: Dispatcher.carrier).
            await self.carrier.ride(session)

    def rolled_back(self) -> None:
        if self.carrier is not None:
            self.carrier.end(committed=False)

    async def committed(self, session: Session) -> None:
        if self.carrier is not None:
            self.carrier.end(committed=True)
        svc = self.svc
        if svc.dispatcher is not None:
            await svc.dispatcher.take_claimed(self.claimed, session)
        for step in self.after_commit:
            await step()
        if self.sends:  # new rows to send; nothing new to plan
            taken = {row.id for row in self.claimed}
            rows = self.rows
            # A row claimed with the row it waits for goes right after it (claim_written).
            new = {r.chat_id for r in rows if r.id not in taken and r.waits_for is None}
            svc.wake(plan=False, awaited={r.waits_for for r in rows
                                          if r.waits_for is not None and r.id not in taken},
                     claim=bool(new), chats=new)


class Together(Shared):
    """One transaction that several fetched updates' units of work join, in order, with the
    outbox rows they wrote (storage.db.Shared)."""

    def __init__(self, db: Database, session: Session, commit: OutboxCommit) -> None:
        super().__init__(db, session)
        self.commit = commit


def current(db: Database) -> Together | None:
    """The transaction a unit of work on `db` of the update being handled joins, if any."""
    shared = shared_transaction()
    return shared if isinstance(shared, Together) and shared.joins(db) else None
