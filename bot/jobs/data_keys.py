"""At start-up: every family has its own data key, and no key outlives its family.

A family from before data keys (or one whose key was never made) gets one, and all its rows are
sealed with it. A key no family uses any more (an erasure whose process ended between its commit
and the key's destruction; a family whose creation rolled back) is destroyed."""

from __future__ import annotations

import logging

from storage.db import Database
from storage.repos import family_keys

log = logging.getLogger(__name__)


async def keep_family_keys(db: Database) -> None:
    async with db.transaction() as session:
        unkeyed = await family_keys.families_without_key(session)
        if unkeyed:
            await family_keys.rekey_many(session, unkeyed)
        live = await family_keys.live_key_ids(session)
    if unkeyed:
        log.info("gave %s families their own data key", len(unkeyed))
    collected = await db.keystore.collect_orphans(live)
    if collected:
        log.info("destroyed %s data keys no family uses", collected)
