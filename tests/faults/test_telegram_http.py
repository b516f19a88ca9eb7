"""The Bot API's HTTP client (bot/telegram_http.py) against the local Bot API server: what
python-telegram-bot's own client did, the dispatcher and the intake rely on. Sends and uploads
arrive; Telegram's refusals come back as python-telegram-bot's errors; a late answer is a
time-out, a connection that breaks or is refused a network error, neither of which carries the
token."""

from __future__ import annotations

import time

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.simulator import LocalBotApi
from bot.telegram_http import AiohttpRequest


def _bot(api: LocalBotApi, **timeouts: float) -> Bot:
    return Bot(api.token, base_url=api.base_url,
               request=AiohttpRequest(connection_pool_size=4, **timeouts))


async def test_a_message_and_an_upload_arrive_as_sent(api: LocalBotApi) -> None:
    ann = api.user("Ann")
    ann.send_text("hoi")
    async with _bot(api) as bot:
        sent = await bot.do_api_request("sendMessage", api_kwargs={
            "chat_id": ann.chat_id, "text": "Dag Ann, tot dinsdag 😊"})
        await bot.send_document(ann.chat_id, InputFile(b"BEGIN:VCALENDAR\r\n",
                                                       filename="afspraken.ics"),
                                caption="Je afspraken")
    assert isinstance(sent, dict) and sent["message_id"] > 0
    text, document = ann.inbox()
    assert text.text == "Dag Ann, tot dinsdag 😊"
    assert document.payload["document"]["file_name"] == "afspraken.ics"
    assert document.payload["caption"] == "Je afspraken"
    assert api.file_content(document) == b"BEGIN:VCALENDAR\r\n"


async def test_a_form_carries_every_character_and_a_keyboard(api: LocalBotApi) -> None:
    """The form is encoded here, not by aiohttp: what a URL or a form gives a meaning to
    (& = + % and line breaks) arrives as written, nested JSON (a keyboard) too, and a call
    without parameters still goes."""
    ann = api.user("Ann")
    ann.send_text("hoi")
    text = "Huur & gas = 100% + 5 €?\nJa/nee; ✓ مرحبا"
    async with _bot(api) as bot:
        me = await bot.do_api_request("getMe")
        await bot.do_api_request("sendMessage", api_kwargs={
            "chat_id": ann.chat_id, "text": text,
            "reply_markup": {"inline_keyboard": [[{"text": "Ja & goed", "callback_data":
                                                   "ok:1=2&3"}]]}})
    assert isinstance(me, dict) and me["is_bot"]
    [sent] = ann.inbox()
    assert sent.text == text
    assert sent.payload["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Ja & goed", "callback_data": "ok:1=2&3"}


async def test_refusals_come_back_as_telegrams_errors(api: LocalBotApi) -> None:
    ann = api.user("Ann")
    ann.send_text("hoi")
    async with _bot(api) as bot:
        api.faults.retry_after = 3
        with pytest.raises(RetryAfter):
            await bot.send_message(ann.chat_id, "een")
        api.faults.blocked_until = 0.0
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(987654321, "niemand")
        ann.block_bot()
        with pytest.raises(Forbidden):
            await bot.send_message(ann.chat_id, "twee")


async def test_a_late_answer_is_a_time_out(api: LocalBotApi) -> None:
    ann = api.user("Ann")
    ann.send_text("hoi")
    api.faults.timeouts, api.faults.timeout_delay = 1, 3.0
    async with _bot(api, read_timeout=0.5) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(ann.chat_id, "een")
        assert time.monotonic() - started < 2.5  # the read time-out, not the server's delay
        await bot.send_message(ann.chat_id, "twee")
    assert [m.text for m in ann.inbox()] == ["een", "twee"]  # delivered all the same


async def test_broken_and_refused_connections_are_network_errors_without_the_token(
        api: LocalBotApi) -> None:
    ann = api.user("Ann")
    ann.send_text("hoi")
    api.faults.drop_connections = 1
    async with _bot(api) as bot:
        with pytest.raises(NetworkError) as dropped:
            await bot.send_message(ann.chat_id, "een")
        await api.stop()
        with pytest.raises(NetworkError) as refused:
            await bot.send_message(ann.chat_id, "twee")
    for error in (dropped.value, refused.value):
        assert not isinstance(error, TimedOut)
        assert api.token not in str(error) and api.token.split(":")[0] not in str(error)
