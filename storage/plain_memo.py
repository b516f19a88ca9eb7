"""The plain text of values this process sealed or opened lately, by their sealed form.

A relayed message's copy is sealed by its handler and opened again by the claim that sends it
moments later, and the writer's name, role and family alias are opened for every message they
send: six of the nine Fernet operations of a relayed message (bench/README.md). A sealed form
is unique (Fernet draws a fresh IV for every value), so its plain text here is what opening it
would give, as long as its key could still open it: the callers look that up before they use
a value from here, and destroying a key empties the memo.

In this process's memory only, never written anywhere; bounded, least recently used first out.
"""

from __future__ import annotations

# A relay burst's copies between their handler and their claim, and the names of the families
# writing meanwhile, with room to spare; a few MB at most (LONGEST).
SIZE = 4096
LONGEST = 1024  # longer values are rare (a long text): opened as before


class PlainMemo:
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._plain: dict[str, str] = {}

    def get(self, sealed: str) -> str | None:
        plain = self._plain.pop(sealed, None)
        if plain is not None:
            self._plain[sealed] = plain  # used last: out last
        return plain

    def put(self, sealed: str, plain: str) -> None:
        if len(plain) > LONGEST:
            return
        self._plain[sealed] = plain
        if len(self._plain) > self._size:
            del self._plain[next(iter(self._plain))]

    def clear(self) -> None:
        self._plain.clear()

    def __len__(self) -> int:
        return len(self._plain)
