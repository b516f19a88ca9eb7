"""The Bot API client's hot path stays out of the import system. httpcore asks which async
library runs (`current_async_library`) on every connection-pool event, by importing sniffio;
without sniffio installed (anyio 4.11 stopped bringing it) each ask searched the whole path
for it, a failed import twice or more per Bot API call: 5 % of the bot's busy time in a relay
burst (bench/README.md). sniffio is a dependency of the bot for that reason."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

from httpcore._synchronization import AsyncEvent


class _Searches:
    """A finder first on the meta path: it sees every module the import system has to look
    for (one already imported never reaches it), and finds nothing."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        self.names.append(name)
        return None


async def test_a_pool_event_imports_nothing() -> None:
    AsyncEvent().set()  # (the first may import what it needs once)
    searches = _Searches()
    sys.meta_path.insert(0, searches)
    try:
        for _ in range(3):
            AsyncEvent().set()  # what every request does, through current_async_library
    finally:
        sys.meta_path.remove(searches)
    assert searches.names == []
