"""PRODUCT.md §2.7 and §5: the family's rights — see everything kept, see who looked, leave
and be erased. (The access log is written by storage/repos/audit.py; the retention purge is the
job in bot/jobs/retention.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bot import outbox, wording
from bot.delivery.recipients import agreement_of
from bot.i18n import LANGUAGE_NAMES, N_, Translator
from handlers import menus
from handlers.availability_cmds import render_windows
from handlers.common import Who, Work
from storage.models import FamilyMessage
from storage.repos import appointments, audit, families, privacy
from storage.repos import outbox as outbox_rows

# The access log keeps its reason in Dutch; the family reads it in their own language.
REASONS = {
    "agenda op verzoek": N_("de agenda van de coach"),
    "afspraken als agendabestand": N_("de afspraken in de agenda van de coach"),
    "overzicht gezinnen": N_("het overzicht van de coach"),
    "coördinatoroverzicht": N_("het overzicht van de coördinator"),
}
# What kind of message, in words: the export is read by people, an emoji alone is a riddle.
KIND_NAMES = {"text": N_("bericht"), "photo": N_("foto"), "voice": N_("spraakbericht"),
              "document": N_("bestand"), "video": N_("video"), "audio": N_("geluidsbestand"),
              "animation": N_("GIF"), "sticker": N_("sticker"), "video_note": N_("videobericht"),
              "location": N_("locatie"), "venue": N_("locatie"), "contact": N_("contactgegevens")}


# /mijngegevens -----------------------------------------------------------------------------
async def my_data(w: Work, who: Who) -> None:
    member, family = who.member, who.family
    assert member is not None and family is not None
    tr = w.tr(who)
    coaches = await families.coaches_of(w.session, family.id)
    messages = await privacy.messages_of(w.session, member.id)
    appts = await appointments.appointments_of(w.session, family.id)
    items = await appointments.agreements_of(w.session, family.id)
    looked = await audit.access_to(w.session, family.id)
    days = w.svc.settings.retention_days
    lines = [
        tr.gettext("Gezinslijn — wat we over jou bewaren"),
        tr.gettext("Gemaakt op {day} om {time}.").format(day=tr.day(w.now),
                                                        time=tr.time(w.now)),
        "",
        tr.gettext("Over jou"),
        tr.gettext("Naam: {name}").format(name=member.first_name),
        # No role is not a blank to fill in: the line is left out.
        *([tr.gettext("Rol: {role}").format(role=member.role)] if member.role else []),
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
    lines += _message_lines(tr, [m for m in messages if m.kind != "signal"], days)
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


def _message_lines(tr: Translator, messages: Sequence[FamilyMessage], days: int) -> list[str]:
    """One line per message: when, what kind, and the words kept. Media are not kept by us,
    only a pointer to them in Telegram; after the retention period only when and what kind
    stay (storage/repos/privacy.py purge_before), and the line says so plainly."""
    if not messages:
        return [tr.gettext("Geen berichten.")]
    lines = []
    if any(m.kind != "text" and m.chat_id is not None for m in messages):
        lines.append(tr.gettext("Foto's, spraakberichten en bestanden bewaren we niet zelf. "
                                "Die staan in Telegram."))
    removed = tr.ngettext("inhoud na {days} dag verwijderd", "inhoud na {days} dagen verwijderd",
                          days).format(days=days)
    for message in messages:
        when = f"{tr.date_short(message.received_at)} {tr.time(message.received_at)}"
        kind = tr.gettext(KIND_NAMES.get(message.kind, KIND_NAMES["text"]))
        if message.body is None and message.chat_id is None:  # purged
            lines.append(f"{when} {kind} — {removed}")
            continue
        if message.kind != "text":
            kind = tr.gettext("{kind} (staat in Telegram)").format(kind=kind)
        lines.append(f"{when} {kind}: {message.body}" if message.body else f"{when} {kind}")
    return lines


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
    old_key = await privacy.erase_member(w.session, member)
    w.after_commit.append(partial(w.svc.db.erase_traces, (old_key,) if old_key else ()))
    # Every last send to this chat is a farewell: its outbox row goes once it is sent, so not
    # even the chat id stays behind.
    w.out.remove_buttons(chat_id, message_id, purpose="farewell")
    w.out.text(chat_id, tr.gettext("Je bent gestopt. We hebben je gegevens en berichten "
                                   "gewist. Wil je later terugkomen? Vraag je coach om een "
                                   "nieuwe link."),
               keyboard=outbox.remove_reply_keyboard(), purpose="farewell")
    menus.clear_for(w.out, chat_id, purpose="farewell")
    for coach in await families.coaches_of(w.session, family.id):
        if coach.chat_id is None:
            continue
        # It names her: deleted once sent. Should the coach not be reachable now, what waits
        # for them names no one (bot/outbox/dispatcher.py: `kept`).
        ctr = w.tr_for(staff=coach)
        kept = ctr.gettext("{alias}: iemand uit het gezin is gestopt met Gezinslijn. De "
                           "gegevens en berichten zijn gewist.").format(alias=family.alias)
        if coach.blocked_at is not None or await outbox_rows.parked_in(w.session,
                                                                        coach.chat_id):
            w.out.text(coach.chat_id, kept, purpose="notice")
            continue
        w.out.text(coach.chat_id, ctr.gettext(
            "{alias}: {name} is gestopt met Gezinslijn. De gegevens en berichten zijn gewist."
        ).format(alias=family.alias, name=name), purpose="farewell", kept=kept)
