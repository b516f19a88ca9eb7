"""The longer SIGKILL soak (not part of `make test`): many more kill points, drawn with a seed,
plus kills at random moments, on SQLite and (when GEZINSLIJN_TEST_POSTGRES_URL is set)
PostgreSQL. The same checks as tests/faults/test_sigkill.py.

    python -m tests.faults.soak [--seed N] [--rounds R] [--relay 40] [--hold 12] [--timers 10]
                                [--backend sqlite|postgresql|both]

Each round uses seed, seed+1, …; a failing round prints its seed, and the same seed draws the
same points again. Exit status 0 when every round passed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bot.simulator import LocalBotApi
from tests.conftest import POSTGRES_URL, _create_pg_database, _drop_pg_database
from tests.e2e.conftest import FACTS
from tests.faults.kills import KillRun, soak_plan


async def one_round(seed: int, backend: str, args: argparse.Namespace) -> bool:
    plan = soak_plan(seed, relay=args.relay, hold=args.hold, timer_kills=args.timers)
    with tempfile.TemporaryDirectory(prefix="gezinslijn-soak-") as folder:
        tmp_path = Path(folder)
        url = (f"sqlite:///{tmp_path / 'soak.db'}" if backend == "sqlite"
               else await _create_pg_database())
        api = LocalBotApi(facts=FACTS)
        await api.start()
        run = KillRun(api, url, tmp_path, plan, strict=False)
        began = time.monotonic()
        try:
            report = await run.run()
            assert not api.violations, f"calls Telegram would refuse: {api.violations}"
        except AssertionError as failure:
            print(f"[{backend} seed {seed}] FAILED after {time.monotonic() - began:.0f}s: "
                  f"{failure}", flush=True)
            return False
        finally:
            await run.bots.stop_all()
            await api.stop()
            if backend != "sqlite":
                await _drop_pg_database(url)
    print(f"[{backend} seed {seed}] {report.summary()}", flush=True)
    return True


async def main(args: argparse.Namespace) -> int:
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not POSTGRES_URL:
        print("PostgreSQL skipped: set GEZINSLIJN_TEST_POSTGRES_URL", flush=True)
        backends.remove("postgresql")
    results = [await one_round(args.seed + n, backend, args)
               for n in range(args.rounds) for backend in backends]
    print(f"{sum(results)} of {len(results)} rounds passed")
    return 0 if all(results) else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "1")))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--relay", type=int, default=40, help="relay kill points per round")
    parser.add_argument("--hold", type=int, default=12, help="hold kill points per round")
    parser.add_argument("--timers", type=int, default=10,
                        help="kills at a random moment per round")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
