"""The local Bot API server, driven over HTTP by the real python-telegram-bot (no mocks)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReactionTypeEmoji,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot.simulator import LocalBotApi, load_facts
from bot.simulator.formatting import EntityParseError, plain_text

FACTS = load_facts(Path(__file__).parent / "bot_api_facts.json")


def request(read_timeout: float = 5.0) -> HTTPXRequest:
    return HTTPXRequest(connection_pool_size=64, read_timeout=read_timeout, pool_timeout=5.0)


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    api = LocalBotApi(facts=FACTS)
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def bot(server: LocalBotApi) -> AsyncIterator[Bot]:
    async with Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=request(),
        get_updates_request=request(),
    ) as telegram_bot:
        yield telegram_bot


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"cb:{label}")] for label in labels]
    )


# Basics ------------------------------------------------------------------------------------------


async def test_get_me(bot: Bot, server: LocalBotApi) -> None:
    me = await bot.get_me()
    assert me.username == server.bot_username
    assert me.id == server.bot_id == 123456
    assert server.calls[-1].method == "getMe" and server.calls[-1].ok


async def test_a_sent_message_reaches_the_person(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("/start")
    sent = await bot.send_message(
        ann.chat_id,
        "Hallo <b>Ann</b> &amp; co",
        parse_mode="HTML",
        reply_markup=keyboard("Ja, ik doe mee", "Nee"),
    )
    assert sent.text == "Hallo Ann & co"
    assert sent.chat.id == ann.chat_id and sent.from_user is not None
    assert sent.from_user.id == server.bot_id
    assert sent.reply_markup == keyboard("Ja, ik doe mee", "Nee")
    message = await ann.next_message(timeout=1)
    assert message.from_bot and message.kind == "text" and message.text == "Hallo Ann & co"
    assert message.button_texts == ["Ja, ik doe mee", "Nee"]
    call = server.calls_to("sendMessage")[-1]
    assert call.params["chat_id"] == ann.chat_id  # decoded from the form post
    button = call.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"] == "cb:Ja, ik doe mee"
    assert server.violations == []


async def test_a_bot_cannot_start_a_conversation(bot: Bot, server: LocalBotApi) -> None:
    stranger = server.user("Bram")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(stranger.chat_id, "hoi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hoi")
    stranger.send_text("hallo")
    await bot.send_message(stranger.chat_id, "hoi")


async def test_texts_that_telegram_refuses(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("hoi")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ann.chat_id, "  <b></b> ", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ann.chat_id, "x" * 4097)
    await bot.send_message(ann.chat_id, "<i>" + "x" * 4096 + "</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ann.chat_id, "Gezin J. <3", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(ann.chat_id, "Gezin J. · 14:02", parse_mode="MarkdownV2")
    await bot.send_message(ann.chat_id, r"Gezin J\. · 14:02", parse_mode="MarkdownV2")
    assert [m.text for m in ann.inbox()][-1] == "Gezin J. · 14:02"
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            ann.chat_id,
            "kies",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("lang", callback_data="x" * 65)]]
            ),
        )


def test_formatting_is_parsed_as_telegram_does() -> None:
    assert plain_text('<a href="https://x.nl">site</a> &lt;3 &#128512;', "HTML") == "site <3 😀"
    assert plain_text("a & b > c", "HTML") == "a & b > c"  # a lone & or > is text
    assert (
        plain_text("*vet* _schuin_ __onder__ ||geheim|| [link](https://x.nl/a\\)b)", "MarkdownV2")
        == "vet schuin onder geheim link"
    )
    assert plain_text("`code.` ```python\nprint(1)```", "MarkdownV2") == "code. print(1)"
    assert plain_text(">citaat\n>meer", "MarkdownV2") == "citaat\nmeer"
    for text, mode in [
        ("<b>vet", "HTML"),
        ("<b>x</i>", "HTML"),
        ("<br>", "HTML"),
        ("*vet", "MarkdownV2"),
        ("1-2", "MarkdownV2"),
        ("(a)", "MarkdownV2"),
        ("_x", "Markdown"),
    ]:
        with pytest.raises(EntityParseError):
            plain_text(text, mode)


# Errors the way Telegram answers them ----------------------------------------------------------


async def test_an_unknown_method_is_not_found(bot: Bot, server: LocalBotApi) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    call = server.calls[-1]
    assert (call.method, call.ok, call.error_code, call.description) == (
        "sendTelepathy",
        False,
        404,
        "Not Found",
    )
    assert server.violations == ["unknown method sendTelepathy"]


async def test_method_names_are_case_insensitive(bot: Bot, server: LocalBotApi) -> None:
    result = await bot.do_api_request("GETME")
    assert result["username"] == server.bot_username
    assert server.calls[-1].method == "getMe"


@pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'")
async def test_a_missing_parameter_is_a_bad_request(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("hoi")
    with pytest.raises(BadRequest, match=r"(?i)parameter text is required"):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": ann.chat_id})
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter colour"):
        await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": ann.chat_id, "text": "x", "colour": "blue"}
        )
    assert server.violations == [
        "sendMessage: parameter text is required",
        "sendMessage: unknown parameter colour",
    ]
    assert ann.inbox() == []


@pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'")
async def test_without_facts_each_method_checks_its_own_parameters() -> None:
    async with LocalBotApi() as api, Bot(api.token, base_url=api.base_url) as plain_bot:
        with pytest.raises(BadRequest, match=r"(?i)parameter text is required"):
            await plain_bot.do_api_request("sendMessage", api_kwargs={"chat_id": 1})
        with pytest.raises(EndPointNotFound):
            await plain_bot.do_api_request("sendTelepathy")
        assert api.violations == []


async def test_a_wrong_token_is_unauthorized(server: LocalBotApi) -> None:
    with pytest.raises(InvalidToken):  # initializing asks getMe
        async with Bot("42:WRONG", base_url=server.base_url):
            pass
    assert server.calls[-1].error_code == 401


async def test_json_and_form_posts(server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("hoi")
    url = f"{server.base_url}{server.token}/sendMessage"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": ann.chat_id, "text": "json"}) as response:
            assert (await response.json())["result"]["text"] == "json"
        form = {
            "chat_id": str(ann.chat_id),
            "text": "form",
            "reply_markup": '{"inline_keyboard": [[{"text": "Ja", "callback_data": "j"}]]}',
        }
        async with session.post(url, data=form) as response:
            assert (await response.json())["result"]["reply_markup"]["inline_keyboard"]
        wrong = {"chat_id": ann.chat_id, "text": "x", "disable_notification": "true"}
        async with session.post(url, json=wrong) as response:
            body = await response.json()  # a JSON body carries booleans as booleans
            assert response.status == 400 and body["ok"] is False
            assert body["description"].startswith(
                "Bad Request: parameter disable_notification must be Boolean"
            )
    assert [m.text for m in ann.inbox()] == ["json", "form"]


# Blocked users and rate limits -------------------------------------------------------------------


async def test_a_blocked_user_is_forbidden(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("hoi")
    ann.block_bot()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(ann.chat_id, "hoi")
    ann.unblock_bot()
    await bot.send_message(ann.chat_id, "weer daar")
    statuses = [
        u.my_chat_member.new_chat_member.status for u in await bot.get_updates() if u.my_chat_member
    ]
    assert statuses == ["kicked", "member"]


async def test_429_with_retry_after(
    bot: Bot, server: LocalBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as a timedelta, no deprecation
    ann = server.user("Ann")
    ann.send_text("hoi")
    server.faults.retry_after = 3
    with pytest.raises(RetryAfter) as first:
        await bot.send_message(ann.chat_id, "een")
    assert first.value.retry_after == dt.timedelta(seconds=3)
    with pytest.raises(RetryAfter):  # too early: still inside the window
        await bot.send_message(ann.chat_id, "twee")
    assert (server.faults.seen_429, server.faults.early_retries) == (2, 1)
    server.faults.blocked_until = 0  # the window passes
    await bot.send_message(ann.chat_id, "drie")
    assert [m.text for m in ann.inbox()] == ["drie"]
    assert server.calls_to("sendMessage")[0].error_code == 429


async def test_server_errors_timeouts_and_dropped_connections(server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("hoi")
    async with Bot(server.token, base_url=server.base_url, request=request(0.5)) as quick:
        server.faults.server_errors = 1
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await quick.send_message(ann.chat_id, "502")
        server.faults.drop_connections = 1
        with pytest.raises(NetworkError):
            await quick.send_message(ann.chat_id, "dropped")
        server.faults.timeouts, server.faults.timeout_delay = 1, 1.0
        with pytest.raises(TimedOut):
            await quick.send_message(ann.chat_id, "late")
        await quick.send_message(ann.chat_id, "normal")
    # A timed-out send was delivered all the same; a failed or dropped one was not.
    assert [m.text for m in ann.inbox()] == ["late", "normal"]
    assert [c.error_code for c in server.calls_to("sendMessage")] == [502, 0, None, None]


async def test_an_outage_of_one_chat(bot: Bot, server: LocalBotApi) -> None:
    """Every send to that chat gets the 5xx until the time has passed; other chats, and calls
    that send nothing, go on as usual."""
    ann, bob = server.user("Ann"), server.user("Bob")
    ann.send_text("hoi")
    photo = bob.send_photo()
    server.faults.fail_chat(ann.chat_id, 0.6, code=503)
    until, _code = server.faults.chat_outages[ann.chat_id]
    for text in ("een", "twee"):
        with pytest.raises(NetworkError, match=r"(?i)Service Unavailable"):
            await bot.send_message(ann.chat_id, text)
    with pytest.raises(NetworkError, match=r"(?i)Service Unavailable"):
        await bot.copy_message(ann.chat_id, bob.chat_id, photo.message_id)
    await bot.send_message(bob.chat_id, "voor Bob")
    await bot.send_chat_action(ann.chat_id, "typing")  # not a send: no outage
    assert server.faults.outage_refusals == 3
    await asyncio.sleep(max(until - time.time(), 0) + 0.05)  # the outage is over
    await bot.send_message(ann.chat_id, "drie")
    assert [m.text for m in ann.inbox()] == ["drie"]
    assert [m.text for m in bob.inbox()] == ["voor Bob"]
    assert [c.error_code for c in server.calls_to("sendMessage")] == [503, 503, None, None]
    assert server.calls_to("copyMessage")[0].error_code == 503
    assert server.faults.outage_refusals == 3


async def test_many_concurrent_requests(bot: Bot, server: LocalBotApi) -> None:
    people = [server.user(f"P{i}") for i in range(5)]
    for person in people:
        person.send_text("hoi")
    await asyncio.gather(
        *(bot.send_message(p.chat_id, f"{p.first_name}-{n}") for p in people for n in range(20))
    )
    for person in people:
        inbox = person.inbox()
        assert sorted(m.message_id for m in inbox) == list(range(2, 22))
        assert {m.text for m in inbox} == {f"{person.first_name}-{n}" for n in range(20)}


# Updates -----------------------------------------------------------------------------------------


async def test_get_updates_confirms_by_offset(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    for text in ("een", "twee", "drie"):
        ann.send_text(text)
    assert server.pending_updates() == 3
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["een", "twee"]
    assert server.pending_updates() == 3  # handed out, not yet confirmed
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["drie"]
    assert server.pending_updates() == 1
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert server.pending_updates() == 0


async def test_a_long_poll_wakes_when_an_update_arrives(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    ann.send_text("hoi")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["hoi"]
    assert time.monotonic() - started < 2


async def test_a_second_long_poll_ends_the_first(bot: Bot, server: LocalBotApi) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert await second == ()


async def test_allowed_updates_are_remembered(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("hoi")
    sent = await bot.send_message(ann.chat_id, "kies", reply_markup=keyboard("Ja"))
    ann.press("Ja")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]
    ann.send_text("weer")  # not wanted: the remembered list still holds
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert sent.message_id == 2  # a private chat numbers both sides' messages together


async def test_a_webhook_excludes_polling(bot: Bot, server: LocalBotApi) -> None:
    await bot.set_webhook("https://example.invalid/hook")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Conflict):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


async def test_every_kind_of_message_parses_in_python_telegram_bot(
    bot: Bot, server: LocalBotApi
) -> None:
    ann = server.user("Ann")
    sent = [
        ann.send_text("hoi"),
        ann.send_photo("foto"),
        ann.send_voice(),
        ann.send_document("brief.pdf", "lees"),
        ann.send_video(),
        ann.send_audio(),
        ann.send_animation(),
        ann.send_sticker(),
        ann.send_video_note(),
        ann.send_location(),
        ann.send_venue(),
        ann.send_contact(),
        ann.send_poll(),
        ann.send_dice(),
        ann.send_raw(text="rauw"),
    ]
    ann.edit(sent[0], "hoi!")
    updates = await bot.get_updates()
    kinds = [m.kind for m in sent]
    assert kinds == [
        "text",
        "photo",
        "voice",
        "document",
        "video",
        "audio",
        "animation",
        "sticker",
        "video_note",
        "location",
        "venue",
        "contact",
        "poll",
        "dice",
        "text",
    ]
    assert all(isinstance(u, Update) for u in updates) and len(updates) == 16
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "hoi!"
    assert updates[1].message is not None and updates[1].message.caption == "foto"


# Buttons and callbacks ---------------------------------------------------------------------------


async def test_pressing_an_inline_button(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("/start")
    offset = (await bot.get_updates())[-1].update_id + 1
    sent = await bot.send_message(
        ann.chat_id, "Doe je mee?", reply_markup=keyboard("Ja, ik doe mee", "Nee")
    )
    ann.press("doe mee")  # a part of the text is enough
    (update,) = await bot.get_updates(offset=offset)
    query = update.callback_query
    assert query is not None and query.data == "cb:Ja, ik doe mee"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await query.answer("Dank je")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()
    assert server.callback_answers[-1]["text"] == "Dank je"
    # Editing without reply_markup takes the keyboard away: nothing left to press.
    await bot.edit_message_text("Fijn!", chat_id=ann.chat_id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Fijn!", chat_id=ann.chat_id, message_id=sent.message_id)
    with pytest.raises(AssertionError, match=r"(?i)no button like"):
        ann.press("Nee")
    ann.press_data("cb:forged", on=ann.inbox()[0])
    (forged,) = await bot.get_updates(offset=update.update_id + 1)
    assert forged.callback_query is not None and forged.callback_query.data == "cb:forged"


async def test_pressing_a_reply_keyboard_button_sends_its_text(
    bot: Bot, server: LocalBotApi
) -> None:
    ann = server.user("Ann")
    ann.send_text("/taal")
    await bot.send_message(
        ann.chat_id,
        "Welke taal?",
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("Nederlands"), KeyboardButton("English")]]
        ),
    )
    ann.press("English")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["/taal", "English"]
    await bot.send_message(ann.chat_id, "Goed", reply_markup=ReplyKeyboardRemove())
    with pytest.raises(AssertionError):
        ann.press("Nederlands")  # the keyboard is gone


# Files -------------------------------------------------------------------------------------------


async def test_a_multipart_upload_is_kept(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("/mijngegevens")
    content = b"naam;rol\nAnn;moeder\n"
    sent = await bot.send_document(
        ann.chat_id, document=content, filename="gegevens.csv", caption="Wat we over je bewaren"
    )
    upload = server.calls_to("sendDocument")[-1].params["document"]
    assert upload == {
        "uploaded": "gegevens.csv",
        "size": len(content),
        "content": content,
        "mime_type": "text/csv",
    }
    message = await ann.wait_for(lambda m: m.kind == "document")
    assert message.text == "Wat we over je bewaren"
    assert server.file_content(message) == content
    assert sent.document is not None
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content
    assert server.violations == []


async def test_copying_and_forwarding(bot: Bot, server: LocalBotApi) -> None:
    ann, sanne = server.user("Ann"), server.user("Sanne")
    sanne.send_text("/start")
    photo = ann.send_photo("brief van school")
    copied = await bot.copy_message(
        sanne.chat_id, ann.chat_id, photo.message_id, caption="Gezin J. · Ann (moeder) · 14:02"
    )
    copy = sanne.inbox()[-1]
    assert copy.message_id == copied.message_id and copy.kind == "photo"
    assert copy.copied_from == (ann.chat_id, photo.message_id)
    assert copy.text == "Gezin J. · Ann (moeder) · 14:02"
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.copy_message(sanne.chat_id, ann.chat_id, photo.message_id, caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(sanne.chat_id, ann.chat_id, 999)
    poll = ann.send_poll()
    with pytest.raises(BadRequest, match=r"(?i)message can't be copied"):
        await bot.copy_message(sanne.chat_id, ann.chat_id, poll.message_id)
    forwarded = await bot.forward_message(sanne.chat_id, ann.chat_id, photo.message_id)
    assert forwarded.forward_origin is not None and forwarded.photo


async def test_replies_need_the_replied_message(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    question = ann.send_text("Wanneer is de afspraak?")
    answer = await bot.send_message(
        ann.chat_id, "Dinsdag", reply_parameters=ReplyParameters(question.message_id)
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "Wanneer is de afspraak?"
    assert ann.inbox()[-1].reply_to_message_id == question.message_id
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(ann.chat_id, "x", reply_parameters=ReplyParameters(99))
    await bot.send_message(
        ann.chat_id, "toch", reply_parameters=ReplyParameters(99, allow_sending_without_reply=True)
    )
    assert ann.inbox()[-1].reply_to_message_id is None
    # A person's reply to a bot message carries the replied message.
    ann.send_text("Dank je", reply_to=ann.inbox()[0])
    update = (await bot.get_updates())[-1]
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == answer.message_id


# Commands, reactions, groups ---------------------------------------------------------------------


async def test_commands_are_kept_per_scope_and_language(bot: Bot, server: LocalBotApi) -> None:
    commands = [BotCommand("start", "Beginnen"), BotCommand("bereikbaar", "Wanneer bereikbaar")]
    await bot.set_my_commands(commands, language_code="nl")
    await bot.set_my_commands(commands[:1], scope=BotCommandScopeChat(100001))
    assert list(server.commands) == [
        '{"type": "default"}|nl',
        '{"chat_id": 100001, "type": "chat"}|',
    ]
    assert server.commands['{"type": "default"}|nl'][1] == {
        "command": "bereikbaar",
        "description": "Wanneer bereikbaar",
    }
    assert [c.command for c in await bot.get_my_commands(language_code="nl")] == [
        "start",
        "bereikbaar",
    ]
    await bot.delete_my_commands(language_code="nl")
    assert await bot.get_my_commands(language_code="nl") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("coördinator", "Niet toegestaan")])


async def test_reactions_are_recorded(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    message = ann.send_text("Ik ben er!")
    assert await bot.set_message_reaction(ann.chat_id, message.message_id, ReactionTypeEmoji("👍"))
    assert server.reactions[-1]["reaction"] == [{"type": "emoji", "emoji": "👍"}]
    with pytest.raises(BadRequest, match=r"(?i)REACTION_INVALID"):
        await bot.set_message_reaction(ann.chat_id, message.message_id, ReactionTypeEmoji("✅"))


async def test_the_bot_in_a_group(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    group_id = ann.add_bot_to_group("Familie J.")
    updates = await bot.get_updates()
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "member"
    assert updates[1].message is not None and updates[1].message.chat.id == group_id
    await bot.send_message(group_id, "Ik werk alleen in privéchats. Doei!")
    assert await bot.leave_chat(group_id)
    assert group_id in server.left_chats
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(group_id, "nog iets")


async def test_chat_info_actions_and_deleting(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    message = ann.send_text("hoi")
    chat = await bot.get_chat(ann.chat_id)
    assert chat.first_name == "Ann" and chat.type == "private"
    assert await bot.send_chat_action(ann.chat_id, "typing")
    assert await bot.delete_message(ann.chat_id, message.message_id)
    assert message.deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ann.chat_id, message.message_id)


# Waiting helpers and a whole Application ---------------------------------------------------------


async def test_waiting_reports_what_was_seen(bot: Bot, server: LocalBotApi) -> None:
    ann = server.user("Ann")
    ann.send_text("hoi")
    await bot.send_message(ann.chat_id, "Welkom")
    with pytest.raises(AssertionError, match=r"(?i)Welkom"):
        await ann.wait_for(lambda m: "Doei" in m.text, timeout=0.2)
    assert (await ann.wait_for(lambda m: "Welkom" in m.text)).message_id == 2
    with pytest.raises(AssertionError):
        await ann.wait_for(lambda m: True, timeout=0.1, after=1)
    call = await server.wait_for_call(lambda c: c.method == "sendMessage", timeout=0.1)
    assert call.ok


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Welkom! Doe je mee?", reply_markup=keyboard("Ja, ik doe mee")
    )


async def _consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text("Fijn dat je meedoet.")


async def test_an_application_runs_unchanged_against_the_server(server: LocalBotApi) -> None:
    application = (
        Application.builder()
        .token(server.token)
        .base_url(server.base_url)
        .request(request())
        .get_updates_request(request())
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_consent))
    ann = server.user("Ann")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        ann.send_text("/start")
        welcome = await ann.next_message()
        assert welcome.text == "Welkom! Doe je mee?"
        ann.press("Ja")
        await ann.wait_for(lambda m: m.text == "Fijn dat je meedoet." and not m.buttons)
        await server.idle()
        assert server.callback_answers and server.pending_updates() == 0
        await application.updater.stop()
        await application.stop()
    assert server.violations == [] and server.internal_errors == []
