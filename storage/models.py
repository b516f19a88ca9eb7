"""The schema. Minimal data (PRODUCT.md §1 principle 6): aliases, first names and roles; contents
only sealed, and only as long as the retention setting allows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    orm_insert_sentinel,
    relationship,
    validates,
)

from storage import sealing
from storage.types import PlainName, Sealed, SealedJSON, SealedName, UTCDateTime, plain_name

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Staff(Base):
    """Coaches and coordinators (one person may be both)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(PlainName(64))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_coach: Mapped[bool] = mapped_column(Boolean, default=False)
    # The on-duty crisis team's chat (PRODUCT.md §2.3, policy oncall).
    is_oncall: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_at: Mapped[datetime]
    consent_version: Mapped[str] = mapped_column(String(16))
    # The coach's standard availability agreement; families default to it.
    windows: Mapped[str] = mapped_column(String(200), default="ma-vr 09:00-17:00")
    policy: Mapped[str] = mapped_column(String(8), default="crisis")
    # Urgent family messages reach this coach at once, at any hour (default off).
    urgent_anytime: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A coordinator who chose to hear of urgent messages held out of hours (alias and time).
    urgent_alerts: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The local day the morning agenda last went out: claimed atomically, so once a day.
    agenda_sent_on: Mapped[date | None] = mapped_column(Date)

    @validates("display_name")
    def _plain(self, _key: str, value: str | None) -> str | None:
        return None if value is None else plain_name(value)


class Family(Base):
    __tablename__ = "family"
    # Sealed with the family's data key (storage/sealing.py).
    __sealed__ = ("key_id", ("alias",))

    id: Mapped[int] = mapped_column(primary_key=True)
    # The family's data key in the key store (storage/keystore.py); a new one on every erasure.
    key_id: Mapped[str | None] = mapped_column(String(24))
    alias: Mapped[str] = mapped_column(SealedName)
    region: Mapped[str] = mapped_column(String(2), default="NL")
    timezone: Mapped[str] = mapped_column(String(40), default="Europe/Amsterdam")
    # None: the coach's own agreement applies.
    windows: Mapped[str | None] = mapped_column(String(200))
    policy: Mapped[str | None] = mapped_column(String(8))
    # None: the coach's own choice (Staff.urgent_anytime) applies.
    urgent_anytime: Mapped[bool | None] = mapped_column(Boolean)
    open_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    oncall_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Agreed contact intensity and afstemgesprek frequency (bot/domain/agenda.py Frequency).
    contact_frequency: Mapped[str | None] = mapped_column(String(12))
    review_frequency: Mapped[str] = mapped_column(String(12), default="never",
                                                  server_default="never")
    last_review_at: Mapped[datetime | None]
    # A message of the family's in their chat moves it to its time, in the database (a
    # trigger, migration 0013); a coach's logged contact, here.
    last_contact_at: Mapped[datetime | None]

    @validates("alias")
    def _plain(self, _key: str, value: str | None) -> str | None:
        return None if value is None else plain_name(value)


class FamilyCoach(Base):
    """A family has one coach, or two (a duo)."""

    __tablename__ = "family_coach"

    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    since: Mapped[datetime]


class Member(Base):
    """A family member linked to the bot: a first name and a role, nothing more."""

    __tablename__ = "member"
    __sealed__ = ("family_id", ("first_name", "role"))

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(SealedName)
    role: Mapped[str] = mapped_column(SealedName, default="")
    language: Mapped[str] = mapped_column(String(8), default="nl")
    consent_at: Mapped[datetime]
    consent_version: Mapped[str] = mapped_column(String(16))
    consent_language: Mapped[str] = mapped_column(String(8))
    last_receipt_at: Mapped[datetime | None]
    # The member's latest message in their chat: kept by the database (a trigger on the
    # family message's INSERT, migration 0013).
    last_relay_at: Mapped[datetime | None]
    # The out-of-hours answer was given for the quiet period ending then (one per period).
    notice_until: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    @validates("first_name", "role")
    def _plain(self, _key: str, value: str | None) -> str | None:
        return None if value is None else plain_name(value)


class Invite(Base):
    """Single-use, expiring invitations. Only the SHA-256 of the token is kept."""

    __tablename__ = "invite"
    __sealed__ = ("family_id", ("member_name", "member_role"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # coordinator | coach | member
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    member_name: Mapped[str | None] = mapped_column(SealedName)
    member_role: Mapped[str | None] = mapped_column(SealedName)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @validates("member_name", "member_role")
    def _plain(self, _key: str, value: str | None) -> str | None:
        return None if value is None else plain_name(value)


class FamilyMessage(Base):
    """A message a family member sent: what is needed to deliver, hold and answer it."""

    __tablename__ = "family_message"
    __sealed__ = ("family_id", ("body",))

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Sealed)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime]
    # delivered | held (for the coach's next opening) | waiting (the coach cannot be reached:
    # blocked the bot; delivered when they can)
    status: Mapped[str] = mapped_column(String(10), default="delivered")
    hold_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    nudged_at: Mapped[datetime | None]  # the coach was reminded it waits for an answer
    escalated_at: Mapped[datetime | None]  # the coordinator was told (alias and hours only)

    __table_args__ = (Index("ix_family_message_held", "status", "hold_until"),)


class RelayLink(Base):
    """A message the bot put in someone's chat, and the family member it stands for: lets a
    coach's *reply* find the member who wrote."""

    __tablename__ = "relay_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    family_message_id: Mapped[int | None] = mapped_column(ForeignKey("family_message.id"))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="uq_relay_link_message"),)


# Sends planned in bulk (an evening's reminders, a morning's agendas and digests, nudges); every
# other row is one a person waits for now (storage/repos/outbox.py).
OUTBOX_BULK = ("reminder", "agenda", "digest", "nudge")
# A person's row: the condition of the outbox's partial index of them, written as the claims
# write it (SQLite uses a partial index only for a WHERE that names its terms).
PEOPLE = "purpose NOT IN (" + ", ".join(f"'{purpose}'" for purpose in OUTBOX_BULK) + ")"


class Outbox(Base):
    """Everything the bot must send, written in the same transaction as the decision to send."""

    __tablename__ = "outbox"
    __sealed__ = ("link_family_id", ("payload",))

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(40))
    # Emptied once sent or given up: contents stay no longer than needed.
    payload: Mapped[Any | None] = mapped_column(SealedJSON, nullable=True)
    purpose: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    # pending | sent | failed (given up) | parked (the person blocked the bot: sent after
    # unblocking) | expired | cancelled (a receipt whose copy did not arrive)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # When set, the sent message is linked to this family (and member) for reply routing.
    link_family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"))
    link_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    link_message_id: Mapped[int | None] = mapped_column(ForeignKey("family_message.id"))
    # A retry waits until then (the row stays first in its chat's lane meanwhile).
    not_before: Mapped[datetime | None]
    # Past this it is no use any more (a reminder after its appointment): expired, not sent.
    expires_at: Mapped[datetime | None]
    # Sent only once that row was (a family's receipt waits for the copy to reach the coach).
    waits_for: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    awaited: Mapped[Outbox | None] = relationship(remote_side=[id], lazy="raise")
    # Filled by SQLAlchemy when it writes many rows in one INSERT … RETURNING: with it, it
    # gives their ids back in the order given on SQLite too (by the server's ids it can on
    # PostgreSQL only), and a morning's 1,000 agendas were 1,000 INSERTs (migration 0015).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()

    # Ids never used twice (SQLite's AUTOINCREMENT; PostgreSQL's sequences anyway): a send
    # is known by its row's id from its claim to its record (migration 0012).
    # (status, due_at, id): the claims' order, so a claim of 16 reads 16 rows in it, not every
    # waiting row before a sort (PostgreSQL; SQLite's indexes end with the id anyway:
    # migration 0017).
    __table_args__ = (Index("ix_outbox_due", "status", "due_at", "id"),
                      Index("ix_outbox_lane", "chat_id", "status", "id"),
                      # The chats where a person waits, found without going through every
                      # waiting reminder (migration 0016).
                      Index("ix_outbox_people", "status", "chat_id", "link_family_id",
                            sqlite_where=text(PEOPLE), postgresql_where=text(PEOPLE)),
                      {"sqlite_autoincrement": True})


class PendingInput(Base):
    """What the bot is waiting for from a chat (the next step of a command)."""

    __tablename__ = "pending_input"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    data: Mapped[Any] = mapped_column(SealedJSON)
    expires_at: Mapped[datetime]


class InboundUpdate(Base):
    """Updates stored before Telegram is told they arrived; deleted once handled."""

    __tablename__ = "inbound_update"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[Any] = mapped_column(SealedJSON)
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The chat it came from: a failing update holds up only its own chat.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    # Failed every attempt: kept for the operator (`gezinslijn admin outbox`), not retried.
    kept_aside_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(80))  # the error's kind, no content


class Setting(Base):
    """Small pieces of bot state (the polling offset)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class SendShare(Base):
    """An instance's part of Telegram's limit, and what it had to send when it took it
    (PostgreSQL, several instances: bot/outbox/ratelimit.fair_part). Counts only."""

    __tablename__ = "send_share"

    instance: Mapped[str] = mapped_column(String(40), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)
    bulk: Mapped[int] = mapped_column(Integer)
    part: Mapped[int] = mapped_column(Integer)
    # The database's clock (seconds since 1970) at the report: the instances' clocks may differ.
    seen: Mapped[float] = mapped_column(Float)


class Absence(Base):
    __tablename__ = "absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]


class HelpRequest(Base):
    """A coach asked the coordinator for help with a family (/coordinator): who, for which
    family and when, never what about. Open until a coordinator acts on it (`handled_at`) or
    two weeks pass (storage/repos/help_requests.py)."""

    __tablename__ = "help_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    asked_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]


class FamilyService(Base):
    """A local crisis service a family's agreement adds (a huisartsenpost, a youth-care line)."""

    __tablename__ = "family_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(30))
    hours: Mapped[str] = mapped_column(String(200), default="24/7")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]


class AccessLog(Base):
    """Who read a family's data outside the normal relay, and why."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


class Appointment(Base):
    """An *afspraak*: when, what, where, for which family (PRODUCT.md §2.4)."""

    __tablename__ = "appointment"
    __sealed__ = ("family_id", ("what", "place"))

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    starts_at: Mapped[datetime]
    what: Mapped[str] = mapped_column(Sealed)
    place: Mapped[str | None] = mapped_column(Sealed)
    status: Mapped[str] = mapped_column(String(10), default="planned")  # planned | cancelled
    response: Mapped[str | None] = mapped_column(String(10))  # coming | cannot
    response_at: Mapped[datetime | None]
    is_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ActionItem(Base):
    """An *actiepunt*: something the family agreed to do, once or recurring."""

    __tablename__ = "action_item"
    __sealed__ = ("family_id", ("what",))

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    what: Mapped[str] = mapped_column(Sealed)
    due_date: Mapped[date] = mapped_column(Date)  # the (next) due day
    recurrence: Mapped[str] = mapped_column(String(10), default="none")
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done | cancelled
    done_at: Mapped[datetime | None]
    help_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Reminder(Base):
    """A planned family reminder. The database is the truth; rows are claimed when due."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("action_item.id"))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    # planned | sent | dropped | cancelled
    status: Mapped[str] = mapped_column(String(10), default="planned")
    handled_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_reminder_due", "status", "due_at"),)


sealing.listen(Family, [Member, Invite, FamilyMessage, Outbox, Appointment, ActionItem])
