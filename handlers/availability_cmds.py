"""PRODUCT.md §2.3 commands: /bereikbaar (family), /bereikbaarheid and /afwezig (coach)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta

from bot import outbox, wording
from bot.delivery import crisis_lines
from bot.delivery.recipients import absences_of, agreement_of
from bot.domain import availability
from bot.domain.availability import (
    MIDNIGHT,
    Agreement,
    Policy,
    WindowSyntaxError,
    absence_for_days,
    format_windows,
    is_open,
    next_opening,
    parse_windows,
    windows_to_text,
)
from bot.domain.text import compare_key
from bot.domain.when import WhenError, parse_day, split_moment
from bot.i18n import N_, Translator
from handlers import flow, picks
from handlers.coach import ALIAS_MAX, families_of, fields, resolve_family
from handlers.common import Who, Work
from storage.models import Absence, Family, Staff
from storage.repos import absences, families, messages, people

POLICY_WORDS = {
    "crisis": Policy.CRISIS, "oncall": Policy.ONCALL, "dienst": Policy.ONCALL,
    "always": Policy.ALWAYS, "altijd": Policy.ALWAYS, "toujours": Policy.ALWAYS,
    "save": Policy.SAVE, "bewaren": Policy.SAVE, "bewaar": Policy.SAVE,
}
DEFAULT_WORDS = ("standaard", "default", "défaut")  # a family back to the coach's standard
POLICY_NAMES = {
    Policy.CRISIS: N_("buiten de tijden: bewaren en crisisnummers tonen"),
    Policy.ONCALL: N_("buiten de tijden: bewaren, crisisnummers en de crisisdienst"),
    Policy.ALWAYS: N_("altijd bereikbaar voor dit gezin"),
    Policy.SAVE: N_("buiten de tijden: bewaren tot het volgende bezoek"),
}
# The agreement's urgent choice (PRODUCT.md §2.3): urgent messages at once, at any hour, or held
# like the rest (the default: the coach's boundaries first).
URGENT_WORDS = {
    "spoed altijd": True, "spoed direct": True, "spoed meteen": True, "urgent altijd": True,
    "urgent anytime": True, "urgent always": True, "urgence toujours": True,
    "spoed bewaren": False, "spoed niet": False, "urgent bewaren": False,
    "urgent held": False, "urgent hold": False, "urgence garder": False,
}
URGENT_NAMES = {
    True: N_("spoed: meteen bij de coach, ook buiten de tijden"),
    False: N_("spoed: buiten de tijden bewaren, het gezin krijgt de crisisnummers"),
}
WINDOW_PROBLEMS = {
    "empty": N_("Ik zie geen tijden."),
    "unknown_day": N_("Ik ken de dag '{fragment}' niet."),
    "bad_time": N_("'{fragment}' is geen tijd die ik kan lezen."),
    "end_before_start": N_("'{fragment}': loopt dit door na middernacht? Schrijf dan beide "
                           "tijden met twee cijfers."),
    "missing_days": N_("Zet de dagen voor de tijden, zoals: ma-vr 09:00-17:00"),
    "missing_time": N_("Zet tijden achter de dagen, zoals: ma-vr 09:00-17:00"),
    "syntax": N_("Ik kan '{fragment}' niet lezen."),
}


def render_windows(tr: Translator, windows: Sequence[availability.Window]) -> list[str]:
    """'ma t/m vr: 09:00–17:00' in the reader's language (Babel day names)."""
    names = tr.locale.days["format"]["abbreviated"]
    lines = []
    for group in format_windows(windows):
        days = ", ".join(
            f"{names[first]} – {names[last]}" if last - first >= 2
            else ", ".join(names[d] for d in range(first, last + 1))
            for first, last in group.runs)
        spans = ", ".join(
            f"{tr.time(start)}–{'24:00' if end == MIDNIGHT else tr.time(end)}"
            for start, end in group.spans)
        lines.append(f"{days}: {spans}")
    return lines or [tr.gettext("geen vaste tijden")]


# /bereikbaar -----------------------------------------------------------------------------------
async def reachable(w: Work, who: Who) -> None:
    """For the family, in plain words: now or when, this week's times, whom to call."""
    family = who.family
    assert family is not None
    tr = w.tr(who)
    coaches = await families.coaches_of(w.session, family.id)
    agreement = agreement_of(family, coaches)
    coach = wording.coach_names(tr, coaches)
    spans = await absences_of(w.session, [c.id for c in coaches], w.now)
    lines = []
    away = [a for a in spans if a.covers(w.now)]
    if away and len(away) == len({c.id for c in coaches}):
        until = max(a.end for a in away)
        subs = [await people.staff_by_id(w.session, a.substitute_id) for a in away
                if a.substitute_id is not None]
        lines.append(tr.gettext("{coach} is afwezig tot {when}.").format(
            coach=coach, when=tr.day(until)))
        standin = wording.names(tr, [s.display_name for s in subs if s is not None])
        lines.append(tr.gettext("{standin} vervangt en leest je berichten.").format(
            standin=standin) if standin else tr.gettext(
            "De coördinator leest je berichten zolang."))
    elif is_open(agreement, w.now) or agreement.policy is Policy.ALWAYS:
        lines.append(tr.gettext("{coach} is nu bereikbaar.").format(coach=coach))
    else:
        opening = next_opening(agreement, w.now)
        lines.append(tr.gettext("{coach} is nu niet bereikbaar.").format(coach=coach))
        if opening is not None:
            lines.append(tr.gettext("{coach} leest je bericht {when}.").format(
                coach=coach, when=tr.when(opening, w.now)))
    lines += ["", tr.gettext("Vaste tijden:"), *render_windows(tr, agreement.windows)]
    if not agreement.open_on_holidays:
        lines.append(tr.gettext("Niet op feestdagen."))
    local = await crisis_lines.family_services(w.session, family)
    lines += ["", tr.gettext("Kan het niet wachten?"),
              crisis_lines.lines(tr, family.region, w.now, local)]
    w.answer(who, "\n".join(lines))


# /bereikbaarheid --------------------------------------------------------------------------------
def _read_windows(tr: Translator, text: str) -> tuple[availability.Window, ...] | str:
    try:
        return parse_windows(text, tr.language)
    except WindowSyntaxError as error:
        problem = tr.gettext(WINDOW_PROBLEMS[error.reason_code]).format(fragment=error.fragment)
        example = getattr(error, "example", None)
        if example:
            return problem + "\n" + tr.gettext("Bijvoorbeeld: {example}").format(
                example=example)
        return problem + "\n" + tr.gettext("Bijvoorbeeld: ma-vr 09:00-17:00 of ma,di,do "
                                           "08:30-16:30")


def _describe(tr: Translator, agreement: Agreement) -> list[str]:
    lines = [*render_windows(tr, agreement.windows), tr.gettext(POLICY_NAMES[agreement.policy])]
    if agreement.policy is not Policy.ALWAYS:
        lines.append(tr.gettext(URGENT_NAMES[agreement.urgent_anytime]))
    return lines


def _urgent_choice(part: str) -> bool | None:
    return URGENT_WORDS.get(compare_key(part))


def _take_urgent_choice(parts: list[str]) -> tuple[list[str], bool | None]:
    """The parts without the urgent choice, and that choice (None: not given)."""
    choice = None
    rest = []
    for part in parts:
        found = _urgent_choice(part)
        if found is None:
            rest.append(part)
        else:
            choice = found
    return rest, choice


async def hours(w: Work, who: Who, text: str) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    parts = [p for p in fields(text) if p] if text.strip() else []
    if not parts:
        await _show_hours(w, who, tr, staff)
        return
    parts, urgent_choice = _take_urgent_choice(parts)
    if not parts:
        # `/bereikbaarheid spoed altijd`: the coach's own standard choice.
        staff.urgent_anytime = bool(urgent_choice)
        w.answer(who, "\n".join([tr.gettext("Je standaard is nu:"),
                                 tr.gettext(URGENT_NAMES[staff.urgent_anytime])]))
        return
    windows = _read_windows(tr, parts[0])
    if not isinstance(windows, str):
        # `/bereikbaarheid ma-vr 09:00-17:00 [| beleid]`: the coach's own standard agreement.
        policy = POLICY_WORDS.get(parts[1].casefold()) if len(parts) > 1 else None
        staff.windows = windows_to_text(windows)
        if policy is not None:
            staff.policy = policy.value
        if urgent_choice is not None:
            staff.urgent_anytime = urgent_choice
        following = [f for f in await families.families_of_coach(w.session, staff.id)
                     if f.windows is None]  # the families that follow the coach's standard
        coaches_by_family = {f.id: await families.coaches_of(w.session, f.id) for f in following}
        for fam in following:
            await _replan(w, fam, coaches_by_family[fam.id])
        w.answer(who, "\n".join([tr.gettext("Je standaard bereikbaarheid is nu:"),
                                 *render_windows(tr, windows)]))
        for fam in following:
            await _tell_family(w, fam, coaches_by_family[fam.id])
        return
    if len(parts) == 1 and families.without_fields(parts[0]):
        parts, typed_choice = _take_urgent_choice(_free_hours(tr, parts, families.split_alias(
            await families_of(w, staff), parts[0])))
        urgent_choice = urgent_choice if typed_choice is None else typed_choice
    family = await resolve_family(w, who, tr, parts[0], retry=(
        "bereikbaarheid", "".join(f" | {p}" for p in parts[1:])))
    if family is None:
        return
    coaches = await families.coaches_of(w.session, family.id)
    if urgent_choice is not None:
        family.urgent_anytime = urgent_choice
    if len(parts) == 1 and urgent_choice is None:
        own = tr.gettext("eigen afspraak") if family.windows else tr.gettext(
            "jouw standaard")
        w.answer(who, "\n".join([f"{family.alias} ({own}):",
                                 *_describe(tr, agreement_of(family, coaches))]))
        return
    rest = parts[1:]
    if not rest:
        pass  # only the urgent choice changed
    elif rest[0].casefold() in DEFAULT_WORDS:
        family.windows, family.policy, family.urgent_anytime = None, None, None
    else:
        policy = POLICY_WORDS.get(rest[0].casefold())
        if policy is None:
            windows = _read_windows(tr, rest[0])
            if isinstance(windows, str):
                w.answer(who, windows)
                return
            family.windows = windows_to_text(windows)
            policy = POLICY_WORDS.get(rest[1].casefold()) if len(rest) > 1 else None
        if policy is not None:
            family.policy = policy.value
    await _replan(w, family, coaches)
    w.answer(who, "\n".join([tr.gettext("Bereikbaarheid voor {alias}:").format(
        alias=family.alias), *_describe(tr, agreement_of(family, coaches))]))
    await _tell_family(w, family, coaches)
    if family.policy == Policy.ONCALL.value and not family.oncall_agreed:
        w.answer(who, tr.gettext("Het gezin krijgt de vraag of de crisisdienst mag meelezen. "
                                 "Tot het gezin ja zegt, gaat er niets naar de crisisdienst."))
        await _ask_oncall_consent(w, family, coaches)
    elif family.policy != Policy.ONCALL.value:
        family.oncall_agreed = False


def _free_hours(tr: Translator, parts: list[str], split: tuple[str, str] | None) -> list[str]:
    """`/bereikbaarheid jansen ma-vr 9-17 crisis` typed without `|`: the family's first words
    (families.split_alias), the windows, a policy word at the end. Only where what follows
    the family reads as that: "ma 9-17" alone is the coach's own standard (read before), and
    a family whose name begins with "ma" is not guessed from it."""
    if split is None:
        return parts
    alias, rest = split
    words = rest.split()
    policy = words.pop() if words and words[-1].casefold() in POLICY_WORDS else None
    windows = " ".join(words)
    if rest.casefold() in DEFAULT_WORDS or _urgent_choice(rest) is not None:
        return [alias, rest]
    if windows and isinstance(_read_windows(tr, windows), str):
        return parts
    if not windows and policy is None:
        return parts
    return [alias, *([windows] if windows else []), *([policy] if policy else [])]


async def _ask_oncall_consent(w: Work, family: Family, coaches: Sequence[Staff]) -> None:
    """On-call only where the family agreed to it: each member is asked, in plain words."""
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, "\n".join([
            mtr.gettext("Een vraag van {coach}:").format(coach=wording.coach_names(mtr, coaches)),
            mtr.gettext("Buiten de tijden van je coach is er een crisisdienst. Mag die je "
                        "berichten dan ook lezen?"),
            mtr.gettext("Je kunt dit altijd weer veranderen."),
        ]), keyboard=outbox.keyboard([
            [(mtr.gettext("✅ Ja, dat mag"), w.sign(member.chat_id, "oncall", "yes"))],
            [(mtr.gettext("Nee, liever niet"), w.sign(member.chat_id, "oncall", "no"))]]),
            purpose="notice")


async def oncall_answer(w: Work, who: Who, message_id: int, yes: bool) -> None:
    family = who.family
    if family is None or who.member is None:
        return
    tr = w.tr(who)
    w.out.remove_buttons(who.chat_id, message_id)
    family.oncall_agreed = yes
    coaches = await families.coaches_of(w.session, family.id)
    w.answer(who, tr.gettext("Goed. De crisisdienst leest mee buiten de tijden van je coach.")
             if yes else tr.gettext("Goed. Alleen je coach leest je berichten."))
    w.tell_staff(coaches, lambda ctr: (ctr.gettext(
        "{alias}: de crisisdienst mag meelezen buiten je tijden.") if yes else ctr.gettext(
        "{alias}: het gezin wil niet dat de crisisdienst meeleest.")).format(
            alias=family.alias), purpose="notice")


async def _show_hours(w: Work, who: Who, tr: Translator, staff: Staff) -> None:
    own = parse_windows(staff.windows)
    lines = [tr.gettext("Je standaard bereikbaarheid:"), *render_windows(tr, own), ""]
    for family in await families.families_of_coach(w.session, staff.id):
        if family.windows or family.policy:
            coaches = await families.coaches_of(w.session, family.id)
            lines.append(f"{family.alias}: " + "; ".join(
                _describe(tr, agreement_of(family, coaches))))
    lines.append(tr.gettext(URGENT_NAMES[bool(staff.urgent_anytime)]))
    lines.append(tr.gettext("Aanpassen: /bereikbaarheid ma-vr 09:00-17:00, of voor één gezin: "
                            "/bereikbaarheid Gezin J. | ma,di,do 08:30-16:30 | crisis"))
    lines.append(tr.gettext("Spoedberichten meteen, ook 's nachts: /bereikbaarheid spoed "
                            "altijd. Terug: /bereikbaarheid spoed bewaren"))
    w.answer(who, "\n".join(lines))


async def _replan(w: Work, family: Family, coaches: Sequence[Staff]) -> None:
    """Held messages wait for the first opening of the *new* agreement."""
    opening = next_opening(agreement_of(family, coaches), w.now) or w.now
    await messages.hold_until(w.session, family.id, opening)


async def _tell_family(w: Work, family: Family, coaches: Sequence[Staff]) -> None:
    """Nothing behind the family's back: they hear when their coach's times change."""
    agreement = agreement_of(family, coaches)
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, "\n".join([
            mtr.gettext("De tijden van {coach} zijn veranderd:").format(
                coach=wording.coach_names(mtr, coaches)),
            *render_windows(mtr, agreement.windows)]), purpose="notice")


# /afwezig ---------------------------------------------------------------------------------------
# Step by step (handlers/flow.py): from when, until when, who stands in, "Klopt dit?". What the
# coach typed is kept: `/afwezig 24-12 2-1 | Pieter` only asks to confirm.
AWAY_STEPS = ("away_from", "away_until", "away_sub", "away_ok")
STOP_WORDS = frozenset({"uit", "geen", "stop", "stoppen", "off", "none", "terug", "back", "fin",
                        "arret"})
NO_SUBSTITUTE = "-"  # the value of "geen vervanger: de coördinator leest mee"
COORDINATOR_WORDS = frozenset({"-", "coordinator", "coordinateur", "coordinatrice", "geen",
                               "niemand", "none", "nobody", "aucun", "personne"})
# Between the first and the last day: "24-12 tot 2-1", "van 24 december t/m 2 januari".
_RANGE_SPLIT = re.compile(
    r"\s+(?:tot en met|t/m|tot|to|till|until|au|jusqu'au|a|à|-|–|—)\s+", re.IGNORECASE)
_FROM_WORD = re.compile(r"^(?:vanaf|van|from|du|de)\s+", re.IGNORECASE)
_UNTIL_OFFSETS = (0, 1, 2, 4, 6, 13)  # the last day: that same day, a few days, one or two weeks
# Two dates and a few words fit in this; a longer line is not tried every which way (each cut
# is two parses, and an unknown word reaches the slower fallback parser).
RANGE_MAX_CHARS = 80
RANGE_MAX_WORDS = 8
BACKWARDS = "end_before_start"
DAY_PROBLEMS = {
    BACKWARDS: N_("De laatste dag ligt voor de eerste."),
    "past": N_("Die dag is al voorbij."),
    "invalid_date": N_("Die datum bestaat niet."),
    "too_far": N_("Dat is meer dan twee jaar vooruit."),
    "past_needs_year": N_("Die datum is dit jaar al voorbij. Zet het jaar erbij, "
                          "bijvoorbeeld 3/11/2027."),
    "ambiguous": N_("Dat kan ik op twee manieren lezen. Schrijf de datum, bijvoorbeeld 4/12."),
}


def _range_splits(text: str) -> Iterator[tuple[str, str]]:
    """Ways to cut a typed range in a first and a last day, the likeliest first: at a word
    such as "tot" or "t/m", at a space ("24-12 2-1"), at a dash ("24/12-2/1")."""
    parts = _RANGE_SPLIT.split(text, maxsplit=1)
    if len(parts) == 2:
        yield parts[0], parts[1]
    words = text.split()
    if len(words) > RANGE_MAX_WORDS:
        return
    for cut in range(1, len(words)):
        yield " ".join(words[:cut]), " ".join(words[cut:])
    if len(words) == 1:
        for cut, char in enumerate(text):
            if char == "-":
                yield text[:cut], text[cut + 1:]


def read_days(text: str, now: datetime, zone: str) -> tuple[date, date | None] | WhenError:
    """An absence as typed: its first day and, when given, its last (inclusive)."""
    cleaned = _FROM_WORD.sub("", " ".join(text.split()))
    if len(cleaned) > RANGE_MAX_CHARS:
        return WhenError("not_understood", "when.day")
    backwards = False
    for first_text, last_text in _range_splits(cleaned):
        first, last = parse_day(first_text, now, zone), parse_day(last_text, now, zone)
        if isinstance(first, date) and isinstance(last, date):
            if last >= first:
                return first, last
            backwards = True
    single = parse_day(cleaned, now, zone)
    if isinstance(single, date):
        return single, None
    return WhenError(BACKWARDS, "when.day") if backwards else single


def _day_problem(tr: Translator, error: WhenError) -> str:
    problem = DAY_PROBLEMS.get(error.reason)
    return tr.gettext(problem) if problem else tr.gettext("Ik kan die datum niet lezen.")


async def away(w: Work, who: Who, text: str) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    parts = fields(text) if text.strip() else []
    if len(parts) == 1:
        # Typed without `|` on a phone ("7-12 tot 11-12 pieter"): the days, then who stands in.
        split = split_moment(parts[0], lambda days: not isinstance(
            read_days(days, w.now, tr.zone), WhenError))
        if split is not None and split[1]:
            parts = list(split)
    data: dict[str, object] = {}
    if len(parts) > 1 and parts[1]:
        data["sub_text"] = parts[1][:ALIAS_MAX]
    if not parts or not parts[0]:
        await _ask_first(w, who, tr, staff, data)
        return
    await _read_first(w, who, tr, staff, data, parts[0])


async def continue_away(w: Work, who: Who, action: str, data: dict[str, object],
                        text: str) -> bool:
    """The answer to one of /afwezig's questions, typed or tapped. True when it was one."""
    staff = who.staff
    if staff is None or not staff.is_coach:
        return False
    tr = w.tr(who)
    if action == "away_from":
        await _read_first(w, who, tr, staff, data, text)
    elif action == "away_until":
        await _read_last(w, who, tr, staff, data, text)
    elif action == "away_sub":
        await _read_substitute(w, who, tr, staff, data, text)
    elif action == "away_ok":
        answer = await picks.confirmed(w, who, action, data, text)
        if answer is None:
            return False
        if answer:
            await _save_away(w, who, tr, staff, data)
    else:
        return False
    return True


async def _away_next(w: Work, who: Who, tr: Translator, staff: Staff,
                     data: dict[str, object]) -> None:
    """Ask what is still missing, one thing at a time; with everything known, confirm."""
    first = date.fromisoformat(str(data["first"]))
    if "last" not in data:
        await _ask_last(w, who, tr, data, first)
        return
    last = date.fromisoformat(str(data["last"]))
    if "sub" not in data:
        typed = str(data.pop("sub_text", "") or "")
        if typed:
            await _read_substitute(w, who, tr, staff, data, typed)
        else:
            await _ask_substitute(w, who, tr, staff, data, first, last)
        return
    sub_id = int(str(data["sub"]))
    substitute = await people.staff_by_id(w.session, sub_id) if sub_id else None
    await picks.confirm(w, who, "away_ok", data, [
        tr.gettext("Afwezig: {first} tot en met {last}").format(first=tr.day(first),
                                                                last=tr.day(last)),
        tr.gettext("Vervanger: {standin}").format(
            standin=substitute.display_name if substitute else tr.gettext(
                "geen, de coördinator leest mee")),
    ])


async def _ask_first(w: Work, who: Who, tr: Translator, staff: Staff,
                     data: dict[str, object], problem: str = "") -> None:
    ahead = await absences.absences_ahead(w.session, staff.id, w.now)
    lines = await _away_lines(w, tr, ahead)
    if problem:
        lines.append(problem)
    lines.append(tr.gettext("Vanaf wanneer ben je afwezig? Tik op een dag, of typ bijvoorbeeld: "
                            "24-12, of van 24 december tot 2 januari."))
    rows = flow.day_choices(tr, w.now)
    if ahead:
        rows.append([(tr.gettext("⏹ Afwezigheid stoppen"), "uit")])
    await flow.ask(w, who, "away_from", data, "\n".join(lines), rows)


async def _read_first(w: Work, who: Who, tr: Translator, staff: Staff,
                      data: dict[str, object], text: str) -> None:
    if picks.word(text) in STOP_WORDS:
        await _end_away(w, who, tr, staff)
        return
    read = read_days(text, w.now, tr.zone)
    if isinstance(read, WhenError):
        await _ask_first(w, who, tr, staff, data, _day_problem(tr, read))
        return
    first, last = read
    data["first"] = first.isoformat()
    if last is not None:
        data["last"] = last.isoformat()
    await _away_next(w, who, tr, staff, data)


async def _ask_last(w: Work, who: Who, tr: Translator, data: dict[str, object], first: date,
                    problem: str = "") -> None:
    days = [first + timedelta(days=n) for n in _UNTIL_OFFSETS]
    choices = [(tr.day(day), day.strftime("%d-%m-%Y")) for day in days]
    question = tr.gettext("Afwezig vanaf {first}. Tot en met welke dag? Tik op een dag, of typ "
                          "een datum.").format(first=tr.day(first))
    await flow.ask(w, who, "away_until", data,
                   f"{problem}\n{question}" if problem else question,
                   [choices[i:i + 2] for i in range(0, len(choices), 2)])


async def _read_last(w: Work, who: Who, tr: Translator, staff: Staff,
                     data: dict[str, object], text: str) -> None:
    first = date.fromisoformat(str(data["first"]))
    last = parse_day(text, w.now, tr.zone)
    if isinstance(last, WhenError) or last < first:
        problem = (_day_problem(tr, last) if isinstance(last, WhenError)
                   else _day_problem(tr, WhenError(BACKWARDS, "when.day")))
        await _ask_last(w, who, tr, data, first, problem)
        return
    data["last"] = last.isoformat()
    await _away_next(w, who, tr, staff, data)


async def _substitutes(w: Work, staff: Staff) -> list[Staff]:
    return [c for c in await people.active_coaches(w.session) if c.id != staff.id]


async def _ask_substitute(w: Work, who: Who, tr: Translator, staff: Staff,
                          data: dict[str, object], first: date, last: date,
                          intro: str = "", shown: Sequence[Staff] | None = None) -> None:
    question = intro or tr.gettext("Wie vervangt je van {first} tot en met {last}? Tik op een "
                                   "coach, of typ een naam.").format(first=tr.day(first),
                                                                     last=tr.day(last))
    rows = picks.coach_rows(shown if shown is not None else await _substitutes(w, staff))
    rows.append([(tr.gettext("Geen vervanger: de coördinator leest mee"), NO_SUBSTITUTE)])
    await flow.ask(w, who, "away_sub", data, question, rows)


async def _read_substitute(w: Work, who: Who, tr: Translator, staff: Staff,
                           data: dict[str, object], text: str) -> None:
    if text == NO_SUBSTITUTE or picks.word(text) in COORDINATOR_WORDS:
        data["sub"] = 0
        await _away_next(w, who, tr, staff, data)
        return
    candidates = await _substitutes(w, staff)
    found = picks.pick_coach(text, candidates)
    if len(found) == 1:
        data["sub"] = found[0].id
        await _away_next(w, who, tr, staff, data)
        return
    first, last = (date.fromisoformat(str(data[k])) for k in ("first", "last"))
    await _ask_substitute(w, who, tr, staff, data, first, last,
                          intro=picks.not_found(tr, text, found), shown=found or candidates)


async def _end_away(w: Work, who: Who, tr: Translator, staff: Staff) -> None:
    await absences.end_absences(w.session, staff.id, w.now)
    w.answer(who, tr.gettext("Je afwezigheid is gestopt. Berichten komen weer bij jou."))


async def _save_away(w: Work, who: Who, tr: Translator, staff: Staff,
                     data: dict[str, object]) -> None:
    first, last = (date.fromisoformat(str(data[k])) for k in ("first", "last"))
    sub_id = int(str(data.get("sub") or 0))
    substitute = await people.staff_by_id(w.session, sub_id) if sub_id else None
    if sub_id and (substitute is None or not substitute.active or not substitute.is_coach):
        data.pop("sub", None)  # stopped in the meantime: choose again
        await _away_next(w, who, tr, staff, data)
        return
    zone = tr.zone
    span = absence_for_days(staff.id, first, last, zone,
                            substitute.id if substitute else None)
    absences.add_absence(w.session, span, w.now)
    standin = substitute.display_name if substitute else tr.gettext("de coördinator")
    w.answer(who, tr.gettext("Afwezig van {first} tot en met {last}. {standin} vervangt.").format(
        first=tr.day(first), last=tr.day(last), standin=standin))
    caseload = await families.families_of_coach(w.session, staff.id)
    receivers = [substitute] if substitute else list(await people.coordinators(w.session))
    for receiver in receivers:
        if receiver is None or receiver.chat_id is None:
            continue
        rtr = w.tr_for(staff=receiver)
        w.out.text(receiver.chat_id, wording.sentence(rtr.gettext(
            "{coach} is afwezig van {first} tot en met {last}. Jij vervangt voor: {families}."
        ).format(coach=staff.display_name, first=rtr.day(first), last=rtr.day(last),
                 families=", ".join(f.alias for f in caseload) or "-")), purpose="notice")


async def _away_lines(w: Work, tr: Translator, ahead: Sequence[Absence]) -> list[str]:
    """The coach's absences not over yet, one line each."""
    lines = []
    for row in ahead:
        sub = (await people.staff_by_id(w.session, row.substitute_id) if row.substitute_id
               else None)
        lines.append(tr.gettext("Afwezig {first} – {last}, vervanger: {standin}").format(
            first=tr.day(row.starts_at), last=tr.day(_last_day(row.ends_at, tr)),
            standin=sub.display_name if sub else tr.gettext("de coördinator")))
    return lines


def _last_day(end: datetime, tr: Translator) -> datetime:
    """Absences end at local midnight after their last day."""
    return tr.local(end) - timedelta(seconds=1)
