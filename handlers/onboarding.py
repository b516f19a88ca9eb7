"""PRODUCT.md §2.1: /start with an invite, the language, the consent. Before consent nothing
about the person is stored: the invite token travels in the (signed) buttons instead."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update

from bot import outbox
from bot.domain.availability import DEFAULT_TIMEZONES
from bot.i18n import FAMILY_LANGUAGES, LANGUAGE_NAMES, STAFF_LANGUAGES, translator
from bot.tokens import plausible, token_hash
from handlers import menus, texts
from handlers.common import Context, Who, Work, work
from storage.models import Invite, Member, Staff
from storage.repos import families, invites, people

CONSENT_VERSION = "2026-11"


def _usable(invite: Invite | None, now: datetime) -> bool:
    return (invite is not None and invite.used_at is None and invite.revoked_at is None
            and invite.expires_at > now)


async def _invite(w: Work, token: str) -> Invite | None:
    if not plausible(token):
        return None
    found = await invites.invite_by_hash(w.session, token_hash(token))
    return found if _usable(found, w.now) else None


async def start(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    token = (context.args or [""])[0] if context.args else ""
    async with work(context) as w:
        who = await w.who(update)
        tr = w.tr(who)
        if not token:
            if who.is_stranger:
                texts.stranger(w, who, tr)
            else:
                w.answer(who, texts.welcome_back(tr, who))
            return
        invite = await _invite(w, token)
        if invite is None:
            _refuse(w, who)
            return
        if who.member is not None or (invite.kind == "member" and who.staff is not None):
            w.answer(who, tr.gettext(
                "Dit Telegram-account doet al mee in Gezinslijn. Een account kan maar op "
                "één plek meedoen. Vraag je coach om hulp als dit niet klopt."))
            return
        languages = FAMILY_LANGUAGES if invite.kind == "member" else STAFF_LANGUAGES
        buttons = [(LANGUAGE_NAMES[code], w.sign(who.chat_id, "lang", code, token))
                   for code in languages]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        # The question is asked in every offered language: the person has not chosen yet.
        greeting = {
            "nl": "Welkom bij Gezinslijn. Kies je taal.",
            "en": "Welcome to Gezinslijn. Choose your language.",
            "fr": "Bienvenue sur Gezinslijn. Choisissez votre langue.",
            "ar": "مرحبا بك في Gezinslijn. اختر لغتك.",
            "tr": "Gezinslijn'e hoş geldiniz. Dilinizi seçin.",
            "pl": "Witaj w Gezinslijn. Wybierz język.",
            "uk": "Вітаємо в Gezinslijn. Оберіть мову.",
        }
        text = "\n".join(greeting[code] for code in languages)
        w.answer(who, text, keyboard=outbox.keyboard(rows))


def _refuse(w: Work, who: Who, language: str | None = None) -> None:
    """A link that does not work (any more). Someone who already takes part (they tapped their
    own link again, or tapped "Ja" twice) is not told to ask for a new link: they are in."""
    if not who.is_stranger:
        w.answer(who, texts.welcome_back(w.tr(who), who))
        return
    tr = translator(language, w.svc.settings.region) if language else w.tr(who)
    texts.refused_invite(w, who, tr)


async def choose_language(w: Work, who: Who, message_id: int, language: str, token: str) -> None:
    """A language was tapped: explain, in that language, and ask for consent."""
    invite = await _invite(w, token)
    tr = translator(language, w.svc.settings.region)
    if invite is None:
        w.out.remove_buttons(who.chat_id, message_id)
        _refuse(w, who, language)
        return
    w.out.edit_text(who.chat_id, message_id, f"✓ {LANGUAGE_NAMES[language]}")
    if invite.kind == "member":
        family = (await families.family_by_id(w.session, invite.family_id)
                  if invite.family_id is not None else None)
        coaches = await families.coaches_of(w.session, invite.family_id or 0)
        text = texts.member_explanation(tr, family, coaches, w.svc.settings.retention_days)
        yes = tr.gettext("✅ Ja, ik doe mee")
    else:
        text = texts.staff_explanation(tr, invite.kind, w.svc.settings.retention_days)
        yes = tr.gettext("✅ Ja, akkoord")
    no = tr.gettext("Nee, liever niet")
    keyboard = outbox.keyboard([[(yes, w.sign(who.chat_id, "join", language, token))],
                                [(no, w.sign(who.chat_id, "nojoin", language))]])
    w.answer(who, text, keyboard=keyboard)


async def decline(w: Work, who: Who, message_id: int, language: str) -> None:
    tr = translator(language, w.svc.settings.region)
    w.out.edit_text(who.chat_id, message_id, tr.gettext(
        "Goed. Er is niets bewaard. Wil je later toch meedoen? Tik dan opnieuw op de link "
        "zolang die geldig is."))


async def consent(w: Work, who: Who, update: Update, message_id: int, language: str,
                  token: str) -> None:
    """'Ja, ik doe mee': record the consent, link the person, tell whoever should know."""
    invite = await _invite(w, token)
    if invite is None or not await invites.consume_invite(w.session, invite.id, w.now):
        w.out.remove_buttons(who.chat_id, message_id)
        _refuse(w, who, language)
        return
    w.out.remove_buttons(who.chat_id, message_id)
    user = update.effective_user
    telegram_name = (user.first_name if user else "") or "?"
    if invite.kind == "member":
        await _join_family(w, who, invite, language, telegram_name)
    else:
        await _join_staff(w, who, invite, language, telegram_name)


async def _join_family(w: Work, who: Who, invite: Invite, language: str, name: str) -> None:
    family = (await families.family_by_id(w.session, invite.family_id)
              if invite.family_id is not None else None)
    if family is None or not family.active:
        return
    member = Member(
        family_id=family.id, chat_id=who.chat_id,
        first_name=(invite.member_name or name)[:64], role=(invite.member_role or "")[:32],
        language=language, consent_at=w.now, consent_version=CONSENT_VERSION,
        consent_language=language, created_at=w.now)
    await people.add_member(w.session, member)
    tr = translator(language, family.region, family.timezone)
    coaches = await families.coaches_of(w.session, family.id)
    w.answer(who, texts.member_welcome(tr, member, coaches), keyboard=texts.family_keyboard(tr))
    menus.set_for_member(w.out, who.chat_id, tr)
    who_text = f"{member.first_name} ({member.role})" if member.role else member.first_name
    w.tell_staff(coaches, lambda ctr: ctr.gettext("{alias}: {member} doet nu mee.").format(
        member=who_text, alias=family.alias), purpose="notice")


async def _join_staff(w: Work, who: Who, invite: Invite, language: str, name: str) -> None:
    staff = who.staff
    if staff is None:
        staff = Staff(chat_id=who.chat_id, display_name=name[:64], language=language,
                      is_coordinator=False, is_coach=False, active=True, consent_at=w.now,
                      consent_version=CONSENT_VERSION, windows="ma-vr 09:00-17:00",
                      policy="crisis", created_at=w.now)
        await people.add_staff(w.session, staff)  # flushed: its id is known
    staff.language = language
    if invite.kind == "coordinator":
        staff.is_coordinator = True
    elif invite.kind == "oncall":
        staff.is_oncall = True
    else:
        staff.is_coach = True
        # The first morning agenda comes on the next working day, not minutes after joining.
        staff.agenda_sent_on = w.now.astimezone(
            ZoneInfo(DEFAULT_TIMEZONES[w.svc.settings.region])).date()
    tr = translator(language, w.svc.settings.region)
    w.answer(who, texts.staff_welcome(tr, staff), keyboard=outbox.remove_reply_keyboard())
    menus.set_for_staff(w.out, who.chat_id, tr, staff)
    if invite.created_by is not None:
        inviter = await people.staff_by_id(w.session, invite.created_by)
        if inviter is not None and inviter.chat_id is not None and inviter.id != staff.id:
            itr = w.tr_for(staff=inviter)
            w.out.text(inviter.chat_id, itr.gettext("{name} doet nu mee als coach.").format(
                name=staff.display_name), purpose="notice")
