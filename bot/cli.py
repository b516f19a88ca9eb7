"""The `gezinslijn` command: run, webhook, demo, admin."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import timedelta

from bot.settings import Settings, SettingsError, load_settings


def _logging(settings: Settings | None) -> None:
    level = settings.log_level if settings else "INFO"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Whatever the level, libraries stay at WARNING: httpx logs every request URL (the URL
    # carries the bot token), python-telegram-bot and aiosqlite log at DEBUG every request's
    # and statement's parameters (message contents, names, aliases). PRODUCT.md §5. Alembic's
    # set-up lines would bury a refusal sentence at start-up.
    for name in ("httpx", "httpcore", "aiohttp", "telegram", "aiosqlite", "asyncpg", "sqlalchemy",
                 "apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


async def _serve(settings: Settings, polling: bool) -> None:
    from bot.app import Runtime
    from bot.checks import startup_checks

    await startup_checks(settings, webhook=not polling)  # a sentence, never a traceback
    runtime = Runtime(settings, freeze_heap=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runtime.stop_event.set)
    if polling:
        await runtime.run_until_stopped(polling=True)
        return
    from bot.webhook import serve_webhook

    await serve_webhook(runtime)


def _check(settings: Settings) -> int:
    """`gezinslijn check`: one line per check, a failure as a sentence on stderr (exit 2)."""
    from bot.checks import FAILED, Line, run_checks

    def show(line: Line) -> None:
        if line.status == FAILED:
            print(f"gezinslijn: {line.text}", file=sys.stderr, flush=True)
        else:
            print(f"{line.status:<4} {line.name}: {line.text}", flush=True)

    return 0 if asyncio.run(run_checks(settings, show)) else 2


async def _invite_coordinator(settings: Settings) -> str:
    from telegram import Bot

    from bot.app import configure_encryption, make_clock
    from bot.invites import create_invite
    from bot.tokens import invite_link
    from storage.db import Database
    from storage.migrate import upgrade_async

    configure_encryption(settings)
    await upgrade_async(settings.database_url)
    async with Bot(settings.telegram_token, base_url=settings.telegram_api_url) as bot:
        username = bot.username
    clock = make_clock(settings)
    db = Database(settings.database_url, settings.keystore_url or None)
    try:
        async with db.transaction() as session:
            token, _ = create_invite(session, "coordinator", clock.now(),
                                     timedelta(days=settings.invite_days))
    finally:
        await db.dispose()
    return invite_link(username, token)


def _admin_outbox(args: argparse.Namespace, settings: Settings) -> int:
    """The outbox report, or `--requeue`; ages against the real time, whatever clock the bot
    runs on (a simulated clock would start anew in this process)."""
    from bot.admin_outbox import report, requeue
    from bot.clock import SystemClock
    from storage.db import DatabaseUrlError, async_url
    from storage.repos.outbox_admin import DatabaseUnreachable

    try:  # as bot.app.check_database_url, without loading the whole bot
        async_url(settings.database_url)
    except DatabaseUrlError as error:
        raise SettingsError(f"The setting GEZINSLIJN_DATABASE_URL is not valid: {error}.") from None
    try:
        if args.requeue:
            text = asyncio.run(requeue(settings.database_url, SystemClock(), args.status,
                                       args.purpose))
        else:
            text = asyncio.run(report(settings.database_url, SystemClock()))
    except DatabaseUnreachable as error:
        print(f"gezinslijn: {error}", file=sys.stderr)
        return 1
    print(text)
    return 0


async def _rotate_key(settings: Settings) -> str:
    """Re-wrap every family's data key, and re-seal what the master key sealed, with the first
    key of GEZINSLIJN_ENCRYPTION_KEY; safe while the bot runs (README: key rotation)."""
    from bot.app import check_database_url, configure_encryption
    from storage.db import Database
    from storage.rotation import rotate_master_key

    check_database_url(settings)
    keys = configure_encryption(settings)
    db = Database(settings.database_url, settings.keystore_url or None)
    try:
        done = await rotate_master_key(db)
    finally:
        await db.dispose()
    lines = [f"Re-wrapped {done.data_keys} family data keys and re-sealed {done.values} values "
             "with the first key."]
    if len(keys) > 1:
        lines.append("Once every instance runs with this key first, the other keys can be "
                     "removed from GEZINSLIJN_ENCRYPTION_KEY.")
    return "\n".join(lines)


def _admin_data(args: argparse.Namespace) -> int:
    """`admin backup` and `admin migrate-to` (bot/admin_data.py): no Telegram token needed."""
    from bot import admin_data

    try:
        settings = load_settings(require_token=False)
        _logging(settings)
        if args.admin_command == "backup":
            text = asyncio.run(admin_data.backup(settings, args.path))
        else:
            text = asyncio.run(admin_data.migrate_to(settings, args.url, args.keystore_url))
    except SettingsError as error:
        print(f"gezinslijn: {error}", file=sys.stderr)
        return 2
    except admin_data.Refused as error:
        print(f"gezinslijn: {error}", file=sys.stderr)
        return 1
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gezinslijn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot with long polling")
    sub.add_parser("webhook", help="run the bot behind a webhook")
    sub.add_parser("check", help="check settings, Bot API and token, database, key, crisis "
                                 "services and clock, one line each; changes nothing")
    demo = sub.add_parser("demo", help="the whole product offline, as a readable transcript")
    demo.add_argument("--speed", type=float, default=60.0,
                      help="simulated seconds per real second")
    admin = sub.add_parser("admin", help="server-side tasks")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_sub.add_parser("invite-coordinator", help="print a one-time invite link")
    admin_sub.add_parser("new-key", help="print a new encryption key")
    admin_sub.add_parser("rotate-key", help="re-seal everything with the first encryption key "
                                            "(the others can be removed afterwards)")
    outbox = admin_sub.add_parser(
        "outbox", help="what the bot still has to send and what it gave up on (counts only)")
    outbox.add_argument("--requeue", action="store_true",
                        help="send failed, parked and expired messages after all, and handle "
                             "kept-aside updates again")
    outbox.add_argument("--purpose", help="with --requeue: only messages of this purpose")
    outbox.add_argument("--status", choices=["failed", "parked", "expired"],
                        help="with --requeue: only messages with this status")
    backup = admin_sub.add_parser(
        "backup", help="a consistent copy of a SQLite database and its key store, while the bot "
                       "runs (README: Backups)")
    backup.add_argument("path", help="the new file; the key store goes beside it "
                                     "(x.db -> x-keys.db); an existing file is never overwritten")
    migrate = admin_sub.add_parser(
        "migrate-to", help="move a SQLite database to an empty database (PostgreSQL); stop the "
                           "bot first")
    migrate.add_argument("url", help="the target database, e.g. postgresql://user@host/db")
    migrate.add_argument("--keystore-url",
                         help="where the key store goes (the GEZINSLIJN_KEYSTORE_URL the bot "
                              "will run with); default: where the bot looks for it, the "
                              "target database itself for PostgreSQL")
    args = parser.parse_args(argv)
    if getattr(args, "admin_command", None) == "outbox" and not args.requeue \
            and (args.purpose or args.status):
        parser.error("--purpose and --status go with --requeue")

    if args.command == "demo":
        _logging(None)
        logging.getLogger().setLevel(logging.WARNING)
        from bot.demo import run_demo

        return asyncio.run(run_demo(speed=args.speed))
    if args.command == "admin" and args.admin_command == "new-key":
        from storage.crypto import new_key

        print(new_key())
        return 0
    if args.command == "admin" and args.admin_command in ("backup", "migrate-to"):
        return _admin_data(args)
    outbox_command = args.command == "admin" and args.admin_command == "outbox"
    rotate_command = args.command == "admin" and args.admin_command == "rotate-key"
    try:
        settings = load_settings(require_token=not (outbox_command or rotate_command))
        if args.command == "webhook" and not settings.webhook_url:
            raise SettingsError("The setting GEZINSLIJN_WEBHOOK_URL is missing: webhook mode "
                                "needs the public https address Telegram should call.")
        if args.command == "webhook" and len(settings.webhook_secret) < 16:
            raise SettingsError("The setting GEZINSLIJN_WEBHOOK_SECRET is missing or too short "
                                "(at least 16 characters of A-Z, a-z, 0-9, _ and -).")
        _logging(settings)
        if args.command == "check":
            return _check(settings)
        if outbox_command:
            return _admin_outbox(args, settings)
        if rotate_command:
            print(asyncio.run(_rotate_key(settings)))
            return 0
        if args.command == "admin":
            print(asyncio.run(_invite_coordinator(settings)))
            return 0
        asyncio.run(_serve(settings, polling=args.command == "run"))
        return 0
    except SettingsError as error:
        print(f"gezinslijn: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
