"""/crisisdienst: a local crisis service in a family's agreement (PRODUCT.md §2.3).

A *huisartsenpost* or a youth-care crisis line near the family, added by its coach. It is shown
to the family beside 112 and the regional services, only while it is open. The family hears of
every change: nothing about whom they can call happens behind their back.
"""

from __future__ import annotations

from bot import wording
from bot.delivery import crisis_lines
from bot.domain.availability import WindowSyntaxError, parse_windows, windows_to_text
from bot.domain.crisis import ALWAYS
from bot.i18n import Translator
from handlers import availability_cmds
from handlers.coach import fields, resolve_family
from handlers.common import Who, Work
from storage.models import Family, FamilyService
from storage.repos import families, people

MAX_PER_FAMILY = 5
NAME_MAX = 80
REMOVE_WORDS = ("weg", "verwijder", "remove", "supprimer")


def _hours_text(tr: Translator, row: FamilyService) -> str:
    if row.hours.strip() == ALWAYS:
        return tr.gettext("dag en nacht")
    return "; ".join(availability_cmds.render_windows(tr, parse_windows(row.hours)))


def _listing(tr: Translator, family: Family, rows: list[FamilyService]) -> list[str]:
    if not rows:
        return [tr.gettext("{alias} heeft geen eigen crisisdienst. Het gezin ziet 112 en de "
                           "crisisdiensten van de regio.").format(alias=family.alias)]
    return [wording.sentence(tr.gettext("Eigen crisisdiensten van {alias}:").format(
        alias=family.alias)),
        *(f"☎️ {row.name}: {row.phone} ({_hours_text(tr, row)})" for row in rows)]


async def crisis_line(w: Work, who: Who, text: str) -> None:
    """`/crisisdienst Gezin J.` shows, `… | naam | nummer [| tijden]` adds,
    `… | weg | naam of nummer` removes."""
    assert who.staff is not None
    tr = w.tr(who)
    parts = fields(text) if text.strip() else []
    usage = tr.gettext("Toevoegen: /crisisdienst Gezin J. | Huisartsenpost | 088 0030600 | "
                       "ma-vr 17:00-24:00; za,zo 00:00-24:00")
    family = await resolve_family(w, who, tr, parts[0] if parts else "", retry=(
        "crisisdienst", "".join(f" | {p}" for p in parts[1:])))
    if family is None:
        return
    rows = await families.services_of(w.session, family.id)
    if len(parts) < 2 or not any(parts[1:]):
        w.answer(who, "\n".join([*_listing(tr, family, rows), "", usage,
                                 tr.gettext("Weghalen: /crisisdienst Gezin J. | weg | naam")]))
        return
    if parts[1].casefold() in REMOVE_WORDS:
        await _remove(w, who, tr, family, rows, parts[2] if len(parts) > 2 else "")
        return
    await _add(w, who, tr, family, rows, parts[1:], usage)


async def _add(w: Work, who: Who, tr: Translator, family: Family, rows: list[FamilyService],
               values: list[str], usage: str) -> None:
    name = values[0][:NAME_MAX]
    phone = values[1] if len(values) > 1 else ""
    hours = values[2] if len(values) > 2 and values[2] else ALWAYS
    if len(rows) >= MAX_PER_FAMILY:
        w.answer(who, tr.gettext("Een gezin kan {n} eigen crisisdiensten hebben. Haal er eerst "
                                 "een weg.").format(n=MAX_PER_FAMILY))
        return
    try:
        if hours != ALWAYS:
            hours = windows_to_text(parse_windows(hours))  # stored in one canonical form
        row = FamilyService(family_id=family.id, name=name, phone=phone, hours=hours,
                            created_by=who.staff.id if who.staff else None, created_at=w.now)
        crisis_lines.as_service(row, family)  # the number and hours as the family will see them
    except WindowSyntaxError:
        w.answer(who, "\n".join([tr.gettext("Die tijden kan ik niet lezen."), usage]))
        return
    except ValueError:
        w.answer(who, "\n".join([tr.gettext("Geef een naam en een telefoonnummer."), usage]))
        return
    await families.add_service(w.session, row)
    rows.append(row)
    w.answer(who, "\n".join(_listing(tr, family, rows)))
    await _tell_family(w, family, row, added=True)


async def _remove(w: Work, who: Who, tr: Translator, family: Family, rows: list[FamilyService],
                  which: str) -> None:
    key = which.casefold().strip()
    found = [r for r in rows if key and (r.name.casefold().startswith(key)
                                         or r.phone.replace(" ", "") == key.replace(" ", ""))]
    if len(found) != 1:
        w.answer(who, "\n".join([tr.gettext("Welke bedoel je? Geef de naam of het nummer."),
                                 *_listing(tr, family, rows)[1:]]))
        return
    await families.remove_service(w.session, found[0])
    rows.remove(found[0])
    w.answer(who, "\n".join(_listing(tr, family, rows)))
    await _tell_family(w, family, found[0], added=False)


async def _tell_family(w: Work, family: Family, row: FamilyService, added: bool) -> None:
    coaches = await families.coaches_of(w.session, family.id)
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        coach = wording.coach_names(mtr, coaches)
        if added:
            lines = [mtr.gettext("{coach} heeft een nummer voor je toegevoegd. Bel het als het "
                                 "niet kan wachten:").format(coach=coach),
                     f"☎️ {row.name}: {row.phone} ({_hours_text(mtr, row)})",
                     mtr.gettext("Bij direct gevaar: bel 112.")]
        else:
            lines = [mtr.gettext("{coach} heeft dit nummer uit je lijst gehaald:").format(
                coach=coach), f"☎️ {row.name}: {row.phone}"]
        w.out.text(member.chat_id, "\n".join(lines), purpose="notice")
