"""What a family member does: write to the coach, ask for help, choose a language."""

from __future__ import annotations

from telegram import Message

from bot.delivery import crisis_lines, family_messages
from bot.domain.relay import COPYABLE, UNCOPYABLE
from bot.i18n import Translator
from handlers import texts
from handlers.common import Who, Work, kind_of


async def from_member(w: Work, who: Who, message: Message, edited: bool = False) -> None:
    """A family member's message (or an edit of one: the coach gets the new version, marked,
    since a copy already in the coach's chat cannot change with it)."""
    member, family = who.member, who.family
    assert member is not None and family is not None
    tr = w.tr(who)
    kind = kind_of(message)
    if kind == "text" and (message.text or "").strip() == texts.help_button(tr):
        await help_now(w, who, tr)
        return
    if kind in UNCOPYABLE or kind == "other":
        w.answer(who, tr.gettext(
            "Dit soort bericht kan ik niet doorsturen. Typ je vraag, of stuur een foto of "
            "spraakbericht."))
        return
    if edited and kind != "text" and not COPYABLE.get(kind, False):
        return  # no words changed: a live location moving on, say; the first copy stands
    body = message.text if kind == "text" else message.caption
    if edited:
        body = "✏️ " + (body or "")
    await family_messages.receive(w, member, family, chat_id=who.chat_id,
                                  message_id=message.message_id, kind=kind, body=body,
                                  around=who.around)


async def help_now(w: Work, who: Who, tr: Translator) -> None:
    """🆘 Nu hulp nodig: 112 and whoever answers right now, the family's own services too."""
    region = who.family.region if who.family else w.svc.settings.region
    local = await crisis_lines.family_services(w.session, who.family) if who.family else ()
    w.answer(who, "\n".join([
        tr.gettext("Hulp nodig? Dit kun je nu doen:"),
        "",
        crisis_lines.lines(tr, region, w.now, local),
    ]))
