"""PRODUCT.md §2.7 and §5: the family's rights — see everything kept, see who looked, leave
and be erased — plus the access log and the retention purge."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox, wording
from bot.i18n import LANGUAGE_NAMES, N_
from handlers import menus
from handlers.availability_cmds import render_windows
from handlers.common import Who, Work
from handlers.routing_glue import agreement_of
from storage import repo
from storage.models import (
    AccessLog,
    ActionItem,
    Appointment,
    FamilyMessage,
    InboundUpdate,
    Invite,
    Member,
    Outbox,
    PendingInput,
    RelayLink,
    Reminder,
    Staff,
)

log = logging.getLogger(__name__)

# The access log keeps its reason in Dutch; the family reads it in their own language.
REASONS = {
    "agenda op verzoek": N_("de agenda van de coach"),
    "afspraken als agendabestand": N_("de afspraken in de agenda van de coach"),
    "overzicht gezinnen": N_("het overzicht van de coach"),
    "coördinatoroverzicht": N_("het overzicht van de coördinator"),
}
KIND_NAMES = {"photo": "📷", "voice": "🎤", "document": "📄", "video": "🎬", "audio": "🎵",
              "animation": "🎞", "sticker": "🙂", "video_note": "🎥", "location": "📍",
              "venue": "📍", "contact": "👤"}


def log_access(session: AsyncSession, staff: Staff | None, family_ids: Sequence[int],
               action: str, reason: str, now: datetime) -> None:
    """Who read which family's data, outside the normal relay, when and why."""
    for family_id in family_ids:
        session.add(AccessLog(staff_id=staff.id if staff else None, family_id=family_id,
                              action=action[:40], reason=reason[:80], at=now))


# /mijngegevens -----------------------------------------------------------------------------
async def my_data(w: Work, who: Who) -> None:
    member, family = who.member, who.family
    assert member is not None and family is not None
    tr = w.tr(who)
    coaches = await repo.coaches_of(w.session, family.id)
    messages = (await w.session.scalars(select(FamilyMessage).where(
        FamilyMessage.member_id == member.id).order_by(FamilyMessage.received_at))).all()
    appts = (await w.session.scalars(select(Appointment).where(
        Appointment.family_id == family.id).order_by(Appointment.starts_at))).all()
    items = (await w.session.scalars(select(ActionItem).where(
        ActionItem.family_id == family.id).order_by(ActionItem.due_date))).all()
    looked = (await w.session.execute(
        select(AccessLog, Staff.display_name).outerjoin(Staff, Staff.id == AccessLog.staff_id)
        .where(AccessLog.family_id == family.id).order_by(AccessLog.at))).all()
    days = w.svc.settings.retention_days
    lines = [
        tr.gettext("Gezinslijn — wat we over jou bewaren"),
        tr.gettext("Gemaakt op {day} om {time}.").format(day=tr.day(w.now),
                                                        time=tr.time(w.now)),
        "",
        tr.gettext("Over jou"),
        tr.gettext("Naam: {name}").format(name=member.first_name),
        tr.gettext("Rol: {role}").format(role=member.role or "-"),
        tr.gettext("Taal: {language}").format(language=LANGUAGE_NAMES.get(member.language,
                                                                          member.language)),
        tr.gettext("Gezin: {alias}").format(alias=family.alias),
        tr.gettext("Meedoen sinds: {day}").format(day=tr.date_short(member.created_at)),
        tr.gettext("Toestemming gegeven op {day} om {time} (versie {version}, taal {language})."
                   ).format(day=tr.date_short(member.consent_at), time=tr.time(member.consent_at),
                            version=member.consent_version, language=member.consent_language),
        "",
        tr.gettext("Wie je berichten leest"),
        tr.gettext("Je coach: {coach}.").format(coach=wording.coach_names(tr, coaches)),
        tr.gettext("Bij afwezigheid: de vervanger. Dat hoor je altijd."),
        "",
        tr.gettext("Bereikbaarheid van je coach"),
        *render_windows(tr, agreement_of(family, coaches).windows),
        "",
        tr.ngettext("Je berichten (we bewaren de inhoud {days} dag)",
                    "Je berichten (we bewaren de inhoud {days} dagen)", days).format(days=days),
    ]
    for message in messages:
        when = f"{tr.date_short(message.received_at)} {tr.time(message.received_at)}"
        if message.kind == "signal":
            continue
        body = message.body if message.body is not None else tr.gettext("(inhoud gewist)")
        mark = KIND_NAMES.get(message.kind, "")
        lines.append(f"{when} {mark} {body or ''}".rstrip())
    if not messages:
        lines.append(tr.gettext("Geen berichten."))
    lines += ["", tr.gettext("Afspraken van je gezin")]
    lines += [f"{tr.date_short(a.starts_at)} {tr.time(a.starts_at)}: {a.what}"
              + (f" ({a.place})" if a.place else "") for a in appts] or ["-"]
    lines += ["", tr.gettext("Actiepunten van je gezin")]
    lines += [f"{tr.date_short(i.due_date)}: {i.what}" for i in items] or ["-"]
    lines += ["", tr.gettext("Wie keek mee (buiten het gewone doorsturen)")]
    lines += [f"{tr.date_short(entry.at)} {tr.time(entry.at)}: {name or '?'} — "
              + (tr.gettext(REASONS[entry.reason]) if entry.reason in REASONS else entry.reason)
              for entry, name in looked] or [tr.gettext("Niemand.")]
    lines += ["", tr.gettext("Stoppen en alles wissen kan met /stoppen.")]
    content = ("\n".join(lines) + "\n").encode("utf-8")
    w.out.document(who.chat_id, "gezinslijn-mijn-gegevens.txt", content,
                   tr.gettext("Dit is alles wat Gezinslijn over jou bewaart."))


# /stoppen ----------------------------------------------------------------------------------
async def leave(w: Work, who: Who) -> None:
    tr = w.tr(who)
    w.answer(who, "\n".join([
        tr.gettext("Wil je stoppen met Gezinslijn?"),
        tr.gettext("Dan wissen we je gegevens en je berichten. Je coach hoort dat je gestopt "
                   "bent."),
    ]), keyboard=outbox.keyboard([
        [(tr.gettext("✅ Ja, stop en wis alles"), w.sign(who.chat_id, "leave"))],
        [(tr.gettext("Nee, ik blijf"), w.sign(who.chat_id, "stay"))]]))


async def stay(w: Work, who: Who, message_id: int) -> None:
    tr = w.tr(who)
    w.out.edit_text(who.chat_id, message_id, tr.gettext("Fijn dat je blijft."))


async def confirm_leave(w: Work, who: Who, message_id: int) -> None:
    member, family = who.member, who.family
    if member is None or family is None:
        return
    tr = w.tr(who)
    name = member.first_name
    chat_id = member.chat_id
    await erase_member(w.session, member)
    # Every last send to this chat is a farewell: its outbox row goes once it is sent, so not
    # even the chat id stays behind.
    w.out.remove_buttons(chat_id, message_id, purpose="farewell")
    w.out.text(chat_id, tr.gettext("Je bent gestopt. We hebben je gegevens en berichten "
                                   "gewist. Wil je later terugkomen? Vraag je coach om een "
                                   "nieuwe link."),
               keyboard=outbox.remove_reply_keyboard(), purpose="farewell")
    menus.clear_for(w.out, chat_id, purpose="farewell")
    for coach in await repo.coaches_of(w.session, family.id):
        if coach.chat_id is None:
            continue
        ctr = w.tr_for(staff=coach)
        w.out.text(coach.chat_id, ctr.gettext("{alias}: {name} is gestopt met Gezinslijn. "
                                              "De gegevens en berichten zijn gewist.").format(
            alias=family.alias, name=name), purpose="notice")


async def erase_member(session: AsyncSession, member: Member) -> None:
    """Everything about one person goes: messages and their copies' links, queued sends,
    pending questions, and the person. Family-level records (appointments) stay with the
    family; nothing left names or reaches this person."""
    chat_id = member.chat_id
    message_ids = select(FamilyMessage.id).where(FamilyMessage.member_id == member.id)
    await session.execute(delete(RelayLink).where(or_(
        RelayLink.member_id == member.id, RelayLink.family_message_id.in_(message_ids))))
    await session.execute(delete(Outbox).where(or_(
        Outbox.chat_id == chat_id, Outbox.link_member_id == member.id,
        Outbox.link_message_id.in_(message_ids))))
    await session.execute(delete(FamilyMessage).where(FamilyMessage.member_id == member.id))
    await session.execute(delete(PendingInput).where(PendingInput.chat_id == chat_id))
    await repo.forget_presses(session, chat_id=chat_id)
    # The invite that named this person (the coach may have typed their name and role).
    await session.execute(update(Invite).where(
        Invite.family_id == member.family_id, Invite.used_at.is_not(None),
        Invite.member_name == member.first_name).values(member_name=None, member_role=None))
    await session.delete(member)
    await session.flush()


# Retention ---------------------------------------------------------------------------------
class RetentionPurge:
    """Contents older than the retention setting are removed; what the agenda needs (that a
    message came, when, from which family) stays. Runs as a dispatcher planner, at most every
    ten minutes of the bot's clock."""

    def __init__(self, retention_days: int, every: timedelta = timedelta(minutes=10)) -> None:
        self.retention = timedelta(days=retention_days)
        self.every = every
        self.last: datetime | None = None

    async def __call__(self, session: AsyncSession, now: datetime) -> int:
        if self.last is not None and now - self.last < self.every:
            return 0
        self.last = now
        cutoff = now - self.retention
        result = await session.execute(
            update(FamilyMessage).where(FamilyMessage.received_at < cutoff,
                                        FamilyMessage.status == "delivered",
                                        or_(FamilyMessage.body.is_not(None),
                                            FamilyMessage.chat_id.is_not(None)))
            .values(body=None, chat_id=None, telegram_message_id=None))
        await session.execute(delete(RelayLink).where(RelayLink.created_at < cutoff))
        # Sent rows carry no content (emptied on delivery); old ones are not needed at all.
        await session.execute(delete(Outbox).where(
            Outbox.status.in_(("sent", "failed")), Outbox.created_at < cutoff))
        await session.execute(delete(InboundUpdate).where(InboundUpdate.received_at < cutoff))
        # Half-finished steps (they may hold typed words) and the names on invites that were
        # used or ran out: neither is needed any more.
        await session.execute(delete(PendingInput).where(PendingInput.expires_at <= now))
        await session.execute(update(Invite).where(
            or_(Invite.used_at.is_not(None), Invite.revoked_at.is_not(None),
                Invite.expires_at <= now),
            or_(Invite.member_name.is_not(None), Invite.member_role.is_not(None)))
            .values(member_name=None, member_role=None))
        # Past appointments and finished agreements: the family needed the words before, not
        # after, and the agenda only looks ahead. Gone with their reminders.
        old_appointments = select(Appointment.id).where(Appointment.starts_at < cutoff)
        finished = select(ActionItem.id).where(
            ActionItem.status.in_(("done", "cancelled")),
            func.coalesce(ActionItem.done_at, ActionItem.created_at) < cutoff)
        await session.execute(delete(Reminder).where(or_(
            Reminder.appointment_id.in_(old_appointments), Reminder.action_id.in_(finished))))
        await session.execute(delete(Appointment).where(Appointment.starts_at < cutoff))
        await session.execute(delete(ActionItem).where(ActionItem.id.in_(finished)))
        # Which buttons were used (repo.first_press): kept as long as contents are.
        await repo.forget_presses(session, before=cutoff)
        purged = int(getattr(result, "rowcount", 0) or 0)
        if purged:
            log.info("retention purge removed the contents of %s messages", purged)
        return 0  # bookkeeping only: never counts as "busy" for the dispatcher

