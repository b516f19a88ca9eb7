"""The agenda as a coach reads it, on request (/agenda) and every working morning (the job in
bot/jobs/morning_agenda.py): the text, and the buttons to plan an *afstemgesprek*."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import outbox
from bot.callbacks import CallbackSigner
from bot.domain.agenda import Agenda, Frequency
from bot.i18n import N_, Translator

FREQUENCY_NAMES = {
    Frequency.DAILY: N_("dagelijks"),
    Frequency.WEEKLY: N_("wekelijks"),
    Frequency.BIWEEKLY: N_("om de twee weken"),
    Frequency.MONTHLY: N_("maandelijks"),
    Frequency.QUARTERLY: N_("elke 3 maanden"),
    Frequency.HALFYEARLY: N_("elke 6 maanden"),
    Frequency.NEVER: N_("nooit"),
}
REVIEW_BUTTONS = 8


def render(tr: Translator, agenda: Agenda, now: datetime) -> str:
    if agenda.empty:
        return tr.gettext("📋 Je agenda voor vandaag is leeg. Niets dat op je wacht.")
    lines = [tr.gettext("📋 Je agenda voor {day}").format(day=tr.day(now))]
    if agenda.waiting:  # first: a family waits for the coach, the longest waiting first
        lines += ["", tr.gettext("Wachten op je antwoord:")]
        for w in agenda.waiting:
            flag = " 🆘" if w.urgent else ""
            lines.append("• " + tr.ngettext(
                "{alias}: {n} bericht, wacht sinds {when}",
                "{alias}: {n} berichten, wacht sinds {when}",
                w.count).format(alias=w.alias, n=w.count, when=tr.when(w.since, now)) + flag)
    if agenda.appointments:
        lines += ["", tr.gettext("Afspraken vandaag:")]
        for a in agenda.appointments:
            extra = {"coming": " 👍", "cannot": " ✋"}.get(a.response or "", "")
            place = f" ({a.place})" if a.place else ""
            lines.append(f"• {tr.time(a.at)} {a.alias}: {a.what}{place}{extra}")
    if agenda.held:
        lines += ["", tr.gettext("Bewaarde berichten:")]
        for h in agenda.held:
            flag = " 🆘" if h.urgent else ""
            lines.append(f"• {h.alias}: {h.count}{flag}")
    if agenda.signals:
        lines += ["", tr.gettext("Gezinnen die iets lieten weten:")]
        for s in agenda.signals:
            label = tr.gettext("lukt niet") if s.kind == "cannot" else tr.gettext("hulp nodig")
            lines.append(f"• {s.alias}: {label} — {s.what}")
    if agenda.due or agenda.overdue:
        lines += ["", tr.gettext("Actiepunten:")]
        for i in agenda.due:
            lines.append("• " + tr.gettext("{alias}: {what} (vandaag)").format(
                alias=i.alias, what=i.what))
        for i in agenda.overdue:
            lines.append("• " + tr.gettext("{alias}: {what} (sinds {day})").format(
                alias=i.alias, what=i.what, day=tr.day(i.due)))
    if agenda.contact_due:
        lines += ["", tr.gettext("Contact:")]
        for c in agenda.contact_due:
            lines.append("• " + tr.ngettext(
                "Je hebt {alias} {n} dag niet gesproken (afgesproken: {freq}).",
                "Je hebt {alias} {n} dagen niet gesproken (afgesproken: {freq}).",
                c.days).format(alias=c.alias, n=c.days,
                               freq=tr.gettext(FREQUENCY_NAMES[c.frequency])))
    if agenda.reviews_due:
        lines += ["", tr.gettext("Afstemgesprek nodig:")]
        for r in agenda.reviews_due:
            lines.append(f"• {r.alias} ({tr.gettext(FREQUENCY_NAMES[r.frequency])})")
    if agenda.absence:
        start, end = agenda.absence
        lines += ["", tr.gettext("Je afwezigheid: {first} tot {last}.").format(
            first=tr.day(start), last=tr.day(end - timedelta(seconds=1)))]
    if agenda.good_news:
        lines += ["", tr.gettext("🌟 Goed nieuws deze week:")]
        for g in agenda.good_news:
            parts = []
            if g.done:
                parts.append(tr.ngettext("{n} actiepunt gedaan", "{n} actiepunten gedaan",
                                         g.done).format(n=g.done))
            if g.kept:
                parts.append(tr.ngettext("{n} afspraak bevestigd", "{n} afspraken bevestigd",
                                         g.kept).format(n=g.kept))
            lines.append(f"• {g.alias}: " + ", ".join(parts))
    if agenda.paused:
        lines += ["", tr.gettext("Rustpauze: {aliases}").format(
            aliases=", ".join(agenda.paused))]
    return "\n".join(lines)


def keyboard(signer: CallbackSigner, chat_id: int, tr: Translator,
             agenda: Agenda) -> dict[str, object] | None:
    """One button per family due for an *afstemgesprek* (the first few)."""
    rows = [[(tr.gettext("📅 Plan afstemgesprek {alias}").format(alias=r.alias),
              signer.sign(chat_id, "rev", r.family_id))]
            for r in agenda.reviews_due[:REVIEW_BUTTONS]]
    return outbox.keyboard(rows) if rows else None
