"""What a coach does in the chat: families, invites, writing and answering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from telegram import Message

from bot import outbox, wording
from bot.delivery.copies import copy_to_members
from bot.domain.availability import DEFAULT_TIMEZONES
from bot.domain.relay import UNCOPYABLE, message_kind
from bot.domain.text import compare_key
from bot.i18n import Translator
from bot.invites import create_invite
from bot.tokens import invite_link
from handlers.common import RetryLater, Who, Work
from storage.models import Family, Member, RelayLink, Staff
from storage.repos import absences, families, messages, pending, people
from storage.repos import outbox as outbox_rows

WRITE_WINDOW = timedelta(minutes=30)
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
    """A family of this coach by alias (case-insensitive, unique prefix). Asks with buttons
    when nothing or several match. Never says whether another coach has such a family.

    A tapped family runs button `action` with the family's id and `extra`; or, with `retry` =
    (command, what followed the alias), that command again with the family's alias and the
    same rest (router.again), so nothing typed is lost."""
    assert who.staff is not None
    caseload = await families_of(w, who.staff)
    found = families.match_alias(caseload, text) if text else []
    if len(found) == 1:
        return found[0]
    if retry is not None and caseload:
        action, extra = "again", (retry[0],)
        await pending.set_pending(w.session, who.chat_id, "again",
                                  {"command": retry[0], "rest": retry[1]},
                                  w.now + RETRY_WINDOW)
    choices: Sequence[Family] = found or caseload
    if not caseload:
        w.answer(who, tr.gettext("Je hebt nog geen gezinnen. Maak er een met /nieuwgezin."))
        return None
    if text and not found:
        intro = tr.gettext("Ik ken geen gezin '{alias}' bij jou. Kies er een:").format(
            alias=text[:ALIAS_MAX])
    else:
        intro = tr.gettext("Welk gezin bedoel je?")
    buttons = [[(f.alias, w.sign(who.chat_id, action, f.id, *extra))] for f in choices[:20]]
    w.answer(who, intro, keyboard=outbox.keyboard(buttons))
    return None


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
    parts = fields(text)
    family = await resolve_family(w, who, tr, parts[0] if parts else "", "inv")
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
    await with_family(w, who, text, "wr", write_to)


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
    kind = message_kind(message.to_dict())
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
    # No reply and no /schrijf: ask which family this is for.
    caseload = await families.families_of_coach(w.session, staff.id)
    if not caseload:
        w.answer(who, tr.gettext("Je hebt nog geen gezinnen. Maak er een met /nieuwgezin."))
        return
    buttons = [[(f.alias, w.sign(who.chat_id, "send", f.id, message.message_id))]
               for f in caseload[:20]]
    w.answer(who, tr.gettext("Voor welk gezin is dit bericht? (Tip: antwoord met "
                             "'Beantwoorden' op een bericht van het gezin.)"),
             keyboard=outbox.keyboard(buttons), reply_to=message.message_id)


async def send_chosen(w: Work, who: Who, family_id: int, message: Message | None,
                      message_id: int, question_id: int) -> None:
    """The coach picked a family for a message they wrote without a reply."""
    tr = w.tr(who)
    family = await authorized_family(w, who, family_id)
    w.out.remove_buttons(who.chat_id, question_id)
    if family is None or who.staff is None:
        return
    members = await people.members_of(w.session, family.id)
    if not members:
        w.answer(who, tr.gettext("Er doet nog niemand van {alias} mee.").format(
            alias=family.alias))
        return
    for member in members:
        copy_to_members(w.out, who.staff, family, [member], who.chat_id, message_id, "copy",
                        None)
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
async def duo(w: Work, who: Who, text: str) -> None:
    """A second coach for a family (PRODUCT.md §2.2 duos). The family is told."""
    tr = w.tr(who)
    parts = fields(text)
    if len(parts) < 2 or not parts[1]:
        w.answer(who, tr.gettext("Gebruik: /duo Gezin J. | naam van de andere coach"))
        return
    family = await resolve_family(w, who, tr, parts[0],
                                  retry=("duo", " | " + " | ".join(parts[1:])))
    if family is None:
        return
    found = [c for c in await people.coaches_named(w.session, parts[1])
             if who.staff is None or c.id != who.staff.id]
    if len(found) != 1:
        w.answer(who, tr.gettext("Ik vind niet precies één coach met die naam."))
        return
    partner = found[0]
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
