"""What a coach does in the chat: families, invites, writing and answering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from telegram import Message

from bot import outbox, wording
from bot.delivery.copies import copy_to_members
from bot.domain.availability import DEFAULT_TIMEZONES
from bot.domain.relay import UNCOPYABLE
from bot.domain.text import compare_key
from bot.domain.when import split_moment
from bot.i18n import N_, Translator
from bot.invites import create_invite
from bot.tokens import invite_link
from handlers import flow, picks
from handlers.common import RetryLater, Who, Work, kind_of
from storage.models import Family, Member, PendingInput, RelayLink, Staff
from storage.repos import absences, families, messages, pending, people
from storage.repos import outbox as outbox_rows

WRITE_WINDOW = timedelta(minutes=30)
# The question which family (resolve_family): what a typed name under it runs.
WHICH_FAMILY = "again"
RETRY_WINDOW = timedelta(minutes=30)
ALIAS_MAX = 64


def fields(text: str) -> list[str]:
    """`/afspraak Gezin J. | morgen 14:00 | huisbezoek` → the parts after the command."""
    return [part.strip() for part in text.split("|")]


def args_text(message: Message) -> str:
    text = message.text or ""
    return text.split(maxsplit=1)[1] if " " in text.strip() else ""


async def with_family(w: Work, who: Who, text: str, button: str,
                      act: Callable[[Work, Who, int], Awaitable[None]]) -> None:
    """A command that only needs the family: `act` on the one named in `text`, or on the one
    the coach taps (button `button`) when the name matched none or several."""
    family = await resolve_family(w, who, w.tr(who), text.strip(), button)
    if family is not None:
        await act(w, who, family.id)


async def resolve_family(w: Work, who: Who, tr: Translator, text: str, action: str = "",
                         *extra: str | int, retry: tuple[str, str] | None = None
                         ) -> Family | None:
    """A family of this coach as coaches name it (families.match_alias: any word of the
    alias, case and accents aside, or its unique beginning; the full alias wins). Asks with
    buttons when nothing matches (all families, or only those a slip may mean: "jansn") or
    several do (only those). Never says whether another coach has such a family.

    A tapped family runs button `action` with the family's id and `extra`; or, with `retry` =
    (command, what followed the alias), that command again with the family's alias and the
    same rest (registry.run_again), so nothing typed is lost. A name typed under the
    question answers it the same way (router._family_typed)."""
    assert who.staff is not None
    caseload = await families_of(w, who.staff)
    found = families.match_alias(caseload, text) if text else []
    if len(found) == 1:
        return found[0]
    if caseload and (retry is not None or action):
        data: dict[str, object] = {"button": action}
        if retry is not None:
            action, extra = "again", (retry[0],)
            data = {"command": retry[0], "rest": retry[1]}
        await pending.set_pending(w.session, who.chat_id, WHICH_FAMILY, data,
                                  w.now + RETRY_WINDOW)
    if not caseload:
        w.answer(who, tr.gettext("Je hebt nog geen gezinnen. Maak er een met /nieuwgezin."))
        return None
    close = families.close_aliases(caseload, text) if text and not found else []
    choices: Sequence[Family] = found or close or caseload
    if close:  # a slip ("jansn"): only the families it may mean
        intro = tr.gettext("Ik ken geen gezin '{alias}' bij jou. Bedoel je:").format(
            alias=text[:ALIAS_MAX])
    elif text and not found:
        intro = tr.gettext("Ik ken geen gezin '{alias}' bij jou. Kies er een:").format(
            alias=text[:ALIAS_MAX])
    else:
        intro = tr.gettext("Welk gezin bedoel je?")
    buttons = [[(f.alias, w.sign(who.chat_id, action, f.id, *extra))] for f in choices[:20]]
    w.answer(who, intro, keyboard=outbox.keyboard([*buttons, flow.cancel_row(w, who)]))
    return None


async def free_fields(w: Work, who: Who, text: str,
                      reads: Callable[[str], bool] | None = None) -> str:
    """A command's line typed without `|` on a phone ("jansen wekelijks", "jansen morgen 14:00
    huisbezoek") as its fields ("jansen | wekelijks", "jansen | morgen 14:00 | huisbezoek"):
    the longest run of first words that names a family (families.split_alias), then, with
    `reads`, the moment it finds at the start or the end of the rest (when.split_moment),
    then the rest. As typed when the whole line names a family, or its first words none."""
    assert who.staff is not None
    if not families.without_fields(text):  # (the usual line: no caseload to fetch)
        return text
    split = families.split_alias(await families_of(w, who.staff), text)
    if split is None:
        return text
    alias, rest = split
    if reads is None:
        return f"{alias} | {rest}"
    when, what = split_moment(rest, reads) or ("", rest)
    return " | ".join([alias, when, what])


async def families_of(w: Work, staff: Staff) -> Sequence[Family]:
    """The families a coach may name: their own, and during an absence of another coach the
    families they stand in for (absences.covered_families)."""
    own = list(await families.families_of_coach(w.session, staff.id))
    covered = await absences.covered_families(w.session, staff, w.now)
    if not covered:
        return own
    merged = {f.id: f for f in (*own, *covered)}
    return sorted(merged.values(), key=lambda f: compare_key(f.alias))


async def authorized_family(w: Work, who: Who, family_id: int) -> Family | None:
    """The one check for staff acting on a family: its own coach, or the substitute during an
    absence of one of its coaches, or the on-duty team for a family that agreed to on-call
    (policy oncall) (PRODUCT.md §5)."""
    staff = who.staff
    if staff is None:
        return None
    family = await families.family_by_id(w.session, family_id)
    if family is None or not family.active:
        return None
    if (await families.is_coach_of(w.session, staff.id, family_id)
            or await absences.substitutes_for(w.session, staff, family_id, w.now)
            or (staff.is_oncall and family.oncall_agreed)):
        return family
    return None


# /nieuwgezin --------------------------------------------------------------------------------
async def new_family(w: Work, who: Who, text: str) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    parts = fields(text)
    alias = " ".join(parts[0].split()) if parts else ""
    if not alias:
        await pending.set_pending(w.session, who.chat_id, "newfamily", {},
                                  w.now + WRITE_WINDOW)
        w.answer(who, tr.gettext("Hoe heet het gezin? Gebruik een korte naam zonder "
                                 "achternaam, bijvoorbeeld: Gezin J."))
        return
    if len(alias) > ALIAS_MAX:
        w.answer(who, tr.gettext("Die naam is te lang. Gebruik een korte naam, zoals Gezin J."))
        return
    existing = await families.families_of_coach(w.session, staff.id)
    if any(compare_key(f.alias) == compare_key(alias) for f in existing):
        w.answer(who, tr.gettext("Je hebt al een gezin '{alias}'. Kies een andere naam.").format(
            alias=alias))
        return
    region = w.svc.settings.region
    family = await families.add_family(w.session, alias, region, DEFAULT_TIMEZONES[region],
                                       w.now)
    families.add_coach(w.session, family.id, staff.id, w.now)
    await _invite_member(w, who, tr, family, parts[1:], created=True)


# /uitnodiging --------------------------------------------------------------------------------
async def invite(w: Work, who: Who, text: str) -> None:
    tr = w.tr(who)
    parts = fields(await free_fields(w, who, text))
    details = "".join(f" | {p}" for p in parts[1:])  # kept when the coach has to choose
    family = await resolve_family(w, who, tr, parts[0] if parts else "", "inv",
                                  retry=("uitnodiging", details) if details else None)
    if family is not None:
        await _invite_member(w, who, tr, family, parts[1:], created=False)


async def invite_for(w: Work, who: Who, family_id: int) -> None:
    family = await authorized_family(w, who, family_id)
    if family is not None:
        await _invite_member(w, who, w.tr(who), family, [], created=False)


async def _invite_member(w: Work, who: Who, tr: Translator, family: Family,
                         details: list[str], created: bool) -> None:
    assert who.staff is not None
    name = details[0][:64] if details and details[0] else None
    role = details[1][:32] if len(details) > 1 and details[1] else None
    token, stored = create_invite(w.session, "member", w.now,
                                  timedelta(days=w.svc.settings.invite_days),
                                  created_by=who.staff.id, family_id=family.id,
                                  member_name=name, member_role=role)
    link = invite_link(w.svc.bot_username, token)
    lines = []
    if created:
        lines.append(tr.gettext("{alias} is aangemaakt.").format(alias=family.alias))
    lines += [
        tr.gettext("Stuur deze link naar één gezinslid{who}:").format(
            who=f" ({name})" if name else ""),
        link,
        tr.gettext("De link werkt één keer, tot {date}.").format(
            date=tr.date_short(stored.expires_at)),
        tr.gettext("Voor een volgend gezinslid: /uitnodiging {alias}").format(alias=family.alias),
    ]
    w.answer(who, "\n".join(lines))


# /schrijf --------------------------------------------------------------------------------------
async def write(w: Work, who: Who, text: str) -> None:
    """/schrijf Gezin J.: the next message goes to the family. Typed in one line with the
    message ("/schrijf jansen ik ben morgen later"), that message is shown back with
    📨 Stuur naar … (as any message without a reply), never sent on the name's guess alone."""
    assert who.staff is not None
    split = families.split_alias(await families_of(w, who.staff), text) \
        if families.without_fields(text) else None
    if split is None or w.command_message_id is None:
        await with_family(w, who, text, "wr", write_to)
        return
    tr = w.tr(who)
    family = await resolve_family(w, who, tr, split[0], "wr")
    if family is None or await _nobody_in(w, who, tr, family):
        return
    key = w.command_message_id
    await _ask_to_send(w, who, tr, family, {"key": key, "items": [[key, "text", split[1]]]})


async def write_to(w: Work, who: Who, family_id: int) -> None:
    tr = w.tr(who)
    family = await authorized_family(w, who, family_id)
    if family is None:
        return
    members = await people.members_of(w.session, family.id)
    if not members:
        w.answer(who, tr.gettext("Er doet nog niemand van {alias} mee. Stuur eerst een "
                                 "uitnodiging: /uitnodiging {alias}").format(alias=family.alias))
        return
    await pending.set_pending(w.session, who.chat_id, "write", {"family_id": family.id},
                              w.now + WRITE_WINDOW)
    w.answer(who, tr.gettext("Je volgende bericht gaat naar {alias} ({names}).").format(
        alias=family.alias, names=wording.names(tr, [m.first_name for m in members])))


async def _replied_copy(w: Work, chat_id: int, message_id: int) -> RelayLink | None:
    """The family copy a coach's reply answers. One read when the copy's send is recorded (the
    usual case). Otherwise: a send still in flight may be that copy (a very quick reply), so
    wait for its record rather than ask "which family?"; and a send recorded between the two
    reads (the dispatcher writes the send and its link together) is found by reading again."""
    link = await messages.relay_link(w.session, chat_id, message_id)
    if link is not None:
        return link
    if await outbox_rows.send_in_flight(w.session, chat_id):
        raise RetryLater("a reply to a copy whose send is not recorded yet")
    return await messages.relay_link(w.session, chat_id, message_id)


# Messages from a coach ---------------------------------------------------------------------------
async def from_coach(w: Work, who: Who, message: Message) -> None:
    staff = who.staff
    assert staff is not None
    tr = w.tr(who)
    kind = kind_of(message)
    if kind in UNCOPYABLE or kind == "other":
        w.answer(who, tr.gettext("Dit soort bericht kan ik niet doorsturen."))
        return
    body = message.text if kind == "text" else message.caption
    reply = message.reply_to_message
    if reply is not None:
        link = await _replied_copy(w, who.chat_id, reply.message_id)
        if link is not None:
            family = await authorized_family(w, who, link.family_id)
            if family is None:
                w.answer(who, tr.gettext("Dit gezin hoort niet (meer) bij jou."))
                return
            member = (await people.member_by_id(w.session, link.member_id)
                      if link.member_id else None)
            if member is None:
                w.answer(who, tr.gettext("Dit gezinslid doet niet meer mee. Gebruik /schrijf "
                                         "{alias} voor de rest van het gezin.").format(
                                             alias=family.alias))
                return
            await _deliver(w, who, staff, family, [member], message, kind, body)
            return
    step = await pending.pending(w.session, who.chat_id, w.now)
    if step is not None and step.action == "write":
        await pending.clear_pending(w.session, who.chat_id)
        family = await authorized_family(w, who, int(step.data["family_id"]))
        if family is not None:
            members = await people.members_of(w.session, family.id)
            await _deliver(w, who, staff, family, list(members), message, kind, body)
        return
    if step is not None and step.action == "newfamily" and kind == "text":
        await pending.clear_pending(w.session, who.chat_id)
        await new_family(w, who, body or "")
        return
    if step is not None and step.action not in flow.HELD_MESSAGE:
        # A line that answers no open question of a command ("Klopt dit?"): that one stops,
        # and the coach hears so (✅ under it would otherwise say it expired, unexplained).
        await flow.stop_earlier(w, who)
        step = None
    # No reply and no /schrijf: held, shown back, sent only after 📨 Stuur naar ….
    await _hold(w, who, tr, step, message.message_id, kind, body)


# A coach's message for no family yet -------------------------------------------------------------
# A plain message is not always for a family (a note meant for the bot, a line typed in the
# wrong chat), so it is never sent on by one stray tap: the bot shows it back and asks which
# family, then asks "Stuur naar Gezin J.?"; only 📨 Stuur naar … sends. The message itself waits
# in the pending step (sealed), the buttons carry only the family and the question's key.
HOLD = "hold"  # which family is it for?
HOLD_CHECK = "hold_ok"  # send it to this family?
HOLD_MAX = 10  # messages one question keeps (a few lines typed one after the other)
MEDIA_NAMES = {"photo": N_("foto"), "voice": N_("spraakbericht"), "video": N_("video"),
               "document": N_("bestand")}

Held = list[list[object]]  # [[message id, kind, caption or text], ...]


async def _hold(w: Work, who: Who, tr: Translator, step: PendingInput | None, message_id: int,
                kind: str, body: str | None) -> None:
    """Keep the message with any still waiting before it, and ask which family (with one
    family: straight to "Stuur naar …?")."""
    assert who.staff is not None
    caseload = await families_of(w, who.staff)
    if not caseload:
        w.answer(who, _no_family_to_write_to(tr, who.staff))
        return
    earlier = _items(step.data) if step is not None and step.action in (HOLD, HOLD_CHECK) else []
    newest: list[object] = [message_id, kind, body]
    items: Held = [*earlier, newest][-HOLD_MAX:]
    # The newest message is the question's key: a question shown before it came (which did
    # not show it) can no longer send it.
    data: dict[str, object] = {"key": message_id, "items": items}
    if len(caseload) == 1:
        if await _nobody_in(w, who, tr, caseload[0]):
            await pending.clear_pending(w.session, who.chat_id)
        else:
            await _ask_to_send(w, who, tr, caseload[0], data)
        return
    await pending.set_pending(w.session, who.chat_id, HOLD, data, w.now + flow.STEP_WINDOW)
    rows = [[(f.alias, w.sign(who.chat_id, "send", f.id, message_id))] for f in caseload[:20]]
    w.answer(who, "\n".join([
        tr.ngettext("Dit bericht is nog niet verstuurd:",
                    "Deze {n} berichten zijn nog niet verstuurd:", len(items)).format(
                        n=len(items)),
        *_shown_back(tr, items),
        "",
        tr.gettext("Voor welk gezin is het? Is het niet voor een gezin, tik dan op "
                   "✖ Annuleren."),
        tr.gettext("Antwoord een gezin door te reageren (Beantwoorden) op hun bericht."),
    ]), keyboard=outbox.keyboard([*rows, flow.cancel_row(w, who)]), reply_to=message_id)


def _no_family_to_write_to(tr: Translator, staff: Staff) -> str:
    """A line typed by staff with no family to send it to: what they can do instead, in their
    own role (a coordinator or on-duty team only stands in for families now and then)."""
    if staff.is_coach:
        return tr.gettext("Je hebt nog geen gezinnen. Maak er een met /nieuwgezin.")
    if staff.is_coordinator:
        return tr.gettext("Gezinnen schrijven met hun eigen coach. Een coach uitnodigen doe je "
                          "met /coachuitnodigen. Al je opdrachten: /hulp.")
    return tr.gettext("Antwoorden kan met 'Beantwoorden' op een bericht.")


async def _nobody_in(w: Work, who: Who, tr: Translator, family: Family) -> bool:
    """No member has joined the family yet: nothing can go there, and the coach hears how."""
    if await people.members_of(w.session, family.id):
        return False
    w.answer(who, tr.gettext("Er doet nog niemand van {alias} mee. Stuur eerst een "
                             "uitnodiging: /uitnodiging {alias}").format(alias=family.alias))
    return True


async def _ask_to_send(w: Work, who: Who, tr: Translator, family: Family,
                       data: dict[str, object]) -> None:
    items = _items(data)
    await pending.set_pending(w.session, who.chat_id, HOLD_CHECK,
                              {**data, "family_id": family.id}, w.now + flow.STEP_WINDOW)
    send = tr.gettext("📨 Stuur naar {alias}").format(alias=family.alias)
    w.answer(who, "\n".join([
        tr.gettext("Stuur naar {alias}?").format(alias=family.alias),
        *_shown_back(tr, items),
    ]), keyboard=outbox.keyboard([[(send, w.sign(who.chat_id, "sendok", family.id,
                                                  str(data["key"])))],
                                  flow.cancel_row(w, who)]),
             reply_to=int(str(items[-1][0])))


def _shown_back(tr: Translator, items: Held) -> list[str]:
    """The held messages as the coach wrote them: texts quoted, media by kind and caption."""
    lines = []
    for _message_id, kind, body in items:
        quoted = f"“{body}”" if body else ""
        if kind == "text":
            lines.append(quoted)
            continue
        name = MEDIA_NAMES.get(str(kind))
        label = tr.gettext(name) if name else tr.gettext("bijlage")
        lines.append(f"📎 {label}" + (f": {quoted}" if quoted else ""))
    return lines


async def _held(w: Work, who: Who, actions: tuple[str, ...], key: int, question_id: int,
                family_id: int | None = None) -> PendingInput | None:
    """The step a button under a held message belongs to; else None, and the coach hears the
    question is gone (an old button, a question asked again since, another family's)."""
    step = await pending.pending(w.session, who.chat_id, w.now)
    if (step is not None and step.action in actions and str(step.data.get("key")) == str(key)
            and (family_id is None or step.data.get("family_id") == family_id)):
        return step
    tr = w.tr(who)
    w.out.remove_buttons(who.chat_id, question_id)
    if step is not None and step.action in (HOLD, HOLD_CHECK):
        w.answer(who, tr.gettext("Die vraag is al voorbij. Kijk bij de nieuwste vraag "
                                 "hieronder."))
    else:
        w.answer(who, tr.gettext("Die vraag is al voorbij. Stuur je bericht opnieuw als het "
                                 "nog voor een gezin is."))
    return None


def _items(data: dict[str, object]) -> Held:
    found = data.get("items")
    return [list(item) for item in found] if isinstance(found, list) else []


async def hold_family_chosen(w: Work, who: Who, family_id: int, key: int,
                             question_id: int) -> None:
    """A family tapped under "Voor welk gezin is het?": now "Stuur naar …?"."""
    family = await authorized_family(w, who, family_id)
    if family is None:
        return
    step = await _held(w, who, (HOLD, HOLD_CHECK), key, question_id)
    tr = w.tr(who)
    if step is None or await _nobody_in(w, who, tr, family):
        return  # (nobody there yet: the other families can still be tapped)
    w.out.remove_buttons(who.chat_id, question_id)
    await _ask_to_send(w, who, tr, family, dict(step.data))


async def send_held(w: Work, who: Who, family_id: int, key: int, question_id: int) -> None:
    """📨 Stuur naar …: the held messages go to the family's members."""
    family = await authorized_family(w, who, family_id)
    if family is None or who.staff is None:
        return
    step = await _held(w, who, (HOLD_CHECK,), key, question_id, family.id)
    if step is None:
        return
    tr = w.tr(who)
    await pending.clear_pending(w.session, who.chat_id)
    members = await people.members_of(w.session, family.id)
    if not members:  # the last one left in the meantime
        w.out.remove_buttons(who.chat_id, question_id)
        w.answer(who, tr.gettext("Er doet nog niemand van {alias} mee.").format(
            alias=family.alias))
        return
    for message_id, kind, body in _items(step.data):
        copy_to_members(w.out, who.staff, family, members, who.chat_id, int(str(message_id)),
                        str(kind), None if body is None else str(body))
        w.out.react(who.chat_id, int(str(message_id)), "👌")
    await messages.mark_answered(w.session, family.id, w.now)
    family.last_contact_at = w.now
    w.out.edit_text(who.chat_id, question_id, tr.gettext("Verstuurd naar {alias} ✓").format(
        alias=family.alias))


async def _deliver(w: Work, who: Who, staff: Staff, family: Family, members: list[Member],
                   message: Message, kind: str, body: str | None) -> None:
    if not members:
        return
    copy_to_members(w.out, staff, family, members, who.chat_id, message.message_id, kind, body)
    await messages.mark_answered(w.session, family.id, w.now)
    family.last_contact_at = w.now
    w.out.react(who.chat_id, message.message_id, "👌")


# /duo --------------------------------------------------------------------------------------------
# Step by step (handlers/flow.py): the family, the second coach (buttons), "Klopt dit?".
DUO_STEPS = ("duo_partner", "duo_ok")


async def duo(w: Work, who: Who, text: str) -> None:
    """A second coach for a family (PRODUCT.md §2.2 duos). The family is told."""
    tr = w.tr(who)
    text = await free_fields(w, who, text)
    parts = fields(text) if text.strip() else []
    typed = parts[1] if len(parts) > 1 else ""
    family = await resolve_family(w, who, tr, parts[0] if parts else "",
                                  retry=("duo", f" | {typed}" if typed else ""))
    if family is not None:
        await _duo_partner(w, who, tr, family, typed)


async def continue_duo(w: Work, who: Who, action: str, data: dict[str, object],
                       text: str) -> bool:
    """The second coach, typed or tapped; then ✅ Klopt, opslaan."""
    family = await authorized_family(w, who, int(str(data.get("family_id", 0))))
    if family is None or action not in DUO_STEPS:
        return False
    tr = w.tr(who)
    if action == "duo_partner":
        await _duo_partner(w, who, tr, family, text)
        return True
    answer = await picks.confirmed(w, who, action, data, text)
    if answer is None:
        return False
    partner = await people.staff_by_id(w.session, int(str(data.get("partner", 0))))
    if answer and partner is not None and partner.active and partner.is_coach:
        await _add_partner(w, who, tr, family, partner)
    return True


async def _duo_partner(w: Work, who: Who, tr: Translator, family: Family, typed: str) -> None:
    others = [c for c in await people.active_coaches(w.session)
              if who.staff is None or c.id != who.staff.id]
    current = {c.id for c in await families.coaches_of(w.session, family.id)}
    found = picks.pick_coach(typed, others) if typed else []
    if len(found) == 1 and found[0].id in current:
        w.answer(who, wording.sentence(tr.gettext("{name} is al coach van {alias}.").format(
            name=found[0].display_name, alias=family.alias)))
        return
    if len(found) == 1:
        partner = found[0]
        await picks.confirm(w, who, "duo_ok", {"family_id": family.id, "partner": partner.id}, [
            wording.sentence(tr.gettext("{name} wordt ook coach van {alias}.").format(
                name=partner.display_name, alias=family.alias)),
            tr.gettext("Het gezin krijgt daarover een bericht; hun berichten gaan dan naar jullie "
                       "allebei.")])
        return
    candidates = [c for c in others if c.id not in current]
    if not candidates:
        w.answer(who, wording.sentence(tr.gettext(
            "Er is geen andere coach die je bij {alias} kunt zetten.").format(alias=family.alias)))
        return
    intro = picks.not_found(tr, typed, found) if typed else tr.gettext(
        "Welke coach komt erbij voor {alias}? Tik op een coach, of typ een naam.").format(
            alias=family.alias)
    await flow.ask(w, who, "duo_partner", {"family_id": family.id}, intro,
                   picks.coach_rows([c for c in found if c.id not in current] or candidates))


async def _add_partner(w: Work, who: Who, tr: Translator, family: Family,
                       partner: Staff) -> None:
    if await families.is_coach_of(w.session, partner.id, family.id):
        w.answer(who, wording.sentence(tr.gettext("{name} is al coach van {alias}.").format(
            name=partner.display_name, alias=family.alias)))
        return
    families.add_coach(w.session, family.id, partner.id, w.now)
    w.answer(who, wording.sentence(tr.gettext("{name} is nu ook coach van {alias}.").format(
        name=partner.display_name, alias=family.alias)))
    if partner.chat_id is not None:
        ptr = w.tr_for(staff=partner)
        w.out.text(partner.chat_id, ptr.gettext("Je bent nu ook coach van {alias}, samen met "
                                                "{name}.").format(alias=family.alias,
                                                                  name=who.staff.display_name
                                                                  if who.staff else ""),
                   purpose="notice")
    for member in await people.members_of(w.session, family.id):
        mtr = w.tr_for(member=member, family=family)
        w.out.text(member.chat_id, mtr.gettext("{name} is nu ook je gezinscoach. Je berichten "
                                               "gaan naar allebei.").format(
                                                   name=partner.display_name), purpose="notice")
