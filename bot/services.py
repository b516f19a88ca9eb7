"""What handlers and jobs share: settings, database, clock, signer, dispatcher."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from bot.callbacks import CallbackSigner
from bot.clock import Clock
from bot.outbox.dispatcher import Dispatcher
from bot.settings import Settings
from storage.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    signer: CallbackSigner
    bot_username: str = ""
    dispatcher: Dispatcher | None = None
    # Strangers are answered at most once in a while; kept in memory only (nothing stored).
    stranger_answered: dict[int, float] = field(default_factory=dict)
    refusal_answered: dict[int, float] = field(default_factory=dict)  # links that do not work

    def wake(self, plan: bool = True, awaited: Iterable[int] = (), claim: bool = True,
             chats: Collection[int] | None = None) -> None:
        """`awaited`: outbox rows that rows just written wait for (a receipt for its copy);
        `claim=False`: what was written was claimed already (Dispatcher.claim_written);
        `chats`: the chats of what is to be claimed (Dispatcher.wake)."""
        if self.dispatcher is not None:
            self.dispatcher.wake(plan, awaited, claim, chats)
