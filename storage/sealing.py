"""A family's personal data sealed with the family's own data key (crypto-shredding).

Models name the columns and the family they belong to (`__sealed__`); mapper events seal those
values with the family's key just before a row is written, and put the plain value back after,
so code above storage only ever sees plain text. A sealed value names its key
(`k<key id>:<Fernet token>`); reading finds the key in this process's cache or fetches it from
the key store (storage/keystore.py) once. Values without a family (an outbox row to a coach that
links none, a stored update) are sealed with the master key ring instead (storage/crypto.py).

Why events, not only column types: a column type sees a value, never its row, so it cannot know
whose key to use.
"""

from __future__ import annotations

import re
import weakref
from contextvars import ContextVar
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, attributes, object_session
from sqlalchemy.orm.base import PassiveFlag
from sqlalchemy.util import await_only

from storage import keystore
from storage.plain_memo import PlainMemo

TOKEN = re.compile(r"k([0-9a-f]{24}):(.+)", re.S)
FAMILY_KEYS = "gezinslijn_family_keys"  # session.info: family id -> key id, this transaction

_current: ContextVar[keystore.KeyStore | None] = ContextVar("gezinslijn_keystore", default=None)
_plain: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
# What this process sealed or opened lately (storage/plain_memo.py); used only while the
# value's key is in this process's cache (a destroyed key is not), emptied with it.
memo = PlainMemo()
keystore.on_forget(memo.clear)


class SealingError(RuntimeError):
    """A value cannot be sealed (its family's key is gone): a bug or a race, never silent."""


class FamilyToken(str):
    """A value already sealed with a family key: the column type binds it as it is."""


def use(store: keystore.KeyStore) -> Any:
    """Within a unit of work: new keys go to, and missing keys come from, this store."""
    return _current.set(store)


def stop_using(token: Any) -> None:
    _current.reset(token)


def current_store() -> keystore.KeyStore:
    store = _current.get()
    if store is None:
        raise SealingError("no key store for this unit of work (open it with Database)")
    return store


def _key(key_id: str) -> Fernet | None:
    """From the cache, else from the key store (inside SQLAlchemy's greenlet: an ORM query is
    being read or flushed, so the fetch can wait on the event loop)."""
    found = keystore._keys.get(key_id)
    if found is not None:
        return found
    current = _current.get()
    if current is not None:
        return await_only(current.fetch(key_id))
    # A session not opened by Database.transaction (a test, a tool): the stores this process
    # knows, skipping any that cannot be reached (a database already gone).
    for store in keystore.stores():
        try:
            found = await_only(store.fetch(key_id))
        except Exception:  # another store may hold it
            continue
        if found is not None:
            return found
    return None


def seal(key_id: str, plain: str) -> FamilyToken:
    key = _key(key_id)
    if key is None:
        raise SealingError("the family's data key is gone")
    token = FamilyToken(f"k{key_id}:{key.encrypt(plain.encode('utf-8')).decode('ascii')}")
    memo.put(token, plain)
    return token


def open_token(value: str) -> str | None:
    """The plain text of a family-sealed value; "" when its key was destroyed (erased: that
    is the point); None when the value is not family-sealed."""
    match = TOKEN.fullmatch(value)
    if match is None:
        return None
    if match.group(1) in keystore._keys:  # its key still here: as opening it would give
        known = memo.get(value)
        if known is not None:
            return known
    key = _key(match.group(1))
    if key is None:
        return ""
    try:
        plain = key.decrypt(match.group(2).encode("ascii")).decode("utf-8")
    except InvalidToken:
        return ""
    memo.put(value, plain)
    return plain


def key_of(value: str | None) -> str | None:
    match = TOKEN.fullmatch(value or "")
    return match.group(1) if match else None


# Mapper events ------------------------------------------------------------------------------
def listen(family: type[Any], models: list[type[Any]]) -> None:
    """Seal the `__sealed__ = (family attribute, (column, …))` columns of each model; the
    family model seals with its own `key_id` (created with the family)."""
    for model in [family, *models]:
        event.listen(model, "before_insert", _before_insert)
        event.listen(model, "before_update", _before_update)
        event.listen(model, "after_insert", _after)
        event.listen(model, "after_update", _after)


def _before_insert(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _seal_row(mapper, connection, target, inserting=True)


def _before_update(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _seal_row(mapper, connection, target, inserting=False)


def _seal_row(mapper: Mapper[Any], connection: Connection, target: Any,
              inserting: bool) -> None:
    family_attr, columns = target.__sealed__
    # A column not loaded (deferred) has not changed: asking its history must not load it (a
    # SELECT per row in the flush, after the pass's writes had begun).
    changed = [name for name in columns if inserting or attributes.get_history(
        target, name, passive=PassiveFlag.PASSIVE_NO_INITIALIZE).has_changes()]
    values = {name: getattr(target, name) for name in changed}
    values = {name: v for name, v in values.items()
              if v is not None and not isinstance(v, FamilyToken)}
    if not values:
        return
    key_id = _family_key(connection, target, family_attr)
    if key_id is None:
        return  # no family: the column type seals it with the master key
    # Into the instance's dict, past validators (they would turn the token into a plain str);
    # the flush reads the values to write from there.
    state = attributes.instance_dict(target)
    for name, value in values.items():
        state[name] = seal(key_id, mapper.columns[name].type.to_text(value))
    _plain[target] = values


def _after(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    for name, value in _plain.pop(target, {}).items():
        attributes.set_committed_value(target, name, value)


def _family_key(connection: Connection, target: Any, family_attr: str) -> str | None:
    session = object_session(target)
    if family_attr == "key_id":  # the family row itself
        known: dict[int, str] = session.info.setdefault(FAMILY_KEYS, {}) if session else {}
        if target.key_id is None:
            target.key_id = known.get(target.id) or await_only(current_store().create())
        return str(target.key_id)
    family_id = getattr(target, family_attr)
    return None if family_id is None else family_key(connection, session, family_id)


def seal_for_family(connection: Connection, session: Any, family_id: int | None,
                    plain: str) -> FamilyToken | None:
    """`plain` sealed with the family's key, for a row written without the ORM (in the
    session's greenlet, on its connection); None for no family (the column type seals it
    with the master key ring, as for a mapped row)."""
    if family_id is None:
        return None
    return seal(family_key(connection, session, family_id), plain)


def family_key(connection: Connection, session: Any, family_id: int) -> str:
    """The family's data key id, made when it has none yet; known for the rest of the
    transaction."""
    known: dict[int, str] = session.info.setdefault(FAMILY_KEYS, {}) if session else {}
    if family_id in known:
        return known[family_id]
    # FOR SHARE (PostgreSQL): an erasure re-keying this family waits for this transaction,
    # or this one waits for it and then reads the new key; never sealed with a destroyed key.
    lock = " FOR SHARE" if connection.dialect.name == "postgresql" else ""
    key_id = connection.execute(text(f"SELECT key_id FROM family WHERE id = :id{lock}"),
                                {"id": family_id}).scalar()
    if key_id is None:
        key_id = await_only(current_store().create())
        connection.execute(text("UPDATE family SET key_id = :key WHERE id = :id"),
                           {"key": key_id, "id": family_id})
        loaded_rows: list[Any] = list(session.identity_map.values()) if session else []
        for loaded in loaded_rows:
            if getattr(loaded, "__tablename__", "") == "family" and loaded.id == family_id:
                attributes.set_committed_value(loaded, "key_id", key_id)
    known[family_id] = key_id
    return str(key_id)


def remember(session: Any, family_id: int, key_id: str) -> None:
    """This transaction seals the family's rows with `key_id` from now on (re-keying)."""
    session.info.setdefault(FAMILY_KEYS, {})[family_id] = key_id
