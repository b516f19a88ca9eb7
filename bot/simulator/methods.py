"""The Bot API methods the local server models, each with the Telegram rules bots trip over.

Every method is registered with a short signature: its parameters' types (used to decode form
posts when no API facts are loaded) and which ones are required ("name!"). A method sees the
simulated Telegram through `Telegram`, what the methods need of it; the server (server.py) is
the one that fits, and imports this module, not the other way round.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.simulator.conformance import MethodFacts, Param, is_upload
from bot.simulator.formatting import EntityParseError, UnsupportedParseMode, plain_text
from bot.simulator.model import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    BotApiError,
    ChatMessage,
    StoredFile,
    bad_request,
)
from bot.simulator.people import Chats, LocalUser


class Telegram(Chats, Protocol):
    """What the Bot API methods need of the simulated Telegram, besides what people need."""

    bot_id: int
    people: dict[int, LocalUser]
    groups: dict[int, dict[str, Any]]
    left_chats: set[int]
    files: dict[str, StoredFile]
    commands: dict[str, list[dict[str, Any]]]
    profile: dict[str, Any]
    reactions: list[dict[str, Any]]
    callback_answers: list[dict[str, Any]]
    chat_actions: list[dict[str, Any]]
    webhook_url: str
    allowed_updates: list[str]

    def chat_json(self, chat_id: int) -> dict[str, Any]: ...

    def find_message(self, chat_id: int, message_id: int) -> ChatMessage | None: ...

    def close_callback_query(self, query_id: str) -> bool: ...

    async def next_updates(self, limit: int, timeout: float) -> list[dict[str, Any]]: ...

    def confirm_updates(self, offset: int) -> None: ...

    def drop_pending_updates(self) -> None: ...

    def pending_updates(self) -> int: ...


Handler = Callable[[Telegram, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Entry:
    name: str
    spec: MethodFacts
    handler: Handler


REGISTRY: dict[str, Entry] = {}  # keyed by the lower-case name: Telegram ignores the case

_MARKUP = "InlineKeyboardMarkup|ReplyKeyboardMarkup|ReplyKeyboardRemove|ForceReply"
# Parameters every send-type method shares (sendMediaGroup and forwardMessage take fewer).
_TO_CHAT = (
    "chat_id!: Integer|String, message_thread_id: Integer, disable_notification: Boolean, "
    "protect_content: Boolean"
)
_SEND = f"{_TO_CHAT}, reply_parameters: ReplyParameters, reply_markup: {_MARKUP}"
_CAPTION = "caption: String, parse_mode: String, caption_entities: Array of MessageEntity"
_MEDIA_EXTRAS = {
    "photo": "show_caption_above_media: Boolean, has_spoiler: Boolean",
    "document": "thumbnail: InputFile|String, disable_content_type_detection: Boolean",
    "voice": "duration: Integer",
    "audio": "duration: Integer, performer: String, title: String, thumbnail: InputFile|String",
    "video": "duration: Integer, width: Integer, height: Integer, has_spoiler: Boolean, "
    "thumbnail: InputFile|String, supports_streaming: Boolean",
    "animation": "duration: Integer, width: Integer, height: Integer, has_spoiler: Boolean, "
    "thumbnail: InputFile|String",
    "sticker": "emoji: String",
    "video_note": "duration: Integer, length: Integer, thumbnail: InputFile|String",
}
_INPUT_MEDIA = "|".join(
    f"Array of InputMedia{kind}" for kind in ("Audio", "Document", "LivePhoto", "Photo", "Video")
)
_EDIT = (
    "chat_id: Integer|String, message_id: Integer, inline_message_id: String, "
    "business_connection_id: String, reply_markup: InlineKeyboardMarkup"
)
_COMMAND_SCOPE = "scope: BotCommandScope, language_code: String"
# Telegram's ReactionTypeEmoji: the only emoji a bot may react with.
_REACTIONS = (
    "❤ 👍 👎 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤\u200d🔥 🌚 "
    "🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨\u200d💻 👀 🎃 🙈 😇 😨 🤝 "
    "✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷\u200d♂ 🤷 🤷\u200d♀ 😡"
)
REACTION_EMOJI = frozenset(_REACTIONS.split(" "))
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_UNCOPYABLE = frozenset({"poll", "dice"})
_CONTENT = frozenset(
    {
        "text",
        "entities",
        "caption",
        "caption_entities",
        "photo",
        "document",
        "voice",
        "audio",
        "video",
        "video_note",
        "animation",
        "sticker",
        "location",
        "venue",
        "contact",
        "poll",
        "dice",
    }
)
_SEND_TYPE_EXTRA = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def is_send_type(method: str) -> bool:
    """Calls that put a message in a chat: the ones Telegram rate-limits, and faults hit."""
    return method in _SEND_TYPE_EXTRA or (method.startswith("send") and method != "sendChatAction")


def _signature(text: str) -> dict[str, Param]:
    params: dict[str, Param] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, types = part.split(":", 1)
        clean = name.strip().rstrip("!")
        params[clean] = Param(
            clean, tuple(t.strip() for t in types.split("|")), name.strip().endswith("!")
        )
    return params


def api_method(name: str, signature: str = "") -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        REGISTRY[name.lower()] = Entry(name, MethodFacts(name, _signature(signature), ()), handler)
        return handler

    return register


# Shared rules ------------------------------------------------------------------------------------


def _int(value: object, problem: str) -> int:
    if isinstance(value, bool):
        raise bad_request(problem)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise bad_request(problem)


def _flag(value: object) -> bool:
    """A Boolean parameter, also when it arrived undecoded from a form post."""
    return value is True or value == "true"


def target_chat(api: Telegram, params: dict[str, Any], key: str = "chat_id") -> int:
    """The chat a call writes to, if the bot may write there (as Telegram decides)."""
    chat_id = _int(params.get(key), "chat not found")
    if chat_id in api.left_chats:
        raise bad_request("chat not found")
    person = api.people.get(chat_id)
    if person is not None:
        if not person.started:  # a bot cannot start a conversation
            raise bad_request("chat not found")
        if person.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
    elif chat_id not in api.groups:
        raise bad_request("chat not found")
    return chat_id


def _plain(params: dict[str, Any], key: str, entities_key: str) -> str:
    """The text as shown: parse_mode applied (ignored when explicit entities are given)."""
    text = str(params.get(key) or "")
    if params.get(entities_key):
        return text
    try:
        return plain_text(text, params.get("parse_mode")).strip()
    except EntityParseError as problem:
        raise bad_request(f"can't parse entities: {problem}") from None
    except UnsupportedParseMode:
        raise bad_request("unsupported parse_mode") from None


def _message_text(params: dict[str, Any]) -> str:
    text = _plain(params, "text", "entities")
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text


def _caption(params: dict[str, Any]) -> str:
    caption = _plain(params, "caption", "caption_entities")
    if len(caption) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return caption


def _check_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are "
                    "unallowed in the inline keyboard"
                )


def _reply_to(api: Telegram, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
    """The reply_parameters to keep, after checking the replied message exists."""
    given = params.get("reply_parameters")
    # allow_sending_without_reply on its own is the pre-7.0 spelling, still accepted
    allow = _flag(params.get("allow_sending_without_reply"))
    if isinstance(given, dict):
        message_id = given.get("message_id")
        in_chat = _int(given.get("chat_id", chat_id), "chat not found")
        allow = allow or _flag(given.get("allow_sending_without_reply"))
    elif params.get("reply_to_message_id") is not None:
        message_id, in_chat = params["reply_to_message_id"], chat_id
    else:
        return None
    wanted = _int(message_id, "message to be replied not found")
    if api.find_message(in_chat, wanted) is None:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    reply: dict[str, Any] = {"message_id": wanted}
    if in_chat != chat_id:
        reply["chat_id"] = in_chat
    return reply


def deliver(
    api: Telegram, chat_id: int, params: dict[str, Any], payload: dict[str, Any]
) -> ChatMessage:
    """Store a message from the bot, with the reply and keyboard the call asked for."""
    reply = _reply_to(api, chat_id, params)
    if reply is not None:
        payload["reply_parameters"] = reply
    markup = params.get("reply_markup")
    if markup is not None:
        _check_markup(markup)
        payload["reply_markup"] = markup
    message = api.store_message(chat_id, payload)
    if isinstance(markup, dict) and "keyboard" in markup:
        api.reply_keyboards[chat_id] = message
    elif isinstance(markup, dict) and markup.get("remove_keyboard"):
        api.reply_keyboards.pop(chat_id, None)
    return message


def _file(api: Telegram, kind: str, value: Any) -> Any:
    """The media object for a file sent by id, by URL, or uploaded."""
    if is_upload(value):
        return api.new_file(
            kind,
            content=value["content"],
            file_name=value["uploaded"],
            mime_type=value.get("mime_type"),
        )
    if isinstance(value, str):
        stored = api.files.get(value)
        if stored is not None and stored.kind == kind:
            return stored.json
        if stored is not None:
            return api.new_file(kind, content=stored.content, file_name=stored.file_name)
        if value.startswith(("http://", "https://")):
            return api.new_file(kind, file_name=value.rsplit("/", 1)[-1] or None)
    raise bad_request("wrong file identifier/HTTP URL specified")


def _source(api: Telegram, params: dict[str, Any], verb: str) -> ChatMessage:
    from_chat = _int(params.get("from_chat_id"), "chat not found")
    message_id = _int(params.get("message_id"), f"message to {verb} not found")
    source = api.find_message(from_chat, message_id)
    if source is None:
        raise bad_request(f"message to {verb} not found")
    return source


def _content(source: ChatMessage) -> dict[str, Any]:
    return {key: value for key, value in source.payload.items() if key in _CONTENT}


def _inline_markup(payload: dict[str, Any]) -> Any:
    markup = payload.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _set_inline_markup(payload: dict[str, Any], markup: Any) -> None:
    """An edit without reply_markup removes the inline keyboard; a reply keyboard stays."""
    if markup is not None:
        _check_markup(markup)
        payload["reply_markup"] = markup
    elif _inline_markup(payload) is not None:
        payload.pop("reply_markup")


def _editable(api: Telegram, params: dict[str, Any]) -> ChatMessage:
    if params.get("inline_message_id") is not None:
        raise bad_request("inline messages are not modelled by the local Bot API server")
    if params.get("chat_id") is None or params.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    chat_id = target_chat(api, params)
    message = api.find_message(chat_id, _int(params["message_id"], "message to edit not found"))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


# Bot, updates, webhook ---------------------------------------------------------------------------


@api_method("getMe")
async def get_me(api: Telegram, params: dict[str, Any]) -> Any:
    return {
        **api.bot_user_json,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut")
async def log_out(api: Telegram, params: dict[str, Any]) -> Any:
    return True


@api_method("close")
async def close(api: Telegram, params: dict[str, Any]) -> Any:
    return True


@api_method(
    "getUpdates",
    "offset: Integer, limit: Integer, timeout: Integer, allowed_updates: Array of String",
)
async def get_updates(api: Telegram, params: dict[str, Any]) -> Any:
    if api.webhook_url:
        raise BotApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = _int(params.get("offset", 0), "wrong parameter offset")
    if offset:
        api.confirm_updates(offset)
    limit = min(max(_int(params.get("limit", 100), "wrong parameter limit"), 1), 100)
    timeout = max(float(params.get("timeout") or 0), 0.0)
    if params.get("allowed_updates") is not None:  # remembered until given again
        api.allowed_updates = [str(kind) for kind in params["allowed_updates"]]
    return await api.next_updates(limit, timeout)


@api_method(
    "setWebhook",
    "url!: String, drop_pending_updates: Boolean, "
    "allowed_updates: Array of String, max_connections: Integer, secret_token: String",
)
async def set_webhook(api: Telegram, params: dict[str, Any]) -> Any:
    api.webhook_url = str(params["url"])
    if _flag(params.get("drop_pending_updates")):
        api.drop_pending_updates()
    return True


@api_method("deleteWebhook", "drop_pending_updates: Boolean")
async def delete_webhook(api: Telegram, params: dict[str, Any]) -> Any:
    api.webhook_url = ""
    if _flag(params.get("drop_pending_updates")):
        api.drop_pending_updates()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(api: Telegram, params: dict[str, Any]) -> Any:
    return {
        "url": api.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": api.pending_updates(),
    }


# Commands and profile ----------------------------------------------------------------------------


def _commands_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    return f"{json.dumps(scope, sort_keys=True)}|{params.get('language_code') or ''}"


@api_method("setMyCommands", f"commands!: Array of BotCommand, {_COMMAND_SCOPE}")
async def set_my_commands(api: Telegram, params: dict[str, Any]) -> Any:
    commands = params["commands"]
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        if not _BOT_COMMAND.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")  # lower-case a-z, 0-9 and _ only
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    if commands:
        api.commands[_commands_key(params)] = commands
    else:
        api.commands.pop(_commands_key(params), None)
    return True


@api_method("deleteMyCommands", _COMMAND_SCOPE)
async def delete_my_commands(api: Telegram, params: dict[str, Any]) -> Any:
    api.commands.pop(_commands_key(params), None)
    return True


@api_method("getMyCommands", _COMMAND_SCOPE)
async def get_my_commands(api: Telegram, params: dict[str, Any]) -> Any:
    return api.commands.get(_commands_key(params), [])


def _profile_setter(method: str, field: str) -> Handler:
    async def handler(api: Telegram, params: dict[str, Any]) -> Any:
        api.profile[f"{method}|{params.get('language_code') or ''}"] = params.get(field) or ""
        return True

    return handler


def _profile_getter(setter: str, field: str) -> Handler:
    async def handler(api: Telegram, params: dict[str, Any]) -> Any:
        return {field: api.profile.get(f"{setter}|{params.get('language_code') or ''}", "")}

    return handler


for _setter, _getter, _field in (
    ("setMyName", "getMyName", "name"),
    ("setMyDescription", "getMyDescription", "description"),
    ("setMyShortDescription", "getMyShortDescription", "short_description"),
):
    api_method(_setter, f"{_field}: String, language_code: String")(
        _profile_setter(_setter, _field)
    )
    api_method(_getter, "language_code: String")(_profile_getter(_setter, _field))


@api_method("setChatMenuButton", "chat_id: Integer, menu_button: MenuButton")
async def set_chat_menu_button(api: Telegram, params: dict[str, Any]) -> Any:
    return True


# Sending -----------------------------------------------------------------------------------------


@api_method(
    "sendMessage",
    f"{_SEND}, text!: String, parse_mode: String, "
    "entities: Array of MessageEntity, link_preview_options: LinkPreviewOptions",
)
async def send_message(api: Telegram, params: dict[str, Any]) -> Any:
    text = _message_text(params)
    chat_id = target_chat(api, params)
    payload: dict[str, Any] = {"text": text}
    if params.get("entities"):
        payload["entities"] = params["entities"]
    return api.message_json(deliver(api, chat_id, params, payload))


def _media_sender(kind: str, captioned: bool) -> Handler:
    async def handler(api: Telegram, params: dict[str, Any]) -> Any:
        caption = _caption(params) if captioned else ""
        chat_id = target_chat(api, params)
        payload: dict[str, Any] = {kind: _file(api, kind, params[kind])}
        if kind == "animation":
            payload["document"] = payload[kind]
        if caption:
            payload["caption"] = caption
            if params.get("caption_entities"):
                payload["caption_entities"] = params["caption_entities"]
        return api.message_json(deliver(api, chat_id, params, payload))

    return handler


for _kind, _extras in _MEDIA_EXTRAS.items():
    _captioned = _kind not in ("sticker", "video_note")
    _method = "send" + _kind.title().replace("_", "")
    api_method(
        _method,
        f"{_SEND}, {_kind}!: InputFile|String, {_extras}" + (f", {_CAPTION}" if _captioned else ""),
    )(_media_sender(_kind, _captioned))


@api_method(
    "sendLocation",
    f"{_SEND}, latitude!: Float, longitude!: Float, "
    "horizontal_accuracy: Float, live_period: Integer, heading: Integer, "
    "proximity_alert_radius: Integer",
)
async def send_location(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
    return api.message_json(deliver(api, chat_id, params, {"location": location}))


@api_method(
    "sendVenue",
    f"{_SEND}, latitude!: Float, longitude!: Float, title!: String, "
    "address!: String, foursquare_id: String, foursquare_type: String, "
    "google_place_id: String, google_place_type: String",
)
async def send_venue(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
    venue = {"location": location, "title": str(params["title"]), "address": str(params["address"])}
    return api.message_json(deliver(api, chat_id, params, {"location": location, "venue": venue}))


@api_method(
    "sendContact",
    f"{_SEND}, phone_number!: String, first_name!: String, last_name: String, vcard: String",
)
async def send_contact(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    contact = {
        key: str(params[key])
        for key in ("phone_number", "first_name", "last_name", "vcard")
        if params.get(key) is not None
    }
    return api.message_json(deliver(api, chat_id, params, {"contact": contact}))


@api_method(
    "sendPoll",
    f"{_SEND}, question!: String, options!: Array of InputPollOption, "
    "is_anonymous: Boolean, type: String, allows_multiple_answers: Boolean",
)
async def send_poll(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    options = [o.get("text", "") if isinstance(o, dict) else str(o) for o in params["options"]]
    if len(options) < 2:
        raise bad_request("poll must have at least 2 option")
    poll = api.new_poll(str(params["question"]), options)
    return api.message_json(deliver(api, chat_id, params, {"poll": poll}))


@api_method("sendDice", f"{_SEND}, emoji: String")
async def send_dice(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    dice = {"emoji": str(params.get("emoji") or "🎲"), "value": random.randint(1, 6)}
    return api.message_json(deliver(api, chat_id, params, {"dice": dice}))


@api_method(
    "sendMediaGroup", f"{_TO_CHAT}, reply_parameters: ReplyParameters, media!: {_INPUT_MEDIA}"
)
async def send_media_group(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    items = params["media"]
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise bad_request("wrong number of media")  # an album holds 2 to 10 items
    group_id = str(random.randrange(10**17, 10**18))
    sent = []
    for item in items:
        kind = str(item.get("type"))
        payload: dict[str, Any] = {
            kind: _file(api, kind, item.get("media")),
            "media_group_id": group_id,
        }
        caption = _caption(item)
        if caption:
            payload["caption"] = caption
        sent.append(api.message_json(deliver(api, chat_id, params, payload)))
    return sent


@api_method(
    "sendChatAction",
    "chat_id!: Integer|String, action!: String, "
    "message_thread_id: Integer, business_connection_id: String",
)
async def send_chat_action(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    if params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    api.chat_actions.append({"chat_id": chat_id, "action": params["action"]})
    return True


# Copying and forwarding --------------------------------------------------------------------------


def _copy(
    api: Telegram, chat_id: int, source: ChatMessage, params: dict[str, Any]
) -> ChatMessage:
    if source.kind in _UNCOPYABLE or not _content(source):
        raise bad_request("message can't be copied")
    payload = _content(source)
    if source.kind != "text" and params.get("caption") is not None:
        caption = _caption(params)
        payload.pop("caption_entities", None)
        if caption:
            payload["caption"] = caption
        else:
            payload.pop("caption", None)
    elif source.kind != "text" and _flag(params.get("remove_caption")):
        payload.pop("caption", None)
    if len(str(payload.get("caption", ""))) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    message = deliver(api, chat_id, params, payload)
    message.copied_from = (source.chat_id, source.message_id)
    return message


@api_method(
    "copyMessage",
    f"{_SEND}, from_chat_id!: Integer|String, message_id!: Integer, "
    f"video_start_timestamp: Integer, show_caption_above_media: Boolean, {_CAPTION}",
)
async def copy_message(api: Telegram, params: dict[str, Any]) -> Any:
    source = _source(api, params, "copy")
    chat_id = target_chat(api, params)
    return {"message_id": _copy(api, chat_id, source, params).message_id}


@api_method(
    "copyMessages",
    f"{_TO_CHAT}, from_chat_id!: Integer|String, "
    "message_ids!: Array of Integer, remove_caption: Boolean",
)
async def copy_messages(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    from_chat = _int(params["from_chat_id"], "chat not found")
    copied = []
    for message_id in params["message_ids"]:  # Telegram skips what it cannot find or copy
        source = api.find_message(from_chat, _int(message_id, "message to copy not found"))
        if source is None or source.kind in _UNCOPYABLE:
            continue
        copied.append({"message_id": _copy(api, chat_id, source, params).message_id})
    if not copied:
        raise bad_request("there are no messages to copy")
    return copied


@api_method(
    "forwardMessage",
    f"{_TO_CHAT}, from_chat_id!: Integer|String, "
    "message_id!: Integer, video_start_timestamp: Integer",
)
async def forward_message(api: Telegram, params: dict[str, Any]) -> Any:
    source = _source(api, params, "forward")
    chat_id = target_chat(api, params)
    sender = api.bot_user_json if source.from_bot else api.message_json(source).get("from")
    payload = _content(source)
    payload["forward_origin"] = {
        "type": "user",
        "date": source.date,
        "sender_user": sender,
    }
    return api.message_json(deliver(api, chat_id, {}, payload))


# Editing and deleting ----------------------------------------------------------------------------


@api_method(
    "editMessageText",
    f"{_EDIT}, text: String, parse_mode: String, "
    "entities: Array of MessageEntity, link_preview_options: LinkPreviewOptions",
)
async def edit_message_text(api: Telegram, params: dict[str, Any]) -> Any:
    message = _editable(api, params)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    text = _message_text(params)
    markup = params.get("reply_markup")
    if text == message.payload.get("text") and markup == _inline_markup(message.payload):
        raise bad_request(_NOT_MODIFIED)
    message.payload["text"] = text
    message.payload.pop("entities", None)
    if params.get("entities"):
        message.payload["entities"] = params["entities"]
    _set_inline_markup(message.payload, markup)
    message.payload["edit_date"] = int(api.now())
    return api.message_json(message)


@api_method("editMessageCaption", f"{_EDIT}, show_caption_above_media: Boolean, {_CAPTION}")
async def edit_message_caption(api: Telegram, params: dict[str, Any]) -> Any:
    message = _editable(api, params)
    if message.kind in (
        "text",
        "sticker",
        "video_note",
        "location",
        "venue",
        "contact",
        "poll",
        "dice",
    ):
        raise bad_request("there is no caption in the message to edit")
    caption = _caption(params)
    markup = params.get("reply_markup")
    if caption == message.payload.get("caption", "") and markup == _inline_markup(message.payload):
        raise bad_request(_NOT_MODIFIED)
    if caption:
        message.payload["caption"] = caption
    else:
        message.payload.pop("caption", None)
    _set_inline_markup(message.payload, markup)
    message.payload["edit_date"] = int(api.now())
    return api.message_json(message)


@api_method("editMessageReplyMarkup", _EDIT)
async def edit_message_reply_markup(api: Telegram, params: dict[str, Any]) -> Any:
    message = _editable(api, params)
    markup = params.get("reply_markup")
    if markup == _inline_markup(message.payload):
        raise bad_request(_NOT_MODIFIED)
    _set_inline_markup(message.payload, markup)
    message.payload["edit_date"] = int(api.now())
    return api.message_json(message)


def _known_chat(api: Telegram, params: dict[str, Any]) -> int:
    chat_id = _int(params.get("chat_id"), "chat not found")
    if chat_id in api.left_chats or (chat_id not in api.people and chat_id not in api.groups):
        raise bad_request("chat not found")
    return chat_id


@api_method("deleteMessage", "chat_id!: Integer|String, message_id!: Integer")
async def delete_message(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = _known_chat(api, params)
    message = api.find_message(chat_id, _int(params["message_id"], "message to delete not found"))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    api.changed.fire()
    return True


@api_method("deleteMessages", "chat_id!: Integer|String, message_ids!: Array of Integer")
async def delete_messages(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = _known_chat(api, params)
    for message_id in params["message_ids"]:  # missing ones are skipped, as on Telegram
        message = api.find_message(chat_id, _int(message_id, "message to delete not found"))
        if message is not None:
            message.deleted = True
    api.changed.fire()
    return True


# Callbacks, reactions, chats, files --------------------------------------------------------------


@api_method(
    "answerCallbackQuery",
    "callback_query_id!: String, text: String, "
    "show_alert: Boolean, url: String, cache_time: Integer",
)
async def answer_callback_query(api: Telegram, params: dict[str, Any]) -> Any:
    if len(str(params.get("text") or "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    if not api.close_callback_query(str(params["callback_query_id"])):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    api.callback_answers.append(dict(params))
    return True


@api_method(
    "setMessageReaction",
    "chat_id!: Integer|String, message_id!: Integer, "
    "reaction: Array of ReactionType, is_big: Boolean",
)
async def set_message_reaction(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = target_chat(api, params)
    message_id = _int(params["message_id"], "MESSAGE_ID_INVALID")
    if api.find_message(chat_id, message_id) is None:
        raise bad_request("MESSAGE_ID_INVALID")
    reaction = params.get("reaction") or []
    for item in reaction:
        emoji = str(item.get("emoji", "")).replace("\ufe0f", "")  # with or without VS16
        custom = str(item.get("custom_emoji_id", ""))
        if (item.get("type") == "emoji" and emoji not in REACTION_EMOJI) or (
            item.get("type") == "custom_emoji" and not custom.isdigit()
        ):
            raise bad_request("REACTION_INVALID")
    api.reactions.append(
        {
            "chat_id": chat_id,
            "message_id": message_id,
            "reaction": reaction,
            "is_big": _flag(params.get("is_big")),
        }
    )
    return True


@api_method("leaveChat", "chat_id!: Integer|String")
async def leave_chat(api: Telegram, params: dict[str, Any]) -> Any:
    api.left_chats.add(_known_chat(api, params))
    return True


@api_method("getChat", "chat_id!: Integer|String")
async def get_chat(api: Telegram, params: dict[str, Any]) -> Any:
    chat_id = _known_chat(api, params)
    person = api.people.get(chat_id)
    if person is not None and not person.started:
        raise bad_request("chat not found")
    return {
        **api.chat_json(chat_id),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


@api_method("getChatMember", "chat_id!: Integer|String, user_id!: Integer")
async def get_chat_member(api: Telegram, params: dict[str, Any]) -> Any:
    _known_chat(api, params)
    user_id = _int(params["user_id"], "user not found")
    if user_id == api.bot_id:
        return {"status": "member", "user": api.bot_user_json}
    person = api.people.get(user_id)
    if person is None:
        raise bad_request("user not found")
    return {"status": "member", "user": person.user_json}


@api_method("getFile", "file_id!: String")
async def get_file(api: Telegram, params: dict[str, Any]) -> Any:
    stored = api.files.get(str(params["file_id"]))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": f"u-{stored.file_id}",
        "file_size": len(stored.content),
        "file_path": f"{stored.kind}s/{stored.file_id}",
    }


async def unmodelled(api: Telegram, method: str, params: dict[str, Any]) -> Any:
    """A real Bot API method (per the facts) this server does not model: accept it plainly."""
    if method.startswith("send"):
        chat_id = target_chat(api, params)
        payload = {
            k: v
            for k, v in params.items()
            if k not in ("chat_id", "reply_markup", "reply_parameters")
        }
        return api.message_json(deliver(api, chat_id, params, payload))
    return True
