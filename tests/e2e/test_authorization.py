"""PRODUCT.md §5 end to end: the one authorization check, as a table.

Every command (registry.COMMANDS, plus /start) and every button action (registry.BUTTONS)
is tried by every role that has no business with Gezin W.: a member of another family, the
coach of another family, a substitute coach before and during the absence, the coordinator and
a stranger. A refusal leaks nothing: the answer for "Gezin W." (someone else's family) is the
answer for "Gezin Q." (no family at all). Buttons are signed per chat (bot/callbacks.py); the
tables also sign data for the presser's own chat, so what is tested there is the server-side
relation check behind the signature.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, true

from bot.simulator import ChatMessage, LocalUser
from handlers.registry import BY_NAME
from storage.models import ActionItem, Appointment, Base, Member
from tests.e2e.conftest import (
    AMS,
    LINK,
    Harness,
    add_coach,
    answers_per_command,
    family_named,
    move_clock,
    since,
)

W, Q = "Gezin W.", "Gezin Q."  # Gezin W. is Sanne's family; a "Gezin Q." exists nowhere
# A command of another role: whose it is, and what to use instead (handlers/router.py).
REFUSED = "Deze opdracht is voor "
UNKNOWN = "Die opdracht ken ik niet. Tik op het menu voor de opdrachten."
STRANGER = "Hallo! Gezinslijn is alleen voor gezinnen met een gezinscoach."
BAD_LINK = "Deze link werkt niet (meer)."
NOT_FOUND = "Ik ken geen gezin"
# What only Gezin W.'s own people may read: its alias, its member, its contents.
CONTENTS = ("Marieke", "huisbezoek", "formulier", "Hallo Sanne")
SECRETS = (W, *CONTENTS)
THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=AMS)  # during Sanne's absence
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)  # after it
BOGUS_TOKEN = "Zm9yZ2VkLXRva2VuLW5vdC1yZWFs"
NOWHERE = 999_999  # an id no row has

# Who may use which command (PRODUCT.md §2.8), written out here rather than read from the router.
MAY: dict[str, set[str]] = {
    "member": {"hulp", "taal", "bereikbaar", "afspraken", "pauze", "mijngegevens", "stoppen",
               "annuleren"},
    "coach": {"hulp", "taal", "annuleren", "pauze", "nieuwgezin", "uitnodiging", "schrijf",
              "gezinnen", "duo", "afspraak", "actie", "agenda", "contact", "afstemgesprek",
              "coordinator", "bereikbaarheid", "afwezig", "crisisdienst"},
    "coordinator": {"hulp", "taal", "annuleren", "overzicht", "verplaats", "coachstop",
                    "coachuitnodigen", "dienstuitnodigen", "spoedmelding"},
    "stranger": {"hulp"},
}
EARLIER_STOPPED = "De vorige opdracht is gestopt"
# The arguments each command is tried with; {a} is a family alias.
ARGS: dict[str, str] = {
    "hulp": "", "taal": "", "annuleren": "", "gezinnen": "", "bereikbaar": "", "afspraken": "",
    "mijngegevens": "", "stoppen": "", "agenda": "", "afwezig": "", "overzicht": "",
    "coachuitnodigen": "", "dienstuitnodigen": "", "spoedmelding": "", "coachstop": "Niemand",
    "nieuwgezin": "", "verplaats": "{a} | Niemand",  # /nieuwgezin with an alias: below
    "uitnodiging": "{a}", "schrijf": "{a}", "duo": "{a} | Niemand", "pauze": "{a} 3",
    "afspraak": "{a} | morgen 15:00 | gesprek", "actie": "{a} | vrijdag | brief posten",
    "contact": "{a} | wekelijks", "afstemgesprek": "{a} | maandelijks", "coordinator": "{a}",
    "bereikbaarheid": "{a}", "crisisdienst": "{a}",
}
# Commands whose argument names one of the coach's families (coach.resolve_family).
NAMES_A_FAMILY = ("uitnodiging", "schrijf", "duo", "pauze", "afspraak", "actie", "contact",
                  "afstemgesprek", "coordinator", "bereikbaarheid", "crisisdienst")


@dataclass
class World:
    carla: LocalUser  # coordinator
    sanne: LocalUser  # coach of Gezin W.
    marieke: LocalUser  # member of Gezin W.
    pieter: LocalUser  # coach of Gezin P.
    tom: LocalUser  # coach of Gezin T., Sanne's substitute on 26 and 27 November
    family: int  # Gezin W.'s id
    appointment: int
    item: int
    token: str  # an unused invite link for Gezin W. (Sanne's)

    @property
    def everyone(self) -> list[LocalUser]:
        return [self.carla, self.sanne, self.marieke, self.pieter, self.tom]


async def _say(person: LocalUser, text: str, expect: str) -> ChatMessage:
    start = len(person.inbox())
    person.send_text(text)
    return await person.wait_for(lambda m: expect in m.text, after=start)


async def _checked(person: LocalUser, command: str, done: str) -> None:
    """A one-line command that asks "Klopt dit?" first (/afwezig, /verplaats: issue 14)."""
    check = await _say(person, command, "Klopt dit?")
    start = len(person.inbox())
    person.press("✅ Klopt, opslaan", on=check)
    await person.wait_for(lambda m: done in m.text, after=start)


async def _confirmed(person: LocalUser, command: str) -> None:
    check = await _say(person, command, "Klopt dit?")
    person.press("✅ Klopt, opslaan", on=check)
    await person.wait_for(lambda m: m.text.startswith("Opgeslagen"), after=len(person.inbox()) - 1)


async def build_world(harness: Harness) -> World:
    carla, sanne, marieke = await harness.onboard(W)
    pieter = await add_coach(harness, carla, "Pieter")
    tom = await add_coach(harness, carla, "Tom")
    await harness.link_from(tom, "/nieuwgezin Gezin T.")
    await _checked(sanne, "/afwezig 26-11 27-11 | Tom", "Tom vervangt")
    await _confirmed(sanne, "/afspraak Gezin W. | morgen 14:00 | huisbezoek")
    await _confirmed(sanne, "/actie Gezin W. | vrijdag | formulier invullen")
    marieke.send_text("Hallo Sanne")
    await sanne.wait_for(lambda m: "Hallo Sanne" in m.text)
    token = await harness.link_from(sanne, "/uitnodiging Gezin W.")
    await harness.api.idle()
    async with harness.runtime.db.transaction() as session:
        family = (await family_named(session, W)).id
        appointment = await session.scalar(select(Appointment.id))
        item = await session.scalar(select(ActionItem.id))
    assert family and appointment and item
    return World(carla, sanne, marieke, pieter, tom, family, appointment, item, token)


# Looking at the outcome ---------------------------------------------------------------------------
async def family_state(harness: Harness, family_id: int) -> dict[str, list[str]]:
    """Every stored row about one family (its row, its members, messages, appointments, …)."""
    state: dict[str, list[str]] = {}
    async with harness.runtime.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "family":
                where = table.c.id == family_id
            elif "family_id" in table.c:
                where = table.c.family_id == family_id
            elif table.name == "absence":
                where = true()
            else:
                continue
            rows = (await session.execute(select(table).where(where))).all()
            state[table.name] = sorted(repr(tuple(row)) for row in rows)
    return state


def changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """The rows that appeared or went, per table."""
    return [f"{table}: -{sorted(set(rows) - set(after.get(table, [])))} "
            f"+{sorted(set(after.get(table, [])) - set(rows))}"
            for table, rows in before.items() if rows != after.get(table, [])]


async def everything(harness: Harness) -> dict[str, list[str]]:
    """Every stored row, bookkeeping aside (the outbox, updates in flight, the polling offset,
    the instances' shares of the send limit, reported every second on PostgreSQL)."""
    state: dict[str, list[str]] = {}
    async with harness.runtime.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in ("outbox", "inbound_update", "bot_state", "send_share"):
                rows = (await session.execute(select(table))).all()
                state[table.name] = sorted(repr(tuple(row)) for row in rows)
    return state


def readable(harness: Harness, message: ChatMessage) -> str:
    """What the person sees: the text or caption, a file's contents, and the buttons."""
    text = message.text
    if message.kind == "document":
        text += "\n" + harness.api.file_content(message).decode()
    buttons = [(b.get("text"), b.get("callback_data")) for b in message.buttons]
    return f"{message.kind}: {text} {buttons}"


def normalized(texts: Sequence[str], alias: str) -> list[str]:
    """The same answer whatever alias was typed (the bot repeats it) or link was made."""
    return [LINK.sub("?start=<token>", t.replace(alias, "<alias>")) for t in texts]


def containing(text: str) -> Callable[[ChatMessage], bool]:
    return lambda message: text in message.text


def inboxes(people: Sequence[LocalUser]) -> dict[str, int]:
    return {p.first_name: len(p.inbox()) for p in people}


def mentions(texts: Sequence[str], secrets: Sequence[str]) -> list[str]:
    return [f"{s!r} in {t[:120]!r}" for t in texts for s in secrets if s in t]


# Commands -----------------------------------------------------------------------------------------
def line(name: str, alias: str, english: bool) -> str:
    names = BY_NAME[name].names
    args = ARGS[name].format(a=alias)
    return f"/{names[-1] if english else names[0]} {args}".rstrip()


async def ask_each(harness: Harness, person: LocalUser, commands: Sequence[str]
                   ) -> list[list[str]]:
    """Each command's answers; an unknown command after each marks where its answers end."""
    answers = await answers_per_command(person, commands, "/zz",
                                        lambda m: m.text.startswith(UNKNOWN),
                                        lambda m: readable(harness, m))
    # A question a command left open is stopped by the next command, which says so.
    return [[t for t in got if EARLIER_STOPPED not in t] for got in answers]


async def check_commands(harness: Harness, world: World, person: LocalUser, role: str,
                         english: bool = False) -> list[str]:
    """Every command as this person: refused by role, or allowed without a word about Gezin W.;
    where a family is named, "Gezin W." is answered exactly like "Gezin Q."."""
    problems: list[str] = []
    names = sorted(BY_NAME)
    lines = [line(n, W, english) for n in names]
    if role == "coach":  # for the others these are refused whatever follows
        lines += [line(n, Q, english) for n in NAMES_A_FAMILY]
    starts = ["/start", f"/start {BOGUS_TOKEN}", f"/start {world.token}"]
    before = await family_state(harness, world.family)
    others = [p for p in world.everyone if p is not person]
    seen_before = inboxes(others)
    answers = await ask_each(harness, person, lines + starts)
    by_line = dict(zip(lines + starts, answers, strict=True))
    for name in names:
        got = by_line[line(name, W, english)]
        if name not in MAY[role]:
            if len(got) != 1 or not got[0].startswith(f"text: {REFUSED}") or not got[
                    0].endswith(" []"):
                problems.append(f"/{name} should be refused for a {role}: {got}")
            continue
        if any(t.startswith(f"text: {REFUSED}") for t in got) or not got:
            problems.append(f"/{name} should be allowed for a {role}: {got}")
        if name in NAMES_A_FAMILY:
            continue
        secrets = CONTENTS if role == "coordinator" else SECRETS  # aliases are theirs to see
        problems += [f"/{name}: {m}" for m in mentions(got, secrets)]
    for name in NAMES_A_FAMILY if role == "coach" else ():
        with_j, with_q = by_line[line(name, W, english)], by_line[line(name, Q, english)]
        if normalized(with_j, W) != normalized(with_q, Q):
            problems.append(f"/{name}: {W} answered {with_j}, {Q} answered {with_q}")
        problems += [f"/{name}: {m}" for m in mentions(with_j, CONTENTS)]
    for command in starts:
        got = by_line[command]
        if len(got) != 1 or mentions(got, SECRETS) or "doet al mee" not in got[0]:
            problems.append(f"{command.split()[0]} … as a {role}: {got}")
    await harness.api.idle()
    after = await family_state(harness, world.family)
    if role == "coordinator":  # the overview is a read of Gezin W.: written to the access log
        assert len(after.pop("access_log")) == len(before.pop("access_log")) + 1
    if changes(before, after):
        problems.append(f"the commands of a {role} changed {changes(before, after)}")
    if inboxes(others) != seen_before:
        problems.append(f"the commands of a {role} reached someone else: {seen_before} → "
                        f"{inboxes(others)}")
    return problems


async def test_every_command_as_every_role(harness: Harness) -> None:
    assert set(ARGS) == set(BY_NAME), "a new command needs a row in this table"
    for name, roles in {n: c.roles for n, c in BY_NAME.items()}.items():
        assert {r for r in MAY if name in MAY[r]} == roles, f"/{name}: roles differ from §2.8"
    world = await build_world(harness)
    piet = harness.api.user("Piet")
    await harness.join(piet, await harness.link_from(world.pieter,
                                                     "/nieuwgezin Gezin P. | Piet | vader"))
    await harness.api.idle()
    problems = []
    problems += await check_commands(harness, world, piet, "member", english=True)
    problems += await check_commands(harness, world, world.pieter, "coach")
    problems += await check_commands(harness, world, world.tom, "coach")  # before the absence
    problems += await check_commands(harness, world, world.carla, "coordinator", english=True)

    assert problems == [], "\n".join(problems)

    # A stranger: the same short text (once in a while), whatever is typed; nothing stored.
    vera = harness.api.user("Vera")
    stored = await everything(harness)
    start = len(vera.inbox())
    for name in sorted(BY_NAME):
        vera.send_text(line(name, W, english=False))
        vera.send_text(line(name, W, english=True))
    vera.send_text(f"/start {BOGUS_TOKEN}")
    vera.send_text(f"/start {world.token}")
    await vera.wait_for(lambda m: "Kies je taal" in m.text, after=start)
    await harness.api.idle()
    got = [m.text for m in since(vera, start)]
    # The first command, and /hulp and /help (which always answer), get the same text.
    assert [t for t in got if t.startswith(STRANGER)] == [got[0]] * 3, got
    rest = [t for t in got if not t.startswith(STRANGER)]
    assert len(rest) == 2 and rest[0].startswith(BAD_LINK), got
    assert "Welkom bij Gezinslijn. Kies je taal." in rest[1]  # she holds a real link
    assert not mentions(got, SECRETS)
    assert await everything(harness) == stored

    # During the absence the substitute may name Gezin W.: the same commands now find it.
    await move_clock(harness, THURSDAY)
    answers = await ask_each(harness, world.tom, [line(n, a, False) for n in NAMES_A_FAMILY
                                                  for a in (W, Q)])
    for number, name in enumerate(NAMES_A_FAMILY):
        with_j, with_q = answers[2 * number], answers[2 * number + 1]
        assert with_j and not any(NOT_FOUND in t for t in with_j), (name, with_j)
        assert any(NOT_FOUND in t for t in with_q), (name, with_q)
        assert not mentions(with_j, ("Hallo Sanne",))  # still no message content

    # A coach creating a family of the same name learns nothing of the other one either.
    made = await ask_each(harness, world.pieter, [f"/nieuwgezin {W}", f"/nieuwgezin {Q}"])
    assert normalized(made[0], W) == normalized(made[1], Q)
    assert "is aangemaakt" in made[0][0]


# Buttons ------------------------------------------------------------------------------------------
def family_buttons(family: int, appointment: int, item: int, message_id: int
                   ) -> list[tuple[str | int, ...]]:
    """Every button action that names a family (or something of one)."""
    return [("send", family, message_id), ("sendok", family, message_id), ("wr", family),
            ("inv", family), ("apf", family), ("acf", family), ("rev", family), ("askc", family),
            ("again", family, "schrijf"),
            ("apmv", appointment), ("apcx", appointment), ("rsp", "appt", appointment, "cannot"),
            ("rsp", "act", item, "done")]


MEMBER_BUTTONS: list[tuple[str | int, ...]] = [("oncall", "yes"), ("leave",), ("stay",)]
# Buttons that name no family: anyone gets the same few words for them (or nothing).
GENERIC_BUTTONS: list[tuple[str | int, ...]] = [
    ("apok",), ("apno",), ("lang", "nl", BOGUS_TOKEN), ("join", "nl", BOGUS_TOKEN),
    ("nojoin", "nl"), ("setlang", "nl")]
EXPIRED = "Deze vraag is verlopen. Begin opnieuw."
WELCOME_BACK = "Je doet al mee."
DUTCH_NOW = "Ik praat nu Nederlands met je."


def signed(harness: Harness, chat_id: int, button: Sequence[str | int]) -> str:
    return harness.runtime.services.signer.sign(chat_id, str(button[0]), *button[1:])


def tampered(data: str) -> str:
    """The same button with its first number changed: the signature no longer fits."""
    action, *rest = data.split("|")
    return "|".join([action, *(str(NOWHERE) if a.isdigit() else a for a in rest[:1]),
                     *rest[1:]])


def refused_presses(harness: Harness, world: World, person: LocalUser, member: bool,
                    more: bool) -> list[str]:
    """What this person's client sends for every button, none of which may do anything."""
    on = person.inbox()[-1]
    # Signed for this person's own chat, naming Gezin W. and its things.
    datas = [signed(harness, person.chat_id, b)
             for b in family_buttons(world.family, world.appointment, world.item, on.message_id)]
    if not member:
        datas += [signed(harness, person.chat_id, b) for b in MEMBER_BUTTONS]
    if not more:
        return datas
    # Naming things that do not exist: the same nothing as for Gezin W.'s.
    datas += [signed(harness, person.chat_id, b)
              for b in family_buttons(NOWHERE, NOWHERE, NOWHERE, on.message_id)]
    # Copied from Sanne's chat as they are, and tampered with; and plain garbage.
    copied = [signed(harness, world.sanne.chat_id, b) for b in (
        *family_buttons(world.family, world.appointment, world.item, 1), *GENERIC_BUTTONS)]
    changed = [tampered(d) for d in copied if tampered(d) != d]
    return datas + copied + changed + ["", "wr", "||", "x" * 64]


async def test_every_button_as_every_role_and_after_the_relation_ended(harness: Harness
                                                                       ) -> None:
    world = await build_world(harness)
    sign = harness.runtime.services.signer.sign
    tom, sanne, marieke = world.tom, world.sanne, world.marieke
    piet = harness.api.user("Piet")
    await harness.join(piet, await harness.link_from(world.pieter,
                                                     "/nieuwgezin Gezin P. | Piet | vader"))
    vera = harness.api.user("Vera")
    vera.send_text("hoi")
    await vera.wait_for(lambda m: STRANGER in m.text)
    await harness.api.idle()

    # The data in the table is right: Gezin W.'s own coach and member get what they ask for.
    start = len(sanne.inbox())
    sanne.press_data(sign(sanne.chat_id, "wr", world.family), on=sanne.inbox()[-1])
    await sanne.wait_for(lambda m: "Je volgende bericht gaat naar Gezin W." in m.text,
                         after=start)
    start = len(marieke.inbox())
    marieke.press_data(sign(marieke.chat_id, "rsp", "appt", world.appointment, "coming"),
                       on=marieke.inbox()[-1])
    await marieke.wait_for(lambda m: "Fijn, tot dan" in m.text, after=start)
    await harness.api.idle()

    # Everyone else, Tom before his absence included, presses everything at once.
    pressers = {world.pieter: False, tom: False, world.carla: False, vera: False, piet: True}
    # A fresh message for each to press on: a button already pressed on the same message does
    # nothing the second time (repo.first_press), and earlier steps pressed on the last one.
    for person in pressers:
        begin = len(person.inbox())
        person.send_text("/hulp")
        await person.wait_for(lambda m: True, after=begin)
    await harness.api.idle()
    before = await family_state(harness, world.family)
    starts = {p: len(p.inbox()) for p in [*world.everyone, piet, vera]}
    for person, member in pressers.items():
        for data in refused_presses(harness, world, person, member,
                                    more=person is world.pieter):
            person.press_data(data, on=person.inbox()[-1])
        for button in GENERIC_BUTTONS:
            person.press_data(signed(harness, person.chat_id, button), on=person.inbox()[-1])
    await harness.api.idle()
    assert not changes(before, await family_state(harness, world.family))
    for person, start in starts.items():
        got = [m.text for m in since(person, start)]
        if person not in pressers:  # Sanne and Marieke
            assert got == [], f"{person} got {got}"
            continue
        # Only the generic buttons answer: a question that expired (apok, apno), a link that
        # does not work (lang, join) and the language (setlang) — in the person's own terms.
        if person is vera:  # a stranger's second bad link in a row is not answered again
            expected = [EXPIRED, EXPIRED, BAD_LINK]
        else:
            expected = [EXPIRED, EXPIRED, WELCOME_BACK, WELCOME_BACK, DUTCH_NOW]
        assert [next((e for e in expected if t.startswith(e)), t) for t in got] == expected, got
        assert not mentions(got, SECRETS)
    # Piet's own member buttons act on Piet alone.
    before = await family_state(harness, world.family)
    for button in (("oncall", "no"), ("stay",), ("leave",)):
        piet.press_data(signed(harness, piet.chat_id, button), on=piet.inbox()[-1])
    await world.pieter.wait_for(lambda m: "Piet is gestopt" in m.text)
    assert not changes(before, await family_state(harness, world.family))
    async with harness.runtime.db.transaction() as session:
        assert (await session.scalars(select(Member.chat_id))).all() == [marieke.chat_id]

    # During the absence the substitute's signed buttons work …
    await move_clock(harness, THURSDAY)
    own = tom.send_text("Ik kom morgen langs")
    on = await tom.wait_for(lambda m: "Voor welk gezin" in m.text, after=len(tom.inbox()))
    expected_effects = [
        (("send", world.family, own.message_id), tom, "Stuur naar Gezin W.?"),
        (("sendok", world.family, own.message_id), marieke, "Ik kom morgen langs"),
        (("wr", world.family), tom, "Je volgende bericht gaat naar Gezin W."),
        (("inv", world.family), tom, "Stuur deze link naar één gezinslid"),
        (("apf", world.family), tom, "Wanneer is de afspraak met Gezin W.?"),
        (("acf", world.family), tom, "Wanneer moet het gebeuren?"),
        (("rev", world.family), tom, "Wanneer is het afstemgesprek met Gezin W.?"),
        (("askc", world.family), world.carla, "Tom vraagt je hulp bij Gezin W."),
        (("again", world.family, "schrijf"), tom, "Je volgende bericht gaat naar Gezin W."),
        (("apmv", world.appointment), tom, "Wat is het nieuwe moment?"),
    ]
    for button, who, text in expected_effects:
        start = len(who.inbox())
        tom.press_data(signed(harness, tom.chat_id, button), on=on)
        await who.wait_for(containing(text), after=start)
    # … and he is shown Gezin W. in choices, legitimately.
    start = len(tom.inbox())
    for command in ("/schrijf", "/uitnodiging", "/afspraak", "/actie", "/coordinator",
                    "/contact Gezin | wekelijks", f"/afspraak {W}"):
        tom.send_text(command)
    await harness.api.idle()
    held = _family_buttons_in(tom, start)
    assert len(held) == 8, held
    # After the absence none of them does anything any more.
    await move_clock(harness, MONDAY)
    before, seen = await family_state(harness, world.family), inboxes(world.everyone)
    for message, data in held:
        tom.press_data(data, on=message)
    await harness.api.idle()
    assert inboxes(world.everyone) == seen
    assert not changes(before, await family_state(harness, world.family))

    # Sanne is shown Gezin W. everywhere; then the coordinator moves the family to Pieter.
    await _confirmed(sanne, f"/afspraak {W} | morgen 15:00 | gesprek")
    start = len(sanne.inbox())
    copy = next(m for m in sanne.inbox() if "Hallo Sanne" in m.text)
    for command in ("/schrijf", "/uitnodiging", "/afspraak", "/actie", "/coordinator",
                    "/contact X | wekelijks", f"/afspraak {W}", "Een bericht zonder gezin",
                    f"/afspraak {W} | morgen 16:00 | gesprek"):
        sanne.send_text(command)
    await sanne.wait_for(lambda m: "Klopt dit?" in m.text, after=start)
    await harness.api.idle()
    held = _family_buttons_in(sanne, start)
    assert len(held) == 10, held
    await _checked(world.carla, f"/verplaats {W} | Pieter", "heeft nu Pieter als coach")
    await harness.api.idle()
    before, seen = await family_state(harness, world.family), inboxes(world.everyone)
    for message, data in reversed(held):  # ✅ Klopt, opslaan first, while it is still asked
        sanne.press_data(data, on=message)
    await harness.api.idle()
    assert inboxes(world.everyone) == seen
    assert not changes(before, await family_state(harness, world.family))
    # A reply on an old copy is refused in words, and reaches nobody.
    start = len(sanne.inbox())
    sanne.send_text("Nog één ding", reply_to=copy)
    refusal = await sanne.wait_for(lambda m: bool(m.text), after=start)
    assert refusal.text == "Dit gezin hoort niet (meer) bij jou."
    await harness.api.idle()
    assert not any("Nog één ding" in m.text for p in world.everyone for m in p.inbox())
    # The family's line goes on, to Pieter.
    marieke.send_text("Dag Pieter")
    await world.pieter.wait_for(lambda m: "Dag Pieter" in m.text)


def _family_buttons_in(person: LocalUser, start: int) -> list[tuple[ChatMessage, str]]:
    """(message, callback data) of every inline button naming Gezin W. since `start`."""
    found = []
    for message in since(person, start):
        for button in message.buttons:
            data = str(button.get("callback_data", ""))
            if data and (button.get("text") == W
                         or re.match(r"^(ap(mv|cx|ok)|sendok)\|", data)):
                found.append((message, data))
    return found
