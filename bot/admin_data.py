"""`gezinslijn admin backup PATH` and `gezinslijn admin migrate-to URL`: the data copied
elsewhere, for an operator (README: Backups).

Plain English like the rest of the command line; paths, URLs without passwords, table names and
counts only, never content. Neither command needs the Telegram token or the encryption key:
sealed values are copied as they are.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from bot.settings import Settings
from storage import backup as copies
from storage.db import DatabaseUrlError, async_url, is_sqlite, sqlite_file
from storage.keystore import keystore_url
from storage.migrate import upgrade_async
from storage.repos.outbox_admin import DATABASE_ERRORS, display_url, unreachable


class Refused(Exception):
    """One sentence for the operator: why nothing was copied."""


def _keystore(settings: Settings) -> str:
    return settings.keystore_url or keystore_url(settings.database_url)


def _key_advice(settings: Settings) -> str:
    where = ("GEZINSLIJN_ENCRYPTION_KEY" if settings.encryption_key
             else f"the key file {settings.key_file.resolve()}")
    return (f"Without the encryption key ({where}) these copies cannot be read: keep it apart "
            "from them, for example in your organisation's password manager.")


def _sqlite_source(settings: Settings, command: str) -> Path:
    if not is_sqlite(settings.database_url):
        if command == "backup":
            raise Refused("gezinslijn admin backup copies a SQLite database; back up "
                          "PostgreSQL with pg_dump, the data and the key store each "
                          "(README: Backups).")
        raise Refused("gezinslijn admin migrate-to moves a SQLite database; move PostgreSQL "
                      "with pg_dump and pg_restore.")
    path = sqlite_file(settings.database_url)
    if path is None:
        raise Refused("The database is in memory: there is no file to copy.")
    return path


def _absolute(path: str) -> Path:
    return Path(path).expanduser().absolute()


# Backup ------------------------------------------------------------------------------------------
async def backup(settings: Settings, path: str) -> str:
    """A copy of the running bot's SQLite database at `path`, and of its key store beside it
    (named as the bot would look for it: `x.db` -> `x-keys.db`)."""
    data = _sqlite_source(settings, "backup")
    target = _absolute(path)
    keys_live = sqlite_file(_keystore(settings))
    keys_copy = sqlite_file(keystore_url(f"sqlite:///{target}"))
    keys = None  # the key store, unless it is in the data file or not a SQLite file
    if keys_live is not None and keys_live != data and keys_copy is not None:
        keys = (keys_live, keys_copy)
    try:
        done = await copies.backup(data, target, keys)
    except copies.CopyError as error:
        raise Refused(str(error)) from None
    except OSError as error:
        raise Refused(f"The backup could not be written ({error.strerror or error}).") from None
    lines = [f"Backed up the database {data} to {done.data} (integrity check: ok)."]
    if done.keys is not None:
        lines.append(f"Backed up its key store {keys_live} to {done.keys} ({done.key_count} "
                     "family keys; integrity check: ok).")
    elif keys_live == data:
        lines.append("The key store is inside the database file: the copy holds both.")
    else:
        lines.append(f"The key store is not a SQLite file ({display_url(_keystore(settings))}): "
                     "back it up with pg_dump, apart from this copy.")
    lines += [_key_advice(settings),
              "Keep key-store backups briefly (no longer than the retention period): an erasure "
              "reaches an old backup only once no key store from before it is left.",
              "To restore: stop the bot and put the copies in place (README: Backups)."]
    return "\n".join(lines)


# migrate-to --------------------------------------------------------------------------------------
def _check_url(url: str, what: str) -> None:
    try:
        async_url(url)
    except DatabaseUrlError as error:
        raise Refused(f"The {what} is not a database URL I can use: {error}.") from None


def _same(url: str, other: str) -> bool:
    files = sqlite_file(url), sqlite_file(other)
    return url == other or (files[0] is not None and files[0] == files[1])


def _hold(data: Path) -> FileLock:
    """The lock a running bot holds on its file (bot.app.hold_database_file); held here until
    the move is done, so no bot starts on the file meanwhile."""
    lock = FileLock(f"{data}.lock", timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise Refused(f"A Gezinslijn bot is running on {data}: stop it first (migrate-to moves "
                      "a database nobody is writing to).") from None
    return lock


async def migrate_to(settings: Settings, url: str, keys_url: str | None = None) -> str:
    """Every row of the stopped bot's SQLite database, and its key store, into an empty
    database at `url` (migrated to the latest version first); the key store to `keys_url`, by
    default where the bot would look for it (in that database itself, for PostgreSQL)."""
    data = _sqlite_source(settings, "migrate-to")
    if not data.is_file():
        raise Refused(f"The database {data} is not there: is GEZINSLIJN_DATABASE_URL right?")
    source_keys = _keystore(settings)
    _check_url(url, "target URL")
    target_keys = keys_url or keystore_url(url)
    _check_url(target_keys, "key store URL")
    if _same(url, settings.database_url) or _same(target_keys, source_keys):
        raise Refused("The target is the database (or key store) being moved: give another URL.")
    lock = _hold(data)
    try:
        moved = await _move(settings.database_url, source_keys, url, target_keys)
    finally:
        lock.release()
    return _moved_report(settings, data, url, target_keys, moved, keys_url is not None)


async def _move(source: str, source_keys: str, url: str, target_keys: str) -> copies.Moved:
    step = source  # the database named in the sentence, should one fail
    try:
        await copies.check_source(source)
        step = url
        await upgrade_async(url)
        step = target_keys
        filled = await copies.filled_tables(url, target_keys)
        if filled:
            name, count = next(iter(filled.items()))
            raise Refused(f"The target already holds data (table {name}: {count} rows): "
                          "migrate-to only fills an empty database.")
        step = url
        return await copies.move_database(source, source_keys, url, target_keys)
    except copies.CopyError as error:
        raise Refused(str(error)) from None
    except DATABASE_ERRORS as error:
        raise Refused(f"{unreachable(step, error)} Nothing was moved.") from None


def _moved_report(settings: Settings, data: Path, url: str, target_keys: str,
                  moved: copies.Moved, keys_given: bool) -> str:
    width = max(len(name) for name in moved.rows) + 2
    lines = [f"Moved {data} to {display_url(url)} (rows per table):"]
    lines += [f"  {name:<{width}}{count:>8}" for name, count in moved.rows.items()]
    lines += [f"  {'data_key':<{width}}{moved.keys:>8}  family keys, in the key store "
              f"{display_url(target_keys)}", "",
              "Run the bot on it with these settings:",
              f"  GEZINSLIJN_DATABASE_URL={display_url(url)}"]
    if target_keys != url:
        lines.append(f"  GEZINSLIJN_KEYSTORE_URL={display_url(target_keys)}")
    lines.append("  GEZINSLIJN_ENCRYPTION_KEY: " + (
        "the same key as now" if settings.encryption_key
        else f"the key in {settings.key_file.resolve()} (PostgreSQL needs the setting)"))
    if target_keys == url and not is_sqlite(url) and not keys_given:
        lines.append("The key store is now in the data database: give it a database of its own "
                     "(--keystore-url) so that an erasure reaches backups too (docs/privacy.md).")
    lines.append("The SQLite files were left as they are: delete them (and their backups) once "
                 "the bot runs well on the new database.")
    return "\n".join(lines)
