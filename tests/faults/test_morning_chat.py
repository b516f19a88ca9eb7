"""A coach's chat at the opening of their window (issue 16, busiest morning): the agenda and
the digests of the families whose messages were held overnight go out at Telegram's pace of
about one a second. A family that writes then is not held up behind all of it: its message
goes before the other families' digests that have not begun and before the agenda, but never
into a digest (each family's digest stays in one piece, PRODUCT.md §2.3)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.simulator import LocalBotApi
from tests.e2e.conftest import AMS
from tests.faults.common import RunningClock, all_held, running_bot, seed_line, wait_until

NIGHT = datetime(2026, 11, 25, 7, 30, tzinfo=AMS)  # a Wednesday, before the 09:00 window
HELD = 3


async def test_a_message_at_the_opening_goes_between_digests_not_into_one(
        api: LocalBotApi, db_url: str, tmp_path: Path) -> None:
    line = await seed_line(db_url, api, [("Gezin J.", "Sanne", ["Marieke"]),
                                         ("Gezin K.", "Sanne", ["Kees"]),
                                         ("Gezin L.", "Sanne", ["Lotte"])], NIGHT)
    marieke, kees, lotte = line.member("Marieke"), line.member("Kees"), line.member("Lotte")
    sanne = line.coaches["Sanne"]
    clock = RunningClock(NIGHT)
    async with running_bot(api, db_url, tmp_path, clock):
        await api.idle()
        for n in range(HELD):
            kees.send_text(f"kees {n}")
            lotte.send_text(f"lotte {n}")
        await kees.wait_for(lambda m: "112" in m.text, timeout=20)  # held: the crisis lines
        await lotte.wait_for(lambda m: "112" in m.text, timeout=20)
        # Every overnight message handled (held), not only the first of each family: on a
        # loaded machine a third one was handled after 09:00 and went live (CI, aa7115d).
        await all_held(api, db_url, 2 * HELD)
        clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=AMS))
        await sanne.wait_for(lambda m: "Bewaard buiten je bereikbaarheid" in m.text, timeout=20)
        marieke.send_text("de deurwaarder staat voor de deur")
        await wait_until(lambda: any("agenda" in m.text for m in sanne.inbox()), 60,
                         "the agenda")
        await api.idle()

    seen = [m.text for m in sanne.inbox()]
    copy = next(i for i, text in enumerate(seen) if text.endswith("de deurwaarder staat voor "
                                                                   "de deur"))
    agenda = next(i for i, text in enumerate(seen) if "Je agenda voor" in text)
    assert copy < agenda, seen  # not behind everything that was queued at 09:00
    for alias, name in (("Gezin K.", "kees"), ("Gezin L.", "lotte")):
        title = next(i for i, text in enumerate(seen)
                     if "Bewaard buiten je bereikbaarheid" in text and alias in text)
        digest = [text.rsplit("\n", 1)[-1] for text in seen[title + 1:title + 1 + HELD]]
        assert digest == [f"{name} {n}" for n in range(HELD)], seen  # in one piece, in order


async def test_a_family_that_writes_at_the_opening_has_its_digest_go_first(
        api: LocalBotApi, db_url: str, tmp_path: Path) -> None:
    """Three families' messages were held overnight. While the first digest goes out, a
    member of the family whose digest is queued last writes: her family's digest goes next,
    before the one queued before it (which had not begun), then her new message; every digest
    in one piece. (Before, her message waited for the coach's whole morning, which went with
    the people, one a second, while other families' copies waited for a free lane.)"""
    line = await seed_line(db_url, api, [("Gezin J.", "Sanne", ["Marieke"]),
                                         ("Gezin K.", "Sanne", ["Kees"]),
                                         ("Gezin L.", "Sanne", ["Lotte"])], NIGHT)
    sanne = line.coaches["Sanne"]
    names = {"Gezin J.": "marieke", "Gezin K.": "kees", "Gezin L.": "lotte"}
    members = {name: line.member(name.capitalize()) for name in names.values()}
    clock = RunningClock(NIGHT)
    async with running_bot(api, db_url, tmp_path, clock):
        await api.idle()
        for n in range(HELD):
            for name, member in members.items():
                member.send_text(f"{name} {n}")
        for member in members.values():
            await member.wait_for(lambda m: "112" in m.text, timeout=20)  # held
        # Every one of them held before 09:00 (a third one went live after it in CI, 78e9a16).
        await all_held(api, db_url, 3 * HELD)
        clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=AMS))
        first = await sanne.wait_for(lambda m: "Bewaard buiten je bereikbaarheid" in m.text,
                                     timeout=20)
        titles = [alias for alias in names if alias in first.text]
        assert len(titles) == 1, first.text
        # The family whose digest was queued last (the digests go in the families' order).
        last = [alias for alias in names if alias not in titles][-1]
        members[names[last]].send_text(f"{names[last]} nu")
        await wait_until(lambda: sum("Bewaard buiten je bereikbaarheid" in m.text
                                     for m in sanne.inbox()) == 3, 60, "all three digests")
        await api.idle()

    seen = [m.text for m in sanne.inbox()]
    order = [alias for text in seen if "Bewaard buiten je bereikbaarheid" in text
             for alias in names if alias in text]
    assert order[0] == titles[0] and order[1] == last, order  # it went before the other one
    for alias, name in names.items():
        title = next(i for i, text in enumerate(seen)
                     if "Bewaard buiten je bereikbaarheid" in text and alias in text)
        digest = [text.rsplit("\n", 1)[-1] for text in seen[title + 1:title + 1 + HELD]]
        assert digest == [f"{name} {n}" for n in range(HELD)], seen  # in one piece, in order
    after = next(i for i, text in enumerate(seen)
                 if "Bewaard buiten je bereikbaarheid" in text and last in text) + 1 + HELD
    assert seen[after].endswith(f"{names[last]} nu"), seen  # then her new message
