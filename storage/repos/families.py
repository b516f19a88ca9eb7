"""Families, the coaches they have, and the crisis services their agreement adds."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.text import fold_accents
from storage import sealing
from storage.models import Absence, Family, FamilyCoach, FamilyService, Member, Staff

_WORD = re.compile(r"[^\W_]+")


def match_alias(families: Sequence[Family], text: str) -> list[Family]:
    """The families a coach means by `text`, named as coaches name them: case and accents
    do not matter, nor do dots and dashes. The full alias wins ("Gezin J." over
    "Gezin Jansen"); else every family each typed word begins a word of ("jansen", "amrani"
    for "Gezin El-Amrani", "j"), or whose whole alias begins with the text. Several found: the
    caller asks which one (coach.resolve_family)."""
    key = _alias_key(text)
    if not key:
        return []
    words = alias_words(text)
    exact = [f for f in families
             if _alias_key(f.alias) == key or (words and alias_words(f.alias) == words)]
    if exact:
        return exact
    return [f for f in families if _alias_key(f.alias).startswith(key)
            or (words and _each_begins_a_word(words, alias_words(f.alias)))]


# Words many aliases share: a run of first words made of these only names no family in
# particular ("Gezin W." is not "Gezin" and a name "W.").
_GENERIC = frozenset({"gezin", "familie", "famille", "family", "fam", "de", "van", "der", "den",
                      "le", "la", "el", "al"})


def without_fields(text: str) -> bool:
    """A command's line typed without `|` and of more than one word: one `split_alias` may
    split (checked before the families are fetched for it)."""
    return "|" not in text and len(text.split()) > 1


def split_alias(families: Sequence[Family], text: str) -> tuple[str, str] | None:
    """A command's line typed without `|` ("jansen wekelijks"): the longest run of first words
    that names a family (`match_alias`) by more than generic words, and the rest. None when
    the whole line names one, or its first words name none."""
    if not without_fields(text) or match_alias(families, text):
        return None
    words = text.split()
    for size in range(len(words) - 1, 0, -1):
        run = " ".join(words[:size])
        if set(alias_words(run)) - _GENERIC and match_alias(families, run):
            return run, " ".join(words[size:])
    return None


CLOSE = 0.8  # difflib's ratio: "jansn"/"jansen" 0.91, "peters"/"peeters" 0.92, "jan"/"jos" 0.33


def close_aliases(families: Sequence[Family], text: str) -> list[Family]:
    """The families a name typed with a slip may mean (`match_alias` found none): each typed
    word close to a word of the alias (difflib's ratio, `CLOSE`) or the beginning of one.
    Offered to tap, never taken as the answer: a wrong family is worse than a question."""
    typed = [word for word in alias_words(text) if len(word) > 1]
    if not typed:
        return []

    def close(word: str, alias: list[str]) -> bool:
        return any(a.startswith(word) or difflib.SequenceMatcher(None, word, a).ratio() >= CLOSE
                   for a in alias)

    return [f for f in families if all(close(w, alias_words(f.alias)) for w in typed)]


def alias_words(text: str) -> list[str]:
    """`Gezin El-Amrani` → ["gezin", "el", "amrani"]: folded, split at anything not a letter
    or digit."""
    return _WORD.findall(fold_accents(text))


def _alias_key(text: str) -> str:
    return " ".join(fold_accents(text).split())


def _each_begins_a_word(typed: Sequence[str], alias: Sequence[str]) -> bool:
    return all(any(word.startswith(part) for word in alias) for part in typed)


# Families ----------------------------------------------------------------------------------
async def family_by_id(session: AsyncSession, family_id: int) -> Family | None:
    return await session.get(Family, family_id)


async def families_by_id(session: AsyncSession, family_ids: Sequence[int]) -> dict[int, Family]:
    """Several families in one query (a job's batch: not one `family_by_id` each)."""
    if not family_ids:
        return {}
    return {family.id: family for family in (await session.scalars(
        select(Family).where(Family.id.in_(sorted(set(family_ids)))))).all()}


async def family_for_writing(session: AsyncSession, family_id: int) -> Family | None:
    """The family, read FOR SHARE (PostgreSQL) like storage/sealing.py reads a family's key:
    what this transaction seals for it then uses the key it read, without asking again, and
    an erasure re-keying the family waits for this transaction (or this one for it)."""
    family = await session.get(Family, family_id, with_for_update={"read": True})
    if family is not None and family.key_id is not None:
        sealing.remember(session, family.id, family.key_id)
    return family


# Built once, with their values as parameters: every update reads them, and a statement built
# afresh spent more CPU on its cache key than the database on the query (bench/README.md).
@dataclass(frozen=True)
class MemberAt:
    """A member writing, their family, and everyone the family's messages may go to."""

    member: Member
    family: Family
    around: StaffAround


async def member_and_family(session: AsyncSession, chat_id: int, now: datetime
                            ) -> MemberAt | None:
    """The member writing from this chat, their family (read as family_for_writing reads
    it) and the staff around it at `now` (as staff_around reads them), in one query: every
    update of a member reads the first two, and a message to the coach, most of them, all
    three (one round trip where two were, issue 16)."""
    found = (await session.execute(_member_and_family(),
                                   {"f_chat": chat_id, "f_now": now})).all()
    if not found:
        return None
    member, family = found[0][:2]
    if family.key_id is not None:
        sealing.remember(session, family.id, family.key_id)
    return MemberAt(member, family, _around(
        [(s, since, absence) for _, _, s, since, absence in found if s is not None],
        family.oncall_agreed))


@functools.cache
def _member_and_family() -> Any:
    """Built once (it runs for every update of a member). The staff joined as
    _staff_around picks them, for the member's family; none: one row, without staff."""
    reachable = Staff.chat_id.is_not(None)
    coaching = aliased(FamilyCoach, name="coaching")
    return (
        select(Member, Family, Staff, FamilyCoach.since, Absence)
        .join(Family, Family.id == Member.family_id)
        .outerjoin(Staff, and_(Staff.active.is_(True), or_(
            Staff.id.in_(select(coaching.staff_id).where(coaching.family_id == Family.id)),
            and_(Staff.is_coordinator.is_(True), reachable),
            and_(Family.oncall_agreed.is_(True), Staff.is_oncall.is_(True), reachable))))
        .outerjoin(FamilyCoach, and_(FamilyCoach.staff_id == Staff.id,
                                     FamilyCoach.family_id == Family.id))
        .outerjoin(Absence, and_(
            Absence.staff_id == Staff.id,
            Absence.ends_at > bindparam("f_now", type_=Absence.__table__.c.ends_at.type)))
        .where(Member.chat_id == bindparam("f_chat", type_=Member.__table__.c.chat_id.type))
        .with_for_update(read=True, of=Family))


async def active_families(session: AsyncSession) -> Sequence[Family]:
    return (await session.scalars(select(Family).where(Family.active.is_(True)))).all()


async def families_of_coach(session: AsyncSession, staff_id: int) -> Sequence[Family]:
    """By alias; sorted here, because aliases are sealed in the database."""
    found = (await session.scalars(
        select(Family).join(FamilyCoach, FamilyCoach.family_id == Family.id)
        .where(FamilyCoach.staff_id == staff_id, Family.active.is_(True)))).all()
    return sorted(found, key=lambda family: (family.alias.casefold(), family.id))


async def add_family(session: AsyncSession, alias: str, region: str, timezone: str,
                     now: datetime) -> Family:
    """A new active family (flushed: its id is known)."""
    family = Family(alias=alias, region=region, timezone=timezone, open_on_holidays=False,
                    oncall_agreed=False, active=True, created_at=now)
    session.add(family)
    await session.flush()
    return family


# Coaches of a family ---------------------------------------------------------------------------
async def coaches_of(session: AsyncSession, family_id: int) -> Sequence[Staff]:
    return (await session.scalars(
        select(Staff).join(FamilyCoach, FamilyCoach.staff_id == Staff.id)
        .where(FamilyCoach.family_id == family_id, Staff.active.is_(True))
        .order_by(FamilyCoach.since, Staff.id))).all()


@dataclass(frozen=True)
class StaffAround:
    """Everyone a family message may go to, read at once (bot/delivery/recipients.py)."""

    coaches: list[Staff]  # as coaches_of
    coordinators: list[Staff]  # as people.coordinators
    oncall: list[Staff]  # as people.oncall_staff, when asked for
    absences: list[Absence]  # of all of them, not ended at `now` (absences_not_ended)


async def staff_around(session: AsyncSession, family_id: int, with_oncall: bool,
                       now: datetime) -> StaffAround:
    """The family's coaches, the coordinators, when asked the on-call team, and their
    absences, in one query: a family message needs all of them (one round trip where two
    were, issue 16)."""
    rows = (await session.execute(_staff_around(with_oncall),
                                  {"f_family": family_id, "f_now": now})).all()
    return _around([(s, since, absence) for s, since, absence in rows], with_oncall)


def _around(rows: Sequence[tuple[Staff, datetime | None, Absence | None]], with_oncall: bool
            ) -> StaffAround:
    """Staff rows as _staff_around reads them: a person with when they began to coach the
    family (None: not its coach), one row per absence."""
    since = {s.id: when for s, when, _ in rows}  # a row per absence: each person once
    by_id = sorted({s.id: s for s, _, _ in rows}.values(), key=lambda s: s.id)
    coaches = sorted((s for s in by_id if since[s.id] is not None),
                     key=lambda s: (since[s.id], s.id))
    absences = sorted({a.id: a for _, _, a in rows if a is not None}.values(),
                      key=lambda a: a.id)
    return StaffAround(
        coaches,
        [s for s in by_id if s.is_coordinator and s.chat_id is not None],
        [s for s in by_id if with_oncall and s.is_oncall and s.chat_id is not None],
        absences)


@functools.cache
def _staff_around(with_oncall: bool) -> Any:
    """Built once (member_and_family says why)."""
    reachable = Staff.chat_id.is_not(None)
    return (
        select(Staff, FamilyCoach.since, Absence)
        .outerjoin(FamilyCoach, and_(
            FamilyCoach.staff_id == Staff.id,
            FamilyCoach.family_id == bindparam("f_family",
                                               type_=FamilyCoach.__table__.c.family_id.type)))
        .outerjoin(Absence, and_(
            Absence.staff_id == Staff.id,
            Absence.ends_at > bindparam("f_now", type_=Absence.__table__.c.ends_at.type)))
        .where(Staff.active.is_(True), or_(
            FamilyCoach.family_id.is_not(None),
            and_(Staff.is_coordinator.is_(True), reachable),
            and_(Staff.is_oncall.is_(True), reachable) if with_oncall else false())))


async def is_coach_of(session: AsyncSession, staff_id: int, family_id: int) -> bool:
    found = await session.scalar(select(func.count()).select_from(FamilyCoach).where(
        FamilyCoach.staff_id == staff_id, FamilyCoach.family_id == family_id))
    return bool(found)


def add_coach(session: AsyncSession, family_id: int, staff_id: int, now: datetime) -> None:
    """`staff_id` coaches the family from now on (beside any coach it has)."""
    session.add(FamilyCoach(family_id=family_id, staff_id=staff_id, since=now))


async def remove_coaches(session: AsyncSession, family_id: int,
                         staff_ids: Sequence[int]) -> None:
    """These coaches no longer coach the family (flushed, so a new link may follow)."""
    for staff_id in staff_ids:
        link = await session.get(FamilyCoach, (family_id, staff_id))
        if link is not None:
            await session.delete(link)
    await session.flush()


# The family's own crisis services ------------------------------------------------------------
async def services_of(session: AsyncSession, family_id: int) -> list[FamilyService]:
    """The crisis services a family's agreement adds, oldest first."""
    return list((await session.scalars(select(FamilyService).where(
        FamilyService.family_id == family_id).order_by(FamilyService.id))).all())


async def add_service(session: AsyncSession, service: FamilyService) -> None:
    session.add(service)
    await session.flush()


async def remove_service(session: AsyncSession, service: FamilyService) -> None:
    await session.delete(service)
