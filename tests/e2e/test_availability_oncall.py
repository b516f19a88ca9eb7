"""Policy oncall (PRODUCT.md §2.3): out of hours the on-duty team reads along, but only after
the family agreed, and it can answer; before that, nothing goes to the team."""

from __future__ import annotations

from datetime import datetime

from tests.e2e.conftest import AMS, Harness


async def test_oncall_only_after_the_family_agreed(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    team = harness.api.user("Crisisdienst")
    await harness.join(team, await harness.link_from(carla, "/dienstuitnodigen"))
    seen_family = len(marieke.inbox())
    sanne.send_text("/bereikbaarheid Gezin J. | ma-vr 09:00-17:00 | oncall")
    question = await marieke.wait_for(lambda m: "crisisdienst" in m.text and bool(m.buttons),
                                      after=seen_family)

    # Before the family says yes: out of hours nothing reaches the team.
    harness.clock.set(datetime(2026, 11, 25, 22, 0, tzinfo=AMS))
    marieke.send_text("eerste bericht in de nacht")
    await marieke.wait_for(lambda m: "112" in m.text, after=seen_family)
    await harness.settle()
    assert not [m for m in team.inbox() if "eerste bericht" in m.text]

    marieke.press("✅ Ja, dat mag", on=question)
    await sanne.wait_for(lambda m: "crisisdienst mag meelezen" in m.text)
    seen = len(marieke.inbox())
    harness.clock.set(datetime(2026, 11, 26, 22, 0, tzinfo=AMS))
    marieke.send_text("tweede bericht in de nacht")
    copy = await team.wait_for(lambda m: "tweede bericht" in m.text)
    answer = await marieke.wait_for(lambda m: "112" in m.text, after=seen)
    assert "crisisdienst" in answer.text.lower()
    assert not [m for m in sanne.inbox() if "tweede bericht" in m.text]  # the coach: tomorrow

    # The team can answer with reply; it reaches the family.
    seen = len(marieke.inbox())
    team.send_text("We bellen je zo.", reply_to=copy)
    await marieke.wait_for(lambda m: "We bellen je zo." in m.text, after=seen)
