"""The agreement a family's messages are routed by (bot/delivery/recipients.agreement_of) follows
every setting it is made of, also now that one is built once for the same settings."""

from __future__ import annotations

from bot.delivery.recipients import agreement_of
from bot.domain.availability import Policy, parse_windows
from storage.models import Family, Staff


def _family(**settings: object) -> Family:
    base: dict[str, object] = {"alias": "Gezin J.", "region": "NL",
                               "timezone": "Europe/Amsterdam", "open_on_holidays": False,
                               "windows": None, "policy": None, "urgent_anytime": None}
    return Family(**{**base, **settings})


def test_each_setting_changes_the_agreement() -> None:
    coach = Staff(windows="ma-vr 09:00-17:00", policy="crisis", urgent_anytime=False)
    standard = agreement_of(_family(), [coach])
    assert standard.windows == parse_windows("ma-vr 09:00-17:00")
    assert agreement_of(_family(), [coach]) == standard
    own = agreement_of(_family(windows="di 10-12"), [coach])
    assert own.windows == parse_windows("di 10-12")
    assert agreement_of(_family(policy="always"), [coach]).policy is Policy.ALWAYS
    assert agreement_of(_family(urgent_anytime=True), [coach]).urgent_anytime
    assert agreement_of(_family(open_on_holidays=True), [coach]).open_on_holidays
    belgian = agreement_of(_family(region="BE", timezone="Europe/Brussels"), [coach])
    assert (belgian.country, belgian.timezone) == ("BE", "Europe/Brussels")
    other_coach = Staff(windows="wo 13-15", policy="oncall", urgent_anytime=True)
    theirs = agreement_of(_family(), [other_coach])
    assert theirs.windows == parse_windows("wo 13-15")
    assert theirs.policy is Policy.ONCALL and theirs.urgent_anytime
    assert agreement_of(_family(windows="onleesbaar ##"), [coach]).windows == standard.windows
