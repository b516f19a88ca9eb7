"""Issue 15, item 5: docs/privacy.md, the record of processing, names every column that holds
personal data as `table.column`, and names no column the models do not have (so it cannot rot
quietly). Plain text against the models: no database needed."""

from __future__ import annotations

import re
from pathlib import Path

from storage import keystore
from storage.models import Base
from storage.types import PlainName, Sealed, SealedJSON, SealedName

DOC = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"

# A backticked `table.column`: the whole code span, identifiers only.
REFERENCE = re.compile(r"`([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)`")
# Backticked names of that shape that are files, not columns.
FILE_NAMES = frozenset({"gezinslijn.db", "gezinslijn.key"})

# Columns whose type says "a name or content": sealed or cleaned plain names.
PERSONAL_TYPES = (Sealed, SealedJSON, SealedName, PlainName)
# Telegram message ids: with the chat id they point at what a person wrote or received.
TELEGRAM_IDS = frozenset({"family_message.telegram_message_id", "outbox.sent_message_id",
                          "relay_link.message_id"})
# The rest that is personal although its type does not say so: it tells something about an
# identifiable person's life, care or work (when they joined, consented, wrote, were absent,
# asked for help, who looked at their file). Not listed, on purpose: `family.region` and
# `family.timezone` (NL or BE, the same for nearly every family of one organisation),
# agreed hours (`family.windows`, `staff.windows`: working hours), ids and bookkeeping columns
# (status, attempts, claims). The doc names several of those anyway; this is the floor.
EXPLICIT = frozenset({
    # A family member: language, consent and the traces of using the line.
    "member.language", "member.consent_at", "member.consent_version", "member.consent_language",
    "member.created_at", "member.last_relay_at", "member.last_receipt_at",
    "member.notice_until", "member.blocked_at",
    # A family's care trajectory: when it started, how intense, paused, the crisis-team choice.
    "family.created_at", "family.contact_frequency", "family.review_frequency",
    "family.last_review_at", "family.last_contact_at", "family.paused_until",
    "family.oncall_agreed",
    # What stays of a message after retention: who, what kind, crisis words, when.
    "family_message.member_id", "family_message.kind", "family_message.urgent",
    "family_message.received_at", "family_message.answered_at",
    # When the family meets, whether they come, when they asked for help with an agreement.
    "appointment.starts_at", "appointment.response", "appointment.is_review",
    "action_item.due_date", "action_item.help_at",
    # Chat ids inside the key of a pressed button (`tap:<chat>:<message>:…`).
    "bot_state.key",
    # A family's own crisis services: may reveal a treatment; stored plain.
    "family_service.name", "family_service.phone",
    # Staff (employees): consent, which family they coach, absences, requests for help.
    "staff.consent_at", "family_coach.staff_id", "family_coach.since",
    "absence.staff_id", "absence.starts_at", "absence.ends_at", "absence.substitute_id",
    "help_request.family_id", "help_request.staff_id", "help_request.asked_at",
    # Who looked at which family's data, when and why.
    "access_log.staff_id", "access_log.family_id", "access_log.action", "access_log.reason",
    "access_log.at",
})


def model_columns() -> set[str]:
    """Every `table.column` of the data database and of the key store."""
    tables = [*Base.metadata.sorted_tables, *keystore.metadata.sorted_tables]
    return {f"{table.name}.{column.name}" for table in tables for column in table.columns}


def personal_columns() -> set[str]:
    found = set(EXPLICIT)
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            if (isinstance(column.type, PERSONAL_TYPES) or column.name.endswith("chat_id")
                    or name in TELEGRAM_IDS):
                found.add(name)
    return found


def named_columns(text: str) -> set[str]:
    return {f"{table}.{column}" for table, column in REFERENCE.findall(text)} - FILE_NAMES


def problems(text: str) -> list[str]:
    """Everything wrong with a record of processing, one line each (empty: all is well)."""
    named = named_columns(text)
    found = [f"personal data column `{c}` is not in docs/privacy.md"
             for c in sorted(personal_columns() - named)]
    found += [f"docs/privacy.md names `{c}`, which no model has"
              for c in sorted(named - model_columns())]
    tables = [t.name for t in Base.metadata.sorted_tables] + [keystore.data_key.name]
    found += [f"table `{t}` is not in docs/privacy.md" for t in tables
              if f"`{t}`" not in text and not any(c.startswith(f"{t}.") for c in named)]
    return found


def assert_no_problems(text: str) -> None:
    found = problems(text)
    assert not found, "docs/privacy.md is out of date:\n" + "\n".join(found)


def test_every_personal_data_column_is_in_the_record() -> None:
    assert_no_problems(DOC.read_text(encoding="utf-8"))


def test_the_record_names_the_key_store_table() -> None:
    assert keystore.data_key.name == "data_key"
    assert "`data_key`" in DOC.read_text(encoding="utf-8")


def test_the_rule_finds_sealed_names_chat_ids_and_staff_names() -> None:
    personal = personal_columns()
    assert {"member.first_name", "family.alias", "family_message.body", "outbox.payload",
            "pending_input.data", "staff.display_name", "member.chat_id",
            "inbound_update.chat_id", "relay_link.message_id"} <= personal
    assert "family.region" not in personal
    # The explicit list names real columns: a rename shows here first.
    assert sorted(EXPLICIT - model_columns()) == []


def test_the_check_notices_a_column_left_out() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "`member.first_name`" in text
    # Every mention of the column in its own span, and in a span that lists it with others.
    without = text.replace("`member.first_name`", "first name").replace(
        "`member.first_name`, `member.role`", "`member.role`")
    assert any("`member.first_name`" in p for p in problems(without))


def test_the_check_notices_a_column_that_does_not_exist() -> None:
    text = DOC.read_text(encoding="utf-8") + "\nAlso kept: `member.nickname`.\n"
    assert any("`member.nickname`" in p for p in problems(text))
