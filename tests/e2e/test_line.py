"""PRODUCT.md §2.2 end to end: family ↔ coach messages, both ways, through the real stack."""

from __future__ import annotations

from bot.domain.relay import utf16_len
from bot.simulator import ChatMessage, LocalUser
from storage.models import FamilyMessage
from tests.e2e.conftest import (
    Harness,
    add_coach,
    count_rows,
    family_named,
    flag,
    relayed,
    reply_with,
    since,
)

HEADER = "Gezin J. · Marieke (moeder) · 10:00"
AHMED_INVITE = "/uitnodiging Gezin J. | Ahmed | vader"


async def _family_id(harness: Harness, alias: str = "Gezin J.") -> int:
    async with harness.runtime.db.transaction() as session:
        found = (await family_named(session, alias)).id
    assert found is not None
    return int(found)


async def _copy_of(coach: LocalUser, original: ChatMessage, after: int) -> ChatMessage:
    return await coach.wait_for(
        lambda m: m.copied_from == (original.chat_id, original.message_id), after=after)


async def test_every_kind_reaches_the_coach_as_a_copy_with_the_header(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()

    start = len(sanne.inbox())
    marieke.send_text("De brief van de woningbouw is gekomen")
    text = await sanne.wait_for(lambda m: "woningbouw" in m.text, after=start)
    assert text.text == f"{HEADER}\nDe brief van de woningbouw is gekomen"
    assert text.kind == "text"

    # Kinds with a caption: the header goes into the caption, above the family's own words.
    captioned = [
        (marieke.send_photo(caption="de brief"), f"{HEADER}\nde brief"),
        (marieke.send_photo(), HEADER),
        (marieke.send_voice(), HEADER),
        (marieke.send_document(file_name="aanmaning.pdf"), HEADER),
        (marieke.send_document(caption="de aanmaning"), f"{HEADER}\nde aanmaning"),
        (marieke.send_video(caption="de lekkage"), f"{HEADER}\nde lekkage"),
    ]
    for original, caption in captioned:
        copy = await _copy_of(sanne, original, start)
        assert copy.kind == original.kind
        assert copy.text == caption, original.kind

    # Kinds without a caption: the header line comes just before the copy.
    for original in (marieke.send_location(), marieke.send_contact(), marieke.send_sticker()):
        copy = await _copy_of(sanne, original, start)
        assert copy.kind == original.kind
        inbox = sanne.inbox()
        before = inbox[inbox.index(copy) - 1]
        assert before.text == HEADER and before.kind == "text", original.kind

    await harness.api.idle()
    # Copies only: neither side ever sees the other's Telegram account.
    assert harness.api.calls_to("forwardMessage") == []
    assert harness.api.calls_to("forwardMessages") == []
    for message in sanne.inbox() + marieke.inbox():
        assert "forward_origin" not in message.payload
    assert await count_rows(harness, FamilyMessage) == 10


async def test_coach_replies_of_every_kind_reach_the_member_who_wrote(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    start = len(sanne.inbox())
    marieke.send_text("Kun je naar de brief kijken?")
    question = await sanne.wait_for(lambda m: "naar de brief" in m.text, after=start)
    photo = marieke.send_photo(caption="deze")
    photo_copy = await _copy_of(sanne, photo, start)
    marieke.send_sticker()
    sticker_header = await sanne.wait_for(lambda m: m.text == HEADER, after=start)
    await harness.api.idle()

    begin = len(marieke.inbox())
    sanne.send_text("Ja, ik kijk er vandaag naar", reply_to=question)
    answer = await marieke.wait_for(lambda m: "ik kijk er vandaag" in m.text, after=begin)
    assert answer.text == "Sanne\nJa, ik kijk er vandaag naar"

    # A reply on the photo's copy and on the header line of a sticker works the same.
    media = [
        reply_with(sanne, "photo", photo_copy, caption="zo vul je hem in"),
        reply_with(sanne, "voice", question),
        reply_with(sanne, "document", sticker_header),
    ]
    for original in media:
        copy = await marieke.wait_for(
            lambda m, o=original: m.copied_from == (o.chat_id, o.message_id), after=begin)
        assert copy.kind == original.kind
        assert copy.text.split("\n")[0] == "Sanne"
    assert any(m.text == "Sanne\nzo vul je hem in" for m in since(marieke, begin))
    # A sticker carries no caption: the line before it says who sends it, never a bare name.
    sticker = reply_with(sanne, "sticker", question)
    copy = await marieke.wait_for(lambda m: m.copied_from == (sticker.chat_id,
                                                              sticker.message_id), after=begin)
    inbox = marieke.inbox()
    assert inbox[inbox.index(copy) - 1].text == "Sanne stuurt:"

    await harness.api.idle()
    assert harness.api.calls_to("forwardMessage") == []
    # The coach sees the answer went: a 👌 on each of her messages.
    reacted = {r["message_id"] for r in harness.api.reactions if r["chat_id"] == sanne.chat_id}
    assert {m.message_id for m in media} <= reacted
    assert not any("brief" in m.text for m in since(marieke, begin))  # nothing echoed back


async def test_a_reply_reaches_only_the_member_who_wrote(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    ahmed = harness.api.user("Ahmed")
    await harness.join(ahmed, await harness.link_from(sanne, AHMED_INVITE))
    start = len(sanne.inbox())
    marieke.send_text("Bericht van Marieke")
    ahmed.send_text("Bericht van Ahmed")
    from_ahmed = await sanne.wait_for(lambda m: "Bericht van Ahmed" in m.text, after=start)
    from_marieke = await sanne.wait_for(lambda m: "Bericht van Marieke" in m.text, after=start)
    assert from_ahmed.text.startswith("Gezin J. · Ahmed (vader) · 10:00\n")
    await harness.api.idle()

    m_start, a_start = len(marieke.inbox()), len(ahmed.inbox())
    sanne.send_text("Voor Ahmed alleen", reply_to=from_ahmed)
    await ahmed.wait_for(lambda m: m.text == "Sanne\nVoor Ahmed alleen", after=a_start)
    sanne.send_text("Voor Marieke alleen", reply_to=from_marieke)
    await marieke.wait_for(lambda m: m.text == "Sanne\nVoor Marieke alleen", after=m_start)
    await harness.api.idle()
    assert not any("Ahmed alleen" in m.text for m in since(marieke, m_start))
    assert not any("Marieke alleen" in m.text for m in since(ahmed, a_start))


async def test_schrijf_reaches_every_linked_member(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    ahmed = harness.api.user("Ahmed")
    await harness.join(ahmed, await harness.link_from(sanne, AHMED_INVITE))

    start = len(sanne.inbox())
    sanne.send_text("/schrijf gezin j")  # case-insensitive prefix
    await sanne.wait_for(lambda m: "Je volgende bericht gaat naar Gezin J." in m.text,
                         after=start)
    m_start, a_start = len(marieke.inbox()), len(ahmed.inbox())
    sanne.send_text("Morgen is de school dicht")
    for person, begin in ((marieke, m_start), (ahmed, a_start)):
        await person.wait_for(lambda m: m.text == "Sanne\nMorgen is de school dicht",
                              after=begin)

    # Without an alias the bot asks with buttons; the choice then works the same.
    start = len(sanne.inbox())
    sanne.send_text("/schrijf")
    question = await sanne.wait_for(lambda m: "Gezin J." in m.button_texts, after=start)
    sanne.press("Gezin J.", on=question)
    await sanne.wait_for(lambda m: "Je volgende bericht gaat naar" in m.text, after=start)
    m_start, a_start = len(marieke.inbox()), len(ahmed.inbox())
    sanne.send_photo(caption="het rooster")
    for person, begin in ((marieke, m_start), (ahmed, a_start)):
        copy = await person.wait_for(lambda m: m.kind == "photo", after=begin)
        assert copy.text == "Sanne\nhet rooster"
    # One message per /schrijf: the next one is not sent on without asking.
    await harness.api.idle()
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sanne.send_text("Nog iets")
    await sanne.wait_for(lambda m: m.text.startswith("Stuur naar Gezin J.?"), after=start)
    await harness.api.idle()
    assert not any("Nog iets" in m.text for m in since(marieke, m_start))


async def test_a_message_without_reply_asks_for_which_family(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    await harness.link_from(sanne, "/nieuwgezin Gezin K.")
    start, m_start = len(sanne.inbox()), len(marieke.inbox())
    sent = sanne.send_text("Denk aan de tandarts vrijdag")
    question = await sanne.wait_for(lambda m: "Voor welk gezin" in m.text, after=start)
    assert question.button_texts == ["Gezin J.", "Gezin K.", "✖ Annuleren"]
    assert question.reply_to_message_id == sent.message_id
    await harness.api.idle()
    assert not any("tandarts" in m.text for m in since(marieke, m_start))

    # The family tapped, it asks once more (tests/e2e/test_guidance.py); only then it goes.
    sanne.press("Gezin J.", on=question)
    check = await sanne.wait_for(lambda m: m.text.startswith("Stuur naar Gezin J.?"),
                                 after=start)
    assert not question.buttons  # the choice cannot be made twice
    sanne.press("📨 Stuur naar Gezin J.", on=check)
    copy = await marieke.wait_for(lambda m: "tandarts" in m.text, after=m_start)
    assert copy.text == "Sanne\nDenk aan de tandarts vrijdag"
    await sanne.wait_for(lambda m: m.text == "Verstuurd naar Gezin J. ✓")


async def test_a_duo_both_receive_and_either_answers(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    m_start = len(marieke.inbox())
    sanne.send_text("/duo Gezin J. | Pieter")
    check = await sanne.wait_for(lambda m: "Klopt dit?" in m.text)
    sanne.press("✅ Klopt, opslaan", on=check)  # one look first (issue 14)
    await sanne.wait_for(lambda m: m.text == "Pieter is nu ook coach van Gezin J.")
    await pieter.wait_for(lambda m: "Je bent nu ook coach van Gezin J., samen met Sanne"
                          in m.text)
    told = await marieke.wait_for(lambda m: "Pieter is nu ook je gezinscoach" in m.text,
                                  after=m_start)
    assert "allebei" in told.text

    s_start, p_start, m_start = len(sanne.inbox()), len(pieter.inbox()), len(marieke.inbox())
    marieke.send_text("Wie komt er donderdag?")
    to_sanne = await sanne.wait_for(lambda m: "donderdag" in m.text, after=s_start)
    to_pieter = await pieter.wait_for(lambda m: "donderdag" in m.text, after=p_start)
    assert to_sanne.text == to_pieter.text == f"{HEADER}\nWie komt er donderdag?"
    await marieke.wait_for(lambda m: m.text == "Doorgestuurd naar Sanne en Pieter ✓",
                           after=m_start)

    pieter.send_text("Ik kom donderdag", reply_to=to_pieter)
    await marieke.wait_for(lambda m: m.text == "Pieter\nIk kom donderdag", after=m_start)
    sanne.send_text("Pieter komt, ik bel vrijdag", reply_to=to_sanne)
    await marieke.wait_for(lambda m: m.text == "Sanne\nPieter komt, ik bel vrijdag",
                           after=m_start)


async def test_a_long_message_arrives_whole_in_pieces(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    words = [f"woord{i:04d}" for i in range(600)]
    long_text = " ".join(words)[:4999] + "."
    long_text = long_text + "x" * (5000 - len(long_text))
    assert len(long_text) == 5000
    start = len(sanne.inbox())
    marieke.send_text(long_text)
    await marieke.wait_for(lambda m: "Doorgestuurd naar Sanne" in m.text)
    await harness.api.idle()

    pieces = [m for m in since(sanne, start) if m.text.startswith("Gezin J. · Marieke")]
    assert len(pieces) >= 2
    assert all(utf16_len(p.text) <= 4096 for p in pieces)
    heads = [p.text.split("\n", 1)[0] for p in pieces]
    assert heads == [f"{HEADER} ({n}/{len(pieces)})" for n in range(1, len(pieces) + 1)]
    assert "".join(p.text.split("\n", 1)[1] for p in pieces) == long_text
    # Each piece answers with *reply* like any other.
    m_start = len(marieke.inbox())
    sanne.send_text("Gelezen, dank je", reply_to=pieces[-1])
    await marieke.wait_for(lambda m: m.text == "Sanne\nGelezen, dank je", after=m_start)


async def test_a_long_caption_is_split_not_cut(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    caption = " ".join(f"regel{i}" for i in range(1000, 1130))  # > 1024 with the header
    assert len(caption) > 1024
    start = len(sanne.inbox())
    photo = marieke.send_photo(caption=caption)
    copy = await _copy_of(sanne, photo, start)
    assert copy.text == HEADER
    rest = await sanne.wait_for(lambda m: "regel1000" in m.text, after=start)
    assert rest.text == f"{HEADER}\n{caption}"
    # A reply on the overflow text still reaches Marieke.
    m_start = len(marieke.inbox())
    sanne.send_text("Dank je, gelezen", reply_to=rest)
    await marieke.wait_for(lambda m: m.text == "Sanne\nDank je, gelezen", after=m_start)


async def test_polls_and_dice_get_a_polite_answer_and_reach_nobody(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    start = len(sanne.inbox())
    for send in (marieke.send_poll, marieke.send_dice):
        begin = len(marieke.inbox())
        send()
        answer = await marieke.wait_for(lambda m: bool(m.text), after=begin)
        assert "kan ik niet doorsturen" in answer.text
    await harness.api.idle()
    assert relayed(sanne, start) == []
    assert harness.api.calls_to("copyMessage") == []
    assert await count_rows(harness, FamilyMessage) == 0


async def test_receipts_one_per_burst_and_quiet_copies(harness: Harness) -> None:
    _carla, sanne, marieke = await harness.onboard()
    calls_start = len(harness.api.calls)
    m_start, s_start = len(marieke.inbox()), len(sanne.inbox())
    first = marieke.send_text("bericht 0")
    receipt = await marieke.wait_for(lambda m: "Doorgestuurd" in m.text, after=m_start)
    assert receipt.text == "Doorgestuurd naar Sanne ✓"
    sent = [first] + [marieke.send_text(f"bericht {n}") for n in range(1, 10)]
    await sanne.wait_for(lambda m: m.text.endswith("bericht 9"), after=s_start)
    await harness.api.idle()

    receipts = [m for m in since(marieke, m_start) if "Doorgestuurd" in m.text]
    assert len(receipts) == 1
    reacted = {r["message_id"] for r in harness.api.reactions
               if r["chat_id"] == marieke.chat_id}
    assert reacted == {m.message_id for m in sent[1:]}

    copies = [c for c in harness.api.calls[calls_start:]
              if c.method == "sendMessage" and c.ok
              and int(c.params["chat_id"]) == sanne.chat_id]
    assert [c.params["text"].rsplit("\n", 1)[-1] for c in copies] == [
        f"bericht {n}" for n in range(10)]
    assert not flag(copies[0].params.get("disable_notification"))
    assert all(flag(c.params.get("disable_notification")) for c in copies[1:])


async def test_forged_or_foreign_buttons_deliver_nothing(harness: Harness) -> None:
    carla, sanne, marieke = await harness.onboard()
    pieter = await add_coach(harness, carla, "Pieter")
    family_id = await _family_id(harness)
    start = len(sanne.inbox())
    sent = sanne.send_text("Alleen voor Gezin J. bedoeld")
    question = await sanne.wait_for(lambda m: m.text.startswith("Stuur naar Gezin J.?"),
                                    after=start)
    m_start = len(marieke.inbox())

    # A modified client sends made-up data for a real family and message.
    for action in ("send", "sendok"):
        sanne.press_data(f"{action}|{family_id}|{sent.message_id}|forgedsig", on=question)
    # Pieter, not Gezin J.'s coach, sends data signed for his own chat.
    p_start = len(pieter.inbox())
    own = pieter.send_text("Iets van Pieter")
    p_question = await pieter.wait_for(lambda m: bool(m.text), after=p_start)
    for action in ("send", "sendok"):
        signed = harness.runtime.services.signer.sign(pieter.chat_id, action, family_id,
                                                      own.message_id)
        pieter.press_data(signed, on=p_question)
    # And a button from Sanne's chat replayed in Pieter's.
    replay = question.buttons[0]["callback_data"]
    pieter.press_data(str(replay), on=p_question)
    await harness.api.idle()

    assert relayed(marieke, m_start) == []
    assert question.buttons  # Sanne's real question still stands
    # A reply on something that is not a relayed family message goes nowhere either.
    pieter.send_text("Antwoord", reply_to=own)
    await harness.api.idle()
    assert relayed(marieke, m_start) == []


async def test_a_quick_reply_to_a_copy_not_yet_recorded_still_reaches_the_family(
        harness: Harness) -> None:
    """The coach can answer a copy the moment it arrives, before the bot has Telegram's answer
    to its send (and so the link from that copy to the family): the reply waits for the
    record instead of asking which family."""
    _carla, sanne, marieke = await harness.onboard()
    harness.api.faults.timeouts = 2  # the next sends arrive at once, answered 2 s later
    harness.api.faults.timeout_delay = 2.0
    s_start, m_start = len(sanne.inbox()), len(marieke.inbox())
    marieke.send_text("Kun je me vanmiddag bellen?")
    copy = await sanne.wait_for(lambda m: "bellen" in m.text, after=s_start)
    sanne.send_text("Ja, om drie uur", reply_to=copy)
    await marieke.wait_for(lambda m: m.text == "Sanne\nJa, om drie uur", after=m_start,
                           timeout=20)
    assert not any("Voor welk gezin" in m.text or m.text.startswith("Stuur naar")
                   for m in since(sanne, s_start))
