"""PRODUCT.md §2.1 and §2.2 end to end: onboarding, the line both ways, refusals."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import Harness


async def test_three_roles_onboard_and_talk(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    start = len(sanne.inbox())
    marieke.send_text("Hallo Sanne, de brief van de woningbouw is gekomen")
    relayed = await sanne.wait_for(lambda m: "brief van de woningbouw" in m.text, after=start)
    assert relayed.text.startswith("Gezin J. · Marieke (moeder) · 10:")
    await marieke.wait_for(lambda m: "Doorgestuurd naar Sanne" in m.text)

    before = len(marieke.inbox())
    sanne.send_text("Ik kom morgen langs", reply_to=relayed)
    answer = await marieke.wait_for(lambda m: "morgen langs" in m.text, after=before)
    assert answer.text.startswith("Sanne\n")
    await asyncio.sleep(0)
