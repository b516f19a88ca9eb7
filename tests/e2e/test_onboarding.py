"""PRODUCT.md §2.1 end to end: invites, language, consent, refusals, strangers, groups, menus."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy import select

from handlers.onboarding import CONSENT_VERSION
from storage.models import FamilyMessage, InboundUpdate, Invite, Member, PendingInput, Staff
from tests.e2e.conftest import (
    LINK,
    WEDNESDAY_MORNING,
    Harness,
    count_rows,
    move_clock,
    relayed,
    since,
)

REFUSAL = "Deze link werkt niet (meer)"


async def _people_rows(harness: Harness) -> tuple[int, int]:
    return await count_rows(harness, Member), await count_rows(harness, Staff)


def _menu_of(harness: Harness, chat_id: int) -> list[str]:
    """The commands in the chat-scoped menu of this chat (setMyCommands with scope chat)."""
    for key, commands in harness.api.commands.items():
        scope = json.loads(key.split("|", 1)[0])
        if scope.get("type") == "chat" and int(scope.get("chat_id", 0)) == chat_id:
            return [str(c["command"]) for c in commands]
    raise AssertionError(f"no chat-scoped menu for {chat_id}: {list(harness.api.commands)}")


async def test_all_three_roles_onboard_and_consent_is_recorded(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()

    # Each joiner is welcomed; whoever invited them hears of it.
    assert any("Welkom, Carla" in m.text for m in carla.inbox())
    assert any("Sanne doet nu mee als coach" in m.text for m in carla.inbox())
    assert any("Welkom, Sanne" in m.text for m in sanne.inbox())
    assert any("Gezin J.: Marieke (moeder) doet nu mee" in m.text for m in sanne.inbox())
    welcome = next(m for m in marieke.inbox() if "Welkom, Marieke" in m.text)
    assert "Sanne" in welcome.text
    assert "🆘 Nu hulp nodig" in welcome.button_texts  # the help button stays on the keyboard

    async with harness.runtime.db.transaction() as session:
        staff = {s.chat_id: s for s in (await session.scalars(select(Staff))).all()}
        members = (await session.scalars(select(Member))).all()
        invites = (await session.scalars(select(Invite))).all()
    assert set(staff) == {carla.chat_id, sanne.chat_id}
    assert staff[carla.chat_id].is_coordinator and not staff[carla.chat_id].is_coach
    assert staff[sanne.chat_id].is_coach and not staff[sanne.chat_id].is_coordinator
    assert staff[sanne.chat_id].display_name == "Sanne"  # the Telegram first name
    assert len(members) == 1
    member = members[0]
    assert member.chat_id == marieke.chat_id
    assert (member.first_name, member.role) == ("Marieke", "moeder")
    assert member.consent_at == WEDNESDAY_MORNING
    assert member.consent_version == CONSENT_VERSION
    assert member.consent_language == "nl" and member.language == "nl"
    # Three invites, each used exactly once, each stored only as a hash.
    assert len(invites) == 3
    assert all(i.used_at == WEDNESDAY_MORNING for i in invites)
    assert all(len(i.token_hash) == 64 for i in invites)


async def test_second_member_named_by_the_coach_joins_in_arabic(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    first_links = [LINK.search(m.text) for m in sanne.inbox()]
    token = await harness.link_from(sanne, "/uitnodiging Gezin J. | Ahmed | vader")
    assert token not in {m.group(1) for m in first_links if m}
    ahmed = harness.api.user("أحمد", language_code="ar")  # his Telegram name is not used
    ahmed.send_text(f"/start {token}")
    choice = await ahmed.wait_for(lambda m: "العربية" in m.button_texts)
    ahmed.press("العربية", on=choice)
    consent = await ahmed.wait_for(lambda m: len(m.buttons) == 2)
    # Right-to-left text may open with a direction mark: the button is found by its ✅.
    ahmed.press(next(b for b in consent.button_texts if "✅" in b), on=consent)
    await ahmed.wait_for(lambda m: len(m.buttons) == 1, after=2)  # the 🆘 keyboard
    await harness.api.idle()

    async with harness.runtime.db.transaction() as session:
        row = await session.scalar(select(Member).where(Member.chat_id == ahmed.chat_id))
    assert row is not None
    assert (row.first_name, row.role, row.language, row.consent_language) == (
        "Ahmed", "vader", "ar", "ar")

    start = len(sanne.inbox())
    ahmed.send_text("مرحبا سانا، الرسالة وصلت")
    relayed = await sanne.wait_for(lambda m: "الرسالة وصلت" in m.text, after=start)
    assert relayed.text.startswith("Gezin J. · Ahmed (vader) · 10:00\n")
    assert "Marieke" not in relayed.text


async def test_used_expired_forged_and_malformed_tokens_are_refused(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    used = await harness.link_from(sanne, "/uitnodiging Gezin J. | Ahmed | vader")
    await harness.join(harness.api.user("Ahmed"), used)
    expiring = await harness.link_from(sanne, "/uitnodiging Gezin J.")
    forged = secrets.token_urlsafe(24)
    malformed = "abc<script>!!$$../../etc/passwd"

    before = await _people_rows(harness)
    invites_before = await count_rows(harness, Invite, Invite.used_at.is_(None))
    for label, token in [("used", used), ("forged", forged), ("malformed", malformed)]:
        person = harness.api.user(f"Eva-{label}")
        person.send_text(f"/start {token}")
        answer = await person.wait_for(lambda m: REFUSAL in m.text)
        assert "112" in answer.text
        assert "Gezin J." not in answer.text and "Sanne" not in answer.text, label
        assert not answer.buttons, label  # no language choice, no consent: nothing to tap

    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=8))
    late = harness.api.user("Eva-expired")
    late.send_text(f"/start {expiring}")
    answer = await late.wait_for(lambda m: REFUSAL in m.text)
    assert "Gezin J." not in answer.text and not answer.buttons
    await harness.api.idle()

    assert await _people_rows(harness) == before
    assert await count_rows(harness, Invite, Invite.used_at.is_(None)) == invites_before
    assert await count_rows(harness, PendingInput) == 0


async def test_token_that_expires_between_language_and_consent_is_refused(
        harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    token = await harness.link_from(sanne, "/uitnodiging Gezin J.")
    eva = harness.api.user("Eva")
    eva.send_text(f"/start {token}")
    choice = await eva.wait_for(lambda m: "🇳🇱 Nederlands" in m.button_texts)
    eva.press("🇳🇱 Nederlands", on=choice)
    consent = await eva.wait_for(lambda m: "✅ Ja, ik doe mee" in m.button_texts)
    before = await _people_rows(harness)

    await move_clock(harness, WEDNESDAY_MORNING + timedelta(days=7, minutes=1))
    eva.press("✅ Ja, ik doe mee", on=consent)
    await eva.wait_for(lambda m: REFUSAL in m.text)
    await harness.api.idle()
    assert await _people_rows(harness) == before


async def test_no_thanks_stores_nothing_and_the_link_still_works(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    token = await harness.link_from(sanne, "/uitnodiging Gezin J. | Eva | oma")
    eva = harness.api.user("Eva")
    before = await _people_rows(harness)

    eva.send_text(f"/start {token}")
    choice = await eva.wait_for(lambda m: "🇳🇱 Nederlands" in m.button_texts)
    eva.press("🇳🇱 Nederlands", on=choice)
    consent = await eva.wait_for(lambda m: "Nee, liever niet" in m.button_texts)
    # The explanation says who reads the messages and how to stop (PRODUCT.md §2.1).
    assert "Sanne" in consent.text and "/stoppen" in consent.text
    start = len(sanne.inbox())
    eva.press("Nee, liever niet", on=consent)
    await eva.wait_for(lambda m: "Er is niets bewaard" in m.text)
    await harness.api.idle()

    assert await _people_rows(harness) == before
    assert await count_rows(harness, Invite, Invite.used_at.is_not(None)) == 3
    assert not any("Eva" in m.text for m in since(sanne, start))

    # "Wil je later toch meedoen? Tik dan opnieuw op de link": the invite was not used up.
    await harness.join(eva, token)
    assert await count_rows(harness, Member, Member.chat_id == eva.chat_id) == 1


async def test_nothing_is_kept_or_passed_on_before_consent(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    token = await harness.link_from(sanne, "/uitnodiging Gezin J. | Eva | oma")
    eva = harness.api.user("Eva")
    eva.send_text(f"/start {token}")
    choice = await eva.wait_for(lambda m: "🇳🇱 Nederlands" in m.button_texts)
    eva.press("🇳🇱 Nederlands", on=choice)
    await eva.wait_for(lambda m: "✅ Ja, ik doe mee" in m.button_texts)
    start = len(sanne.inbox())
    before = await _people_rows(harness)

    eva.send_text("Hoi Sanne, ik ben het, Eva, over de afspraak van morgen")
    eva.send_photo(caption="de brief van de school")
    await eva.wait_for(lambda m: "alleen voor gezinnen" in m.text, after=2)
    await harness.api.idle()

    assert not any("Eva" in m.text or "afspraak van morgen" in m.text
                   for m in since(sanne, start))
    assert harness.api.calls_to("copyMessage") == []
    assert await _people_rows(harness) == before
    assert await count_rows(harness, FamilyMessage) == 0


async def test_a_stranger_gets_crisis_numbers_and_nothing_is_stored(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    start = len(sanne.inbox())
    stranger = harness.api.user("Onbekend")
    stranger.send_text("Hallo, mijn buurvrouw zei dat ik hier kon schrijven")
    answer = await stranger.wait_for(lambda m: "gezinscoach" in m.text)
    assert "112" in answer.text
    assert "113 Zelfmoordpreventie" in answer.text  # answers around the clock
    stranger.send_text("/start")
    stranger.send_photo()
    await harness.api.idle()

    chat = stranger.chat_id
    assert await count_rows(harness, Member, Member.chat_id == chat) == 0
    assert await count_rows(harness, Staff, Staff.chat_id == chat) == 0
    assert await count_rows(harness, PendingInput, PendingInput.chat_id == chat) == 0
    assert await count_rows(harness, InboundUpdate) == 0  # handled updates are deleted
    assert relayed(sanne, start) == []


async def test_the_bot_leaves_groups_and_relays_nothing_from_them(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    start = len(sanne.inbox())
    group = marieke.add_bot_to_group("Familie J.")
    await harness.api.wait_for_call(lambda c: c.method == "leaveChat")
    await harness.api.idle()

    assert group in harness.api.left_chats
    assert relayed(sanne, start) == []
    assert not [m for m in harness.api.messages if m.chat_id == group and m.from_bot]
    assert await count_rows(harness, FamilyMessage) == 0


async def test_each_person_gets_the_menu_of_their_role(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    await harness.api.idle()

    coordinator = _menu_of(harness, carla.chat_id)
    coach = _menu_of(harness, sanne.chat_id)
    member = _menu_of(harness, marieke.chat_id)
    assert "coachuitnodigen" in coordinator and "nieuwgezin" not in coordinator
    assert "nieuwgezin" in coach and "schrijf" in coach
    assert "coachuitnodigen" not in coach and "bereikbaar" not in coach
    assert "bereikbaar" in member and "hulp" in member
    assert not {"nieuwgezin", "schrijf", "coachuitnodigen", "bereikbaarheid"} & set(member)


async def test_english_aliases_work(harness: Harness) -> None:
    carla, sanne, _marieke = await harness.onboard()

    token = await harness.link_from(sanne, "/newfamily Gezin K.")
    created = next(m for m in reversed(sanne.inbox()) if token in m.text)
    assert "Gezin K. is aangemaakt" in created.text
    kees = harness.api.user("Kees")
    await harness.join(kees, token)
    assert await count_rows(harness, Member, Member.chat_id == kees.chat_id) == 1

    coach_token = await harness.link_from(carla, "/invitecoach")
    pieter = harness.api.user("Pieter")
    await harness.join(pieter, coach_token)
    async with harness.runtime.db.transaction() as session:
        row = await session.scalar(select(Staff).where(Staff.chat_id == pieter.chat_id))
    assert row is not None and row.is_coach


async def test_a_member_cannot_use_a_coach_command(harness: Harness) -> None:
    _carla, _sanne, marieke = await harness.onboard()
    start = len(marieke.inbox())
    marieke.send_text("/nieuwgezin Gezin X.")
    answer = await marieke.wait_for(lambda m: bool(m.text), after=start)
    assert answer.text.startswith("Deze opdracht is voor coaches.")
    assert not LINK.search(answer.text)


async def test_a_member_tapping_their_link_again_is_not_refused(harness: Harness) -> None:
    _carla, sanne, _marieke = await harness.onboard()
    token = await harness.link_from(sanne, "/uitnodiging Gezin J. | Eva | oma")
    eva = harness.api.user("Eva")
    eva.send_text(f"/start {token}")
    choice = await eva.wait_for(lambda m: "🇳🇱 Nederlands" in m.button_texts)
    eva.press("🇳🇱 Nederlands", on=choice)
    consent = await eva.wait_for(lambda m: "✅ Ja, ik doe mee" in m.button_texts)
    # A double tap on "Ja": two callback queries for the same button.
    eva.press("✅ Ja, ik doe mee", on=consent)
    eva.press_data(str(consent.buttons[0]["callback_data"]), on=consent)
    await eva.wait_for(lambda m: "Welkom, Eva" in m.text)
    await harness.api.idle()
    assert not any(REFUSAL in m.text for m in eva.inbox())
    assert await count_rows(harness, Member, Member.chat_id == eva.chat_id) == 1

    # Tapping the (now used) link in the chat with the coach again, days later.
    start = len(eva.inbox())
    eva.send_text(f"/start {token}")
    answer = await eva.wait_for(lambda m: bool(m.text), after=start)
    assert "Je doet al mee" in answer.text and REFUSAL not in answer.text
    await harness.api.idle()
    assert await count_rows(harness, Member, Member.chat_id == eva.chat_id) == 1
