"""What handlers and jobs share: settings, database, clock, signer, dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.callbacks import CallbackSigner
from bot.clock import Clock
from bot.settings import Settings
from storage.db import Database

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher


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

    def wake(self, plan: bool = True) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake(plan)
