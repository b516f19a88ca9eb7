"""The garbage collector and a bot that runs for months.

A full collection looks at every object that survived the ones before it: the modules, the
translations, the crisis services, the scheduler, the pools; tens of thousands of objects
that live as long as the process. Each full pass held the event loop up to 0.22 s in a
region's busiest hour, while families' messages waited (bench/README.md). Once start-up is
done those objects are frozen out of the collector's sight (`gc.freeze`, made for this), so a
full pass looks only at what the bot made since. Unfrozen again when the bot stops: a process
that starts another bot (the tests) must be able to collect the first one's cycles."""

from __future__ import annotations

import gc


def settle() -> None:
    """After start-up: collect what start-up left behind, then freeze what stays."""
    gc.collect()
    gc.freeze()


def release() -> None:
    """When stopping: the frozen objects are the collector's again."""
    gc.unfreeze()
