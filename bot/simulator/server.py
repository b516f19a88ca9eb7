"""A local Telegram Bot API server for the demo and the end-to-end tests.

It speaks enough of the Bot API over HTTP that python-telegram-bot runs against it unchanged
(`base_url=server.base_url`), and behaves like Telegram where bots usually get it wrong: whom a
bot may write to, blocked users, message and caption limits, formatting that does not parse,
replies to missing messages, 429s with retry_after, 5xx (the next sends, or every send to one
chat for a while), lost answers and dropped connections; traps act (say, SIGKILL the bot) at
a chosen call, before or after handling it.
Simulated people (`LocalUser`) talk to the bot; every call and every message is recorded.
With `facts` (tests/bot_api_facts.json) each call is also checked against the published Bot API.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import mimetypes
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.simulator import methods
from bot.simulator.conformance import ApiFacts, check_call, decode_params
from bot.simulator.model import (
    MESSAGE_FIELDS,
    ApiCall,
    BotApiError,
    ChatMessage,
    Faults,
    StoredFile,
    Trap,
)
from bot.simulator.people import LocalUser
from bot.simulator.pulse import Pulse

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:LOCAL-TEST-TOKEN"
UPDATE_KINDS_OFF_BY_DEFAULT = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)


class LocalBotApi:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "gezinslijn_local_bot",
        facts: ApiFacts | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        """`now` gives the Unix time for message dates (default: the real time), so a bot on a
        simulated clock sees dates from that clock."""
        self.token = token
        self.bot_username = bot_username
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 7000000001  # Telegram: the token's id
        self.facts = facts
        self.now: Callable[[], float] = now or time.time
        self.base_url = ""
        self.base_file_url = ""

        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.internal_errors: list[str] = []
        self.messages: list[ChatMessage] = []
        self.people: dict[int, LocalUser] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.left_chats: set[int] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.profile: dict[str, Any] = {}  # setMyName/Description/…, keyed "method|language"
        self.reactions: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[dict[str, Any]] = []
        self.reply_keyboards: dict[int, ChatMessage] = {}  # the reply keyboard on screen, per chat
        self.files: dict[str, StoredFile] = {}
        self.faults = Faults()
        self.webhook_url = ""
        self.allowed_updates: list[str] = []
        self.changed = Pulse()  # fired on every call, message and update
        # idle() waits with this when set: `settle_bot(timeout)` returns once the bot is idle.
        self.settle_bot: Callable[[float], Awaitable[None]] | None = None

        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self.last_update_id = 0  # of the last update queued for the bot
        self._handed_out = 0  # highest update_id given to a getUpdates caller
        self._poll_generation = 0  # a newer getUpdates ends an older one, as on Telegram
        self._polled = False
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._user_ids = itertools.count(100001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._in_flight = 0  # requests being answered, getUpdates excepted
        self._last_activity = time.monotonic()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # Life cycle ----------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0: any free port); returns the base_url for the bot."""
        self._closing.clear()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # handler_cancellation: a client that hangs up (a cancelled long poll, a timed-out send)
        # ends its handler, as on Telegram, instead of leaving it to answer nobody.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}/bot"
        self.base_file_url = f"http://{host}:{bound}/file/bot"
        return self.base_url

    async def stop(self) -> None:
        self._closing.set()
        self.changed.fire()  # long polls and held answers return now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # People, chats, files ------------------------------------------------------------------------

    def user(self, first_name: str, language_code: str = "nl") -> LocalUser:
        """A new person with a private chat with the bot (not started until they write)."""
        person = LocalUser(self, next(self._user_ids), first_name, language_code)
        self.people[person.user_id] = person
        return person

    def new_group(self, title: str) -> dict[str, Any]:
        chat_id = -(4000000000 + next(self._group_ids))
        chat: dict[str, Any] = {"id": chat_id, "type": "group", "title": title}
        self.groups[chat_id] = chat
        return chat

    @property
    def bot_user_json(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Gezinslijn",
            "username": self.bot_username,
        }

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.people:
            return self.people[chat_id].chat_json
        return self.groups.get(chat_id) or {"id": chat_id, "type": "private"}

    def new_file(
        self,
        kind: str,
        content: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> Any:
        """Register a file and return what a Message carries for it."""
        number = next(self._file_ids)
        file_id = f"{kind}-{number:06d}-{secrets.token_hex(4)}"
        data = content if content is not None else secrets.token_bytes(64)
        base: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{number:06d}",
            "file_size": len(data),
        }
        details: dict[str, dict[str, Any]] = {
            "photo": {"width": 800, "height": 600},
            "document": {
                "file_name": file_name or "brief.pdf",
                "mime_type": mime_type or _guess_mime(file_name or "brief.pdf"),
            },
            "voice": {"duration": 4, "mime_type": "audio/ogg"},
            "audio": {"duration": 180, "mime_type": "audio/mpeg", "title": "Liedje"},
            "video": {"width": 640, "height": 360, "duration": 12, "mime_type": "video/mp4"},
            "animation": {"width": 320, "height": 240, "duration": 3, "mime_type": "video/mp4"},
            "video_note": {"length": 240, "duration": 5},
            "sticker": {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            },
        }
        media: Any = {**base, **details[kind]}
        if kind == "photo":  # a photo is a list of sizes, largest last
            thumb = {**base, "file_id": f"{file_id}-s", "width": 90, "height": 68}
            media = [thumb, media]
        self.files[file_id] = StoredFile(file_id, kind, media, data, file_name)
        return media

    def new_poll(self, question: str, options: tuple[str, ...] | list[str]) -> dict[str, Any]:
        return {
            "id": str(next(self._callback_ids) + 5000000),
            "question": question,
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(index)}
                for index, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }

    def file_content(self, message_or_file_id: ChatMessage | str) -> bytes:
        """The bytes of a message's file (or of a file id): e.g. an export the bot uploaded."""
        file_id = message_or_file_id
        if isinstance(message_or_file_id, ChatMessage):
            media = message_or_file_id.payload.get(message_or_file_id.kind)
            if isinstance(media, list):
                media = media[-1]
            if not isinstance(media, dict):
                raise ValueError(f"{message_or_file_id!r} carries no file")
            file_id = str(media["file_id"])
        assert isinstance(file_id, str)
        return self.files[file_id].content

    def new_callback_query(self) -> str:
        query_id = str(8000000000000 + next(self._callback_ids))
        self._open_callbacks.add(query_id)
        return query_id

    def close_callback_query(self, query_id: str) -> bool:
        """False when the query is unknown or was already answered."""
        if query_id not in self._open_callbacks:
            return False
        self._open_callbacks.discard(query_id)
        return True

    # Messages ------------------------------------------------------------------------------------

    def store_message(
        self, chat_id: int, payload: dict[str, Any], sender: LocalUser | None = None
    ) -> ChatMessage:
        """A new message in a chat: from `sender`, or from the bot when no sender is given."""
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = ChatMessage(
            chat_id,
            next(counter),
            sender is None,
            payload,
            time.time(),
            sender_id=sender.user_id if sender else None,
            date=int(self.now()),
        )
        self.messages.append(message)
        self._touch()
        return message

    def find_message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in reversed(self.messages):
            if message.chat_id == chat_id and message.message_id == message_id:
                return None if message.deleted else message
        return None

    def message_json(self, message: ChatMessage, nested: bool = False) -> dict[str, Any]:
        """The message as the Bot API's Message object."""
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date or int(message.at),
            "chat": self.chat_json(message.chat_id),
        }
        if message.from_bot:
            body["from"] = self.bot_user_json
        elif message.sender_id in self.people:
            body["from"] = self.people[message.sender_id].user_json
        for key, value in message.payload.items():
            if key in MESSAGE_FIELDS and not (nested and key == "reply_to_message"):
                body[key] = value
        markup = message.payload.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            body["reply_markup"] = markup  # only inline keyboards belong to a message
        if not nested and "reply_to_message" not in body and message.from_bot:
            replied_id = message.reply_to_message_id
            replied = self.find_message(message.chat_id, replied_id) if replied_id else None
            if replied is not None:
                body["reply_to_message"] = self.message_json(replied, nested=True)
        return body

    # Updates -------------------------------------------------------------------------------------

    def push_update(self, body: dict[str, Any]) -> int:
        """Queue an update for the bot; returns its update_id."""
        update_id = next(self._update_ids)
        body["update_id"] = update_id
        self.last_update_id = update_id
        self._updates.append(body)
        self._touch()
        return update_id

    def pending_updates(self) -> int:
        """Updates the bot has not yet confirmed (by a getUpdates offset past them)."""
        return len(self._updates)

    def confirm_updates(self, offset: int) -> None:
        if offset < 0:  # the last -offset updates; all before are forgotten
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def drop_pending_updates(self) -> None:
        self._updates.clear()

    def _wanted(self, update: dict[str, Any]) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in UPDATE_KINDS_OFF_BY_DEFAULT

    async def next_updates(self, limit: int, timeout: float) -> list[dict[str, Any]]:
        """Updates for a getUpdates call: at once if there are any, else within `timeout`."""
        self._polled = True
        self._poll_generation += 1
        generation = self._poll_generation
        self.changed.fire()  # an older long poll still waiting ends with 409
        deadline = time.monotonic() + timeout
        while True:
            self._updates = [u for u in self._updates if self._wanted(u)]
            if self._updates or self._closing.is_set():
                batch = self._updates[:limit]
                if batch:
                    self._handed_out = max(self._handed_out, batch[-1]["update_id"])
                return batch
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self.changed.wait(remaining)
            if generation != self._poll_generation:
                raise BotApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make "
                    "sure that only one bot instance is running",
                )

    # Observing -----------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    async def wait_for_call(
        self, predicate: Callable[[ApiCall], bool], timeout: float = 10, after: int = 0
    ) -> ApiCall:
        """The first recorded call at index `after` or later that matches, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls[after:]:
                if predicate(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [f"{c.method} {'ok' if c.ok else c.error_code}" for c in self.calls[-10:]]
                raise AssertionError(
                    f"no matching Bot API call within {timeout}s; last calls: {recent}"
                )
            await self.changed.wait(remaining)

    @property
    def handed_out(self) -> int:
        """The highest update_id a getUpdates call was given (0: none yet)."""
        return self._handed_out

    def busy(self) -> str:
        """What the server sees the bot still doing, '' when nothing: requests being answered
        (long polls aside), updates it has not fetched yet (when it polls)."""
        unfetched = self._polled and any(u["update_id"] > self._handed_out for u in self._updates)
        doing = [f"{self._in_flight} requests being answered"] if self._in_flight else []
        return ", ".join([*doing, *(["updates not fetched yet"] if unfetched else [])])

    async def idle(self, quiet: float = 0.3, timeout: float = 10) -> None:
        """Wait until the bot is idle. A harness that sees inside the bot sets `settle_bot` (the
        end-to-end harness: intake and dispatcher idle), and this waits for that event. Without
        it the server judges from outside: the bot is idle once it has been quiet for `quiet`
        seconds, with nothing `busy()`."""
        if self.settle_bot is not None:
            await self.settle_bot(timeout)
            return
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = self.busy()
            if not busy and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                doing = busy or "not quiet"
                raise AssertionError(f"the bot was still busy after {timeout}s ({doing})")
            wait = quiet - (now - self._last_activity) if not busy else 0.05
            await asyncio.sleep(max(min(wait, deadline - now), 0.01))

    def _touch(self, activity: bool = True) -> None:
        if activity:
            self._last_activity = time.monotonic()
        self.changed.fire()

    # HTTP ----------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        at = time.time()
        name = request.match_info["method"]
        entry = methods.REGISTRY.get(name.lower())
        spec = self.facts.method(name) if self.facts else None
        canonical = spec.name if spec else entry.name if entry else name
        polling = canonical == "getUpdates"
        if not polling:
            self._in_flight += 1
            self._touch()
        params: dict[str, Any] = {}
        try:
            raw, form = await _read_params(request)
            params = _resolve_attachments(
                decode_params(spec or (entry.spec if entry else None), raw, form=form)
            )
            if request.match_info["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            send_type = methods.is_send_type(canonical)
            trap = self._trap(canonical, params, None, after=False)
            if trap is not None:
                trap.action()
                if trap.hangup:
                    self._record(canonical, params, at, error=BotApiError(0, "trapped"))
                    trap.call = self.calls[-1]
                    raise _Hangup
            result = await self._answer(canonical, entry, params, form, send_type)
            self._record(canonical, params, at, result=result)
            trap = self._trap(canonical, params, result, after=True)
            if trap is not None:
                trap.call = self.calls[-1]
                trap.action()
                if trap.hangup:
                    raise _Hangup
            if send_type and self.faults.timeouts > 0:
                self.faults.timeouts -= 1
                await self._hold(self.faults.timeout_delay)
            return web.json_response({"ok": True, "result": result}, dumps=_dumps)
        except BotApiError as error:
            self._record(canonical, params, at, error=error)
            return _error_response(error)
        except (_DropConnection, _Hangup) as cut:
            if isinstance(cut, _DropConnection):  # a trap recorded its call already
                self.faults.drop_connections -= 1
                self._record(canonical, params, at, error=BotApiError(0, "connection dropped"))
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None  # aiohttp: no response for this request
        except (ValueError, TypeError, KeyError, AttributeError) as failure:
            # A request the server could not make sense of: Telegram answers 400, and a bug in
            # this server should be visible too.
            log.exception("local Bot API: %s failed", canonical)
            self.internal_errors.append(f"{canonical}: {failure!r}")
            refusal = BotApiError(400, f"Bad Request: {failure}")
            self._record(canonical, params, at, error=refusal)
            return _error_response(refusal)
        finally:
            if not polling:
                self._in_flight -= 1
                self._touch()

    async def _answer(
        self,
        canonical: str,
        entry: methods.Entry | None,
        params: dict[str, Any],
        form: bool,
        send_type: bool,
    ) -> Any:
        if self.facts is not None:
            problems = check_call(self.facts, canonical, params, form=form)
            if problems and problems[0].startswith("unknown method"):
                self.violations.append(problems[0])
                raise BotApiError(404, "Not Found")
            if problems:
                self.violations.extend(f"{canonical}: {problem}" for problem in problems)
                raise BotApiError(400, f"Bad Request: {problems[0]}")
        elif entry is None:
            raise BotApiError(404, "Not Found")
        if entry is not None:
            for required in entry.spec.params.values():
                if required.required and params.get(required.name) is None:
                    raise BotApiError(400, f"Bad Request: parameter {required.name} is required")
        if send_type:
            self._apply_faults(params)
        if entry is None:  # a real method this server does not model
            return await methods.unmodelled(self, canonical, params)
        return await entry.handler(self, params)

    def _trap(self, method: str, params: dict[str, Any], result: Any, after: bool
              ) -> Trap | None:
        for trap in self.faults.traps:
            if trap.hit(method, params, result, after):
                return trap
        return None

    def _apply_faults(self, params: dict[str, Any]) -> None:
        faults = self.faults
        now = time.time()
        # A chat's outage answers first, as a gateway in front of Telegram would.
        outage = faults.outage_code(params.get("chat_id"))
        if outage is not None:
            faults.outage_refusals += 1
            raise BotApiError(outage, _STATUS_TEXT.get(outage, "Internal Server Error"))
        if now < faults.blocked_until:
            faults.early_retries += 1
            faults.seen_429 += 1
            wait = max(1, int(faults.blocked_until - now + 0.999))
            raise BotApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        if faults.retry_after > 0:
            wait, faults.retry_after = faults.retry_after, 0
            faults.blocked_until = now + wait
            faults.seen_429 += 1
            raise BotApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        if faults.server_errors > 0:
            faults.server_errors -= 1
            code = faults.server_error_code
            raise BotApiError(code, _STATUS_TEXT.get(code, "Internal Server Error"))
        if faults.drop_connections > 0:
            raise _DropConnection

    async def _hold(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        at: float,
        result: Any = None,
        error: BotApiError | None = None,
    ) -> None:
        self.calls.append(
            ApiCall(
                method=method,
                params=params,
                ok=error is None,
                error_code=error.code if error else None,
                description=error.description if error else None,
                at=at,
                result=result,
            )
        )
        # An empty long poll is the bot waiting, not working: it does not break idle().
        self._touch(activity=not (method == "getUpdates" and result == []))

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(BotApiError(401, "Unauthorized"))
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        stored = self.files.get(file_id)
        if stored is None:
            return _error_response(BotApiError(404, "Not Found"))
        return web.Response(body=stored.content)


class _DropConnection(Exception):
    """Close the connection without an answer."""


class _Hangup(Exception):
    """A trap fired: close the connection without an answer."""


_STATUS_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _guess_mime(file_name: str) -> str:
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error_response(error: BotApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.code, dumps=_dumps)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], bool]:
    """The request's parameters, and whether they came form-encoded (every value a string)."""
    params: dict[str, Any] = dict(request.query)
    form = True
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else None
        if body is not None and not isinstance(body, dict):
            raise BotApiError(400, "Bad Request: the request body must be a JSON object")
        params.update(body or {})
        form = not body
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                params[name] = {
                    "uploaded": value.filename,
                    "size": len(content),
                    "content": content,
                    "mime_type": value.content_type,
                }
            else:
                params[name] = value
    return params, form


def _resolve_attachments(params: dict[str, Any]) -> dict[str, Any]:
    """Put each uploaded part where an attach://name refers to it (sendMediaGroup, InputMedia).

    A part that was referred to is not a parameter of its own.
    """
    used: set[str] = set()

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            if isinstance(params.get(name), dict) and "uploaded" in params[name]:
                used.add(name)
                return params[name]
        if isinstance(value, dict) and "uploaded" not in value:
            return {key: resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    resolved = {name: resolve(value) for name, value in params.items()}
    return {name: value for name, value in resolved.items() if name not in used}
