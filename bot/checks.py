"""Start-up checks: whether the bot can run as configured, each in one line for an operator.

`gezinslijn check` runs them all and changes nothing (it does not migrate, and creates no file).
`gezinslijn run` and `webhook` run the same before they start and stop at the first that fails,
with its sentence (a SettingsError: "gezinslijn: …", exit 2), never a traceback. At start-up a
database behind the newest migration is fine (the bot migrates it), and what only looks wrong
(a clock skew, one sealed value of several that does not open) is logged as a warning.

No line names a token, a password or a key.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from sqlalchemy.engine import make_url

from bot.app import (
    check_database_url,
    configure_crisis_services,
    configure_encryption,
    make_clock,
)
from bot.clock import SystemClock
from bot.delivery import crisis_lines
from bot.domain.availability import DEFAULT_TIMEZONES
from bot.domain.crisis import SERVICES_DIR
from bot.settings import Settings, SettingsError
from storage import health
from storage.db import is_sqlite

log = logging.getLogger(__name__)

OK, FAILED, SKIPPED = "ok", "FAIL", "skip"
API_TIMEOUT = 5.0  # seconds, to connect and to answer getMe
# A system clock before this is a clock that was never set (1970, 2000), not a time to run at.
CLOCK_FLOOR = datetime(2025, 1, 1, tzinfo=UTC)
# Reminders and due times are compared with the bot's clock, leases with PostgreSQL's.
MAX_SKEW = timedelta(minutes=2)
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)


@dataclass(frozen=True)
class Line:
    status: str  # OK, FAILED or SKIPPED
    name: str
    text: str  # what was found, or the sentence for the operator


@dataclass
class Context:
    settings: Settings
    startup: bool  # run/webhook: the database may be behind, doubts are warnings
    webhook: bool = False
    database: health.DatabaseState | None = None  # None: the database was not reached
    database_read_at: datetime | None = None  # this machine's clock when it was read

    def doubt(self, sentence: str) -> None:
        """At start-up a warning in the log; for `gezinslijn check` a failure."""
        if not self.startup:
            raise SettingsError(sentence)
        log.warning("%s", sentence)


# The checks -----------------------------------------------------------------------------------
async def _settings(context: Context) -> str:
    settings = context.settings
    text = f"region {settings.region}, retention {settings.retention_days} days, " \
           f"log level {settings.log_level}"
    if not settings.webhook_url:
        return text
    if not context.startup or context.webhook:
        webhook = urlsplit(settings.webhook_url)
        port = webhook.port or (443 if webhook.scheme == "https" else 80)
        if not settings.api_is_loopback() and (webhook.scheme != "https" or not webhook.hostname
                                               or port not in TELEGRAM_WEBHOOK_PORTS):
            raise SettingsError("The setting GEZINSLIJN_WEBHOOK_URL must be an https address on "
                                "port 443, 80, 88 or 8443: Telegram calls no other.")
        if len(settings.webhook_secret) < 16:
            raise SettingsError("The setting GEZINSLIJN_WEBHOOK_SECRET is missing or too short "
                                "(at least 16 characters of A-Z, a-z, 0-9, _ and -).")
    return f"{text}, webhook at {urlsplit(settings.webhook_url).hostname}"


async def _crisis_services(context: Context) -> str:
    settings = context.settings
    configure_crisis_services(settings)  # the loader refuses an entry without source or date
    services = crisis_lines.book(settings.region)
    path = settings.crisis_services_file or SERVICES_DIR / f"{settings.region.lower()}.toml"
    oldest = min(service.checked for service in services)
    return f"{len(services)} services for {settings.region} from {path}, each with its " \
           f"source; oldest check {oldest.isoformat()}"


async def _bot_api(context: Context) -> str:
    settings = context.settings
    shown = shown_api_url(settings.telegram_api_url)
    # The token is part of the URL: no error text from httpx goes anywhere.
    url = f"{settings.telegram_api_url}{settings.telegram_token}/getMe"
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(API_TIMEOUT)) as client:
            response = await client.post(url)
    except httpx.HTTPError as error:
        raise SettingsError(f"The setting GEZINSLIJN_TELEGRAM_API_URL ({shown}) cannot be "
                            f"reached ({_http_reason(error)}): check the address, and that this "
                            "server may connect to it (firewall, proxy).") from None
    if response.status_code == 401:
        raise SettingsError("The setting GEZINSLIJN_TELEGRAM_TOKEN is refused by the Bot API "
                            "(401 Unauthorized): copy the token again from @BotFather "
                            "(/mybots, API Token).")
    if response.status_code == 404:
        raise SettingsError(f"The setting GEZINSLIJN_TELEGRAM_API_URL ({shown}) answers 404 Not "
                            "Found to getMe: it should end in /bot (as in "
                            "https://api.telegram.org/bot), and GEZINSLIJN_TELEGRAM_TOKEN must "
                            "be the whole token from @BotFather.")
    try:
        body = response.json()
        username = body["result"]["username"] if body.get("ok") else None
    except (ValueError, KeyError, TypeError, AttributeError):
        username = None
    if response.status_code != 200 or not isinstance(username, str):
        raise SettingsError(f"The setting GEZINSLIJN_TELEGRAM_API_URL ({shown}) does not answer "
                            f"like the Bot API (HTTP {response.status_code} to getMe): check "
                            "the address, or try again later if Telegram has trouble.")
    return f"@{username} at {shown}"


async def _database(context: Context) -> str:
    settings = context.settings
    url = settings.database_url
    check_database_url(settings)
    place = health.where(url)
    head = health.head_revision()
    missing = health.missing_file(url)
    if missing is not None:
        if context.startup:
            context.database = health.DatabaseState(revision=None, tables=frozenset(),
                                                    server_now=None)
            return f"{place}: new, set up now (migration {head})"
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL names a SQLite file that is "
                            f"not there ({missing}): check the path (`gezinslijn run` creates "
                            "a new database there).")
    try:
        state = await health.database_state(url)
    except health.DatabaseUnreachable as error:
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL points at a database that "
                            f"cannot be reached ({place}: {error}): check that it runs and that "
                            "host, port, user, password and database name are right.") from None
    context.database = state
    context.database_read_at = make_clock(settings).now()
    if state.revision != head and state.may_create is False:
        user = make_url(url).username or "its user"
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL names a user who may not "
                            f"create tables in schema {state.schema or 'public'} ({place}), "
                            f"which the migrations need: GRANT CREATE ON SCHEMA "
                            f"{state.schema or 'public'} TO {user}, or make {user} the "
                            "database's owner.")
    if state.revision is None:
        if state.tables - {"data_key"}:  # the key store may share the database
            raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL points at a database with "
                                f"tables but no Gezinslijn migrations ({place}): give Gezinslijn "
                                "a database of its own.")
        if context.startup:
            return f"{place}: empty, set up now (migration {head})"
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL points at an empty database "
                            f"({place}): `gezinslijn run` sets it up at start-up.")
    if not health.known_revision(state.revision):
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL points at a database at "
                            f"migration {state.revision} ({place}), which this version of "
                            "Gezinslijn does not know: run the version that migrated it, or a "
                            "newer one.")
    if state.revision != head:
        if context.startup:
            return f"{place}, migration {state.revision}; migrating to {head} now"
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL points at a database at "
                            f"migration {state.revision}, not {head} ({place}): `gezinslijn "
                            "run` migrates it at start-up (make a backup first).")
    return f"{place}, migration {head} (latest)"


async def _encryption_key(context: Context) -> str:
    settings = context.settings
    url = settings.database_url
    from_file = not settings.encryption_key and is_sqlite(url)
    key_file = settings.key_file.resolve()
    setting = f"GEZINSLIJN_KEY_FILE ({key_file})" if from_file else "GEZINSLIJN_ENCRYPTION_KEY"
    keys: list[str] = []
    if not (from_file and not key_file.exists()):  # a key file is created only by the bot
        keys = configure_encryption(settings)
    store = health.keystore_of(url, settings.keystore_url)
    try:
        samples = await health.sealed_samples(url, settings.keystore_url)
    except health.KeyStoreUnreachable as error:
        name = "GEZINSLIJN_KEYSTORE_URL" if settings.keystore_url else \
            "GEZINSLIJN_DATABASE_URL (the key store next to it)"
        raise SettingsError(f"The setting {name} points at a key store that cannot be read "
                            f"({health.where(store)}: {error}): check that it runs and that this "
                            "user may read it.") from None
    except health.DatabaseUnreachable as error:
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL points at a database that "
                            f"cannot be read ({health.where(url)}: {error}).") from None
    tried = samples.wrapped_keys + samples.values
    if not keys:
        if tried:
            raise SettingsError(f"The setting GEZINSLIJN_KEY_FILE names a key file that is not "
                                f"there ({key_file}), but the database holds sealed data: "
                                "restore the key file from your backup, or set "
                                "GEZINSLIJN_ENCRYPTION_KEY.")
        return f"no key yet, nothing sealed yet: the bot creates {key_file}"
    ring = _count(len(keys), "key")
    if not tried:
        return f"{ring}; nothing sealed yet"
    opened = sum(health.opens(token) for token in tried)
    if not opened:
        raise SettingsError(f"The setting {setting} does not open the data in the database "
                            f"(0 of {len(tried)} sealed values tried): set the key this database "
                            "was made with.")
    if opened < len(tried):
        context.doubt(f"The setting {setting} opens only {opened} of {len(tried)} sealed values "
                      "tried: an older key is missing; keep it after the new one until "
                      "`gezinslijn admin rotate-key` has run.")
    text = f"{ring}; opens {opened} of {len(tried)} sealed values tried " \
           f"({_count(len(samples.wrapped_keys), 'family data key')} in {health.where(store)})"
    if not is_sqlite(url) and store == url:
        # Not a failure, but the privacy officer should know (docs/privacy.md §8).
        advice = "the key store is in the data database, so its backups keep erased families " \
                 "readable: give GEZINSLIJN_KEYSTORE_URL a database of its own"
        if context.startup:
            log.warning("%s", advice)
        text = f"{text}; {advice}"
    return text


async def _clock(context: Context) -> str:
    for name in sorted(set(DEFAULT_TIMEZONES.values())):
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"The time zone data has no {name}: install the tzdata package "
                                "(apt install tzdata, or pip install tzdata).") from None
        winter = datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone(zone).utcoffset()
        summer = datetime(2026, 7, 15, 12, tzinfo=UTC).astimezone(zone).utcoffset()
        if (winter, summer) != (timedelta(hours=1), timedelta(hours=2)):
            raise SettingsError(f"The time zone data for {name} is wrong (no summer time "
                                "from UTC+1 to UTC+2): update the tzdata package.")
    zones = " and ".join(sorted(set(DEFAULT_TIMEZONES.values())))
    settings = context.settings
    clock = make_clock(settings)
    now = clock.now()
    if not isinstance(clock, SystemClock):  # settings allow it with a local Bot API only
        return f"simulated, from {now:%Y-%m-%d %H:%M} UTC at {settings.clock_speed:g}x " \
               f"(local Bot API); {zones} known"
    if now < CLOCK_FLOOR:
        raise SettingsError(f"The system clock says {now:%Y-%m-%d}: set the time (for example "
                            "with NTP), then start again.")
    text = f"system clock {now:%Y-%m-%d %H:%M} UTC; {zones} known"
    database = context.database
    if database is not None and database.server_now is not None \
            and context.database_read_at is not None:
        skew = abs(database.server_now - context.database_read_at)
        if skew > MAX_SKEW:
            context.doubt(f"The clocks of this machine and of the database in "
                          f"GEZINSLIJN_DATABASE_URL differ by {int(skew.total_seconds())} "
                          "seconds: synchronise both (NTP).")
        else:
            text += f"; PostgreSQL's clock within {max(1, round(skew.total_seconds()))} s"
    return text


Check = Callable[[Context], Awaitable[str]]
# (name, check, needs the database): in this order, the clock last (it compares with the
# database's clock).
CHECKS: tuple[tuple[str, Check, bool], ...] = (
    ("settings", _settings, False),
    ("crisis services", _crisis_services, False),
    ("database", _database, False),
    ("encryption key", _encryption_key, True),
    ("bot api", _bot_api, False),
    ("clock", _clock, False),
)


async def run_checks(settings: Settings, report: Callable[[Line], None]) -> bool:
    """`gezinslijn check`: every check, each reported as it ends; True when all passed."""
    context = Context(settings, startup=False)
    passed = True
    for name, check, needs_database in CHECKS:
        if needs_database and context.database is None:
            report(Line(SKIPPED, name, "needs the database"))
            continue
        try:
            report(Line(OK, name, await check(context)))
        except SettingsError as error:
            passed = False
            report(Line(FAILED, name, str(error)))
    return passed


async def migrate(settings: Settings) -> None:
    """Runtime.start: the migrations, with a sentence instead of a traceback when the database
    refuses them (the checks before cannot foresee every refusal)."""
    url = settings.database_url
    try:
        await health.upgrade(url)
    except health.DatabaseUnreachable as error:
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL points at a database that "
                            f"could not be brought up to date ({health.where(url)}: {error}): "
                            "check that its user owns the tables and may create new ones, then "
                            "start again.") from None


async def startup_checks(settings: Settings, webhook: bool = False) -> None:
    """`gezinslijn run` and `webhook`, before starting: raises SettingsError at the first check
    that fails; what passed goes to the log."""
    context = Context(settings, startup=True, webhook=webhook)
    for name, check, _ in CHECKS:
        log.info("check %s: %s", name, await check(context))


# Helpers --------------------------------------------------------------------------------------
def shown_api_url(url: str) -> str:
    """The Bot API address without any user or password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _http_reason(error: BaseException) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 8 and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for each in chain:
        if isinstance(each, httpx.TimeoutException | TimeoutError):
            return f"no answer within {API_TIMEOUT:g} seconds"
        if isinstance(each, ConnectionRefusedError):
            return "connection refused"
        if isinstance(each, socket.gaierror):
            return "host not found"
        if isinstance(each, ssl.SSLCertVerificationError):
            return "its TLS certificate is not trusted"
        if isinstance(each, ssl.SSLError):
            return "the TLS connection failed"
    return type(error).__name__
