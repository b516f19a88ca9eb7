"""Names that cannot disguise a header (issue 15, item 7): a Telegram first name with a
right-to-left override or zero-width characters, and an alias typed with them, are stored plain,
so the coach's header reads as it looks."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Family, Member
from storage.types import plain_name
from tests.e2e.conftest import Harness


def test_plain_name_table() -> None:
    cases = {
        "Ah\u202emed": "Ahmed",  # right-to-left override
        "Sa\u200bnne\u200d": "Sanne",  # zero-width space and joiner
        "\u2067Fatima\u2069": "Fatima",  # an isolate around the name
        "Gezin\u00a0 J.\n": "Gezin J.",  # a line break and odd spaces
        "Gezin El\u061c-Amrani": "Gezin El-Amrani",  # Arabic letter mark
        "مريم": "مريم",  # right-to-left letters themselves stay
        "Özdemir": "Özdemir",
    }
    for raw, plain in cases.items():
        assert plain_name(raw) == plain, raw


async def test_a_disguised_name_reaches_the_coach_plain(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    ahmed = harness.api.user("Ah\u202emed")
    await harness.join(ahmed, await harness.link_from(sanne, "/uitnodiging Gezin J."))
    start = len(sanne.inbox())
    ahmed.send_text("hallo")
    copy = await sanne.wait_for(lambda m: "hallo" in m.text, after=start)
    assert copy.text.startswith("Gezin J. · Ahmed · "), copy.text
    assert not any("\u202e" in m.text for m in sanne.inbox())

    await harness.link_from(sanne, "/nieuwgezin Gezin\u200b K\u202e.")
    async with harness.runtime.db.transaction() as session:
        aliases = set((await session.scalars(select(Family.alias))).all())
        names = set((await session.scalars(select(Member.first_name))).all())
    assert aliases == {"Gezin J.", "Gezin K."}
    assert "Ahmed" in names
