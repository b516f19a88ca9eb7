"""Crisis services: the shipped files, their validation, and who answers when."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.crisis import (
    SERVICES_DIR,
    CrisisConfigError,
    CrisisService,
    load_services,
    services_open_at,
)

AMS = ZoneInfo("Europe/Amsterdam")
BRU = ZoneInfo("Europe/Brussels")
SHIPPED = [(region, service) for region in ("NL", "BE") for service in load_services(region)]


def ids(services: tuple[CrisisService, ...]) -> list[str]:
    return [service.id for service in services]


# ------------------------------------------------------------------------------------------
# The shipped files
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "service"), SHIPPED, ids=[f"{r}-{s.id}" for r, s in SHIPPED])
def test_every_shipped_service_names_its_source_and_check_date(
    region: str, service: CrisisService
) -> None:
    assert service.source.startswith("https://")
    assert service.checked == date(2026, 11, 25)
    assert service.phone and service.hours.windows
    assert service.name("nl") and service.name("en")


def test_shipped_numbers_and_hours() -> None:
    nl = {service.id: service for service in load_services("NL")}
    be = {service.id: service for service in load_services("BE")}
    assert {s.dial: s.purpose for s in nl.values()} == {
        "112": "emergency",
        "08000113": "suicide",
        "08002000": "domestic_violence",
        "08000432": "children",
    }
    assert {s.dial: s.purpose for s in be.values()} == {
        "112": "emergency",
        "1813": "suicide",
        "106": "listening",
        "1712": "domestic_violence",
        "102": "children",
    }
    for always in (nl["112"], nl["113"], nl["veilig-thuis"], be["112"], be["zelfmoordlijn"]):
        assert always.always_open
    assert be["tele-onthaal"].always_open
    for limited in (nl["kindertelefoon"], be["1712"], be["awel"]):
        assert not limited.always_open
    assert nl["kindertelefoon"].hours.open_on_holidays  # every day of the year
    assert not be["1712"].hours.open_on_holidays


@pytest.mark.parametrize("path", sorted(SERVICES_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_files_ask_for_reverification(path: Path) -> None:
    assert "Re-verify" in path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------
# Who answers now
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "at", "expected"),
    [
        ("NL", datetime(2026, 11, 25, 3, 0, tzinfo=AMS), ["112", "113", "veilig-thuis"]),
        ("NL", datetime(2026, 11, 25, 10, 59, tzinfo=AMS), ["112", "113", "veilig-thuis"]),
        (
            "NL",
            datetime(2026, 11, 25, 11, 0, tzinfo=AMS),
            ["112", "113", "veilig-thuis", "kindertelefoon"],
        ),
        (
            "NL",
            datetime(2026, 12, 25, 15, 0, tzinfo=AMS),  # Christmas: the Kindertelefoon answers
            ["112", "113", "veilig-thuis", "kindertelefoon"],
        ),
        ("NL", datetime(2026, 11, 25, 21, 0, tzinfo=AMS), ["112", "113", "veilig-thuis"]),
        ("BE", datetime(2026, 11, 25, 3, 0, tzinfo=BRU), ["112", "zelfmoordlijn", "tele-onthaal"]),
        (
            "BE",
            datetime(2026, 11, 25, 10, 0, tzinfo=BRU),
            ["112", "zelfmoordlijn", "tele-onthaal", "1712"],
        ),
        (
            "BE",
            datetime(2026, 11, 25, 15, 0, tzinfo=BRU),  # Wednesday: Awel from 14:00
            ["112", "zelfmoordlijn", "tele-onthaal", "1712", "awel"],
        ),
        (
            "BE",
            datetime(2026, 11, 26, 15, 0, tzinfo=BRU),  # Thursday: Awel from 16:00
            ["112", "zelfmoordlijn", "tele-onthaal", "1712"],
        ),
        (
            "BE",
            datetime(2026, 11, 29, 17, 0, tzinfo=BRU),  # Sunday
            ["112", "zelfmoordlijn", "tele-onthaal"],
        ),
        (
            "BE",
            datetime(2026, 7, 21, 10, 0, tzinfo=BRU),  # 21 juli: 1712 closed
            ["112", "zelfmoordlijn", "tele-onthaal"],
        ),
    ],
)
def test_services_open_at(region: str, at: datetime, expected: list[str]) -> None:
    assert ids(services_open_at(load_services(region), at)) == expected


HUISARTSENPOST = CrisisService.create(
    id="hap-utrecht",
    names={"nl": "Huisartsenpost Utrecht", "en": "Out-of-hours GP Utrecht"},
    phone="088-1309620",
    hours="ma-vr 17:00-24:00 00:00-08:00; za,zo 0-24",
    purpose="medical",
    source="https://www.example-huisartsenpost.nl",
    checked=date(2026, 11, 1),
    timezone="Europe/Amsterdam",
    country="NL",
)


def test_family_extra_services_come_after_112_before_the_region() -> None:
    services = load_services("NL")
    night = datetime(2026, 11, 25, 3, 0, tzinfo=AMS)
    found = services_open_at(reversed(services), night, extra=(HUISARTSENPOST,))
    assert ids(found) == ["112", "hap-utrecht", "veilig-thuis", "113"]
    noon = datetime(2026, 11, 25, 12, 0, tzinfo=AMS)
    assert "hap-utrecht" not in ids(services_open_at(services, noon, extra=(HUISARTSENPOST,)))


def test_service_names_and_dial() -> None:
    kindertelefoon = {s.id: s for s in load_services("NL")}["kindertelefoon"]
    assert kindertelefoon.name("nl") == "De Kindertelefoon"
    assert kindertelefoon.name("tr") == kindertelefoon.name("en")  # English as fallback
    assert kindertelefoon.dial == "08000432"
    assert HUISARTSENPOST.is_open(datetime(2026, 11, 28, 12, 0, tzinfo=AMS))


# ------------------------------------------------------------------------------------------
# Validation: a bad entry is refused and named
# ------------------------------------------------------------------------------------------

GOOD_112 = """
[[service]]
id = "112"
for = "emergency"
name.nl = "112"
name.en = "112"
phone = "112"
hours = "24/7"
source = "https://www.112.nl"
checked = 2026-11-25
"""

GOOD_ENTRY = {
    "id": '"lijn"',
    "for": '"listening"',
    "name.nl": '"Lijn"',
    "name.en": '"Line"',
    "phone": '"0800-1234"',
    "hours": '"dagelijks 9-17"',
    "source": '"https://www.lijn.nl"',
    "checked": "2026-11-25",
}


def write(tmp_path: Path, entry: dict[str, str], header: str = 'region = "NL"\n') -> Path:
    lines = "\n".join(f"{key} = {value}" for key, value in entry.items())
    path = tmp_path / "services.toml"
    path.write_text(f"{header}{GOOD_112}\n[[service]]\n{lines}\n", encoding="utf-8")
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    services = load_services("NL", write(tmp_path, GOOD_ENTRY))
    assert ids(services) == ["112", "lijn"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"source": None}, "missing 'source'"),
        ({"source": '""'}, "missing 'source'"),
        ({"checked": None}, "missing 'checked'"),
        ({"phone": None}, "missing 'phone'"),
        ({"hours": None}, "missing 'hours'"),
        ({"for": None}, "missing 'for'"),
        ({"name.nl": None, "name.en": None}, "missing 'name'"),
        ({"name.en": None}, "lacks language(s) en"),
        ({"source": '"www.lijn.nl"'}, "not a public URL"),
        ({"checked": '"25-11-2026"'}, "Invalid isoformat"),
        ({"checked": "2026-11-25T10:00:00"}, "not a date and time"),
        ({"phone": '"bel ons"'}, "not a phone number"),
        ({"hours": '"soms"'}, "hours: unknown_day"),
        ({"for": '"gezelligheid"'}, "'for' must be one of"),
        ({"sorce": '"https://x.nl"'}, "unknown key(s) sorce"),
        ({"closed_on_holidays": '"ja"'}, "must be true or false"),
    ],
)
def test_bad_entry_is_refused_and_named(
    tmp_path: Path, change: dict[str, str | None], problem: str
) -> None:
    entry = {key: value for key, value in {**GOOD_ENTRY, **change}.items() if value is not None}
    with pytest.raises(CrisisConfigError) as caught:
        load_services("NL", write(tmp_path, entry))
    assert caught.value.entry == "'lijn'"
    assert problem in caught.value.problem
    assert "lijn" in str(caught.value)


def test_entry_without_id_is_named_by_position(tmp_path: Path) -> None:
    entry = {key: value for key, value in GOOD_ENTRY.items() if key != "id"}
    with pytest.raises(CrisisConfigError) as caught:
        load_services("NL", write(tmp_path, entry))
    assert caught.value.entry == "#2" and "missing 'id'" in caught.value.problem


def test_file_level_problems(tmp_path: Path) -> None:
    path = tmp_path / "services.toml"
    path.write_text(
        'region = "NL"\n[[service]]\n' + "\n".join(f"{k} = {v}" for k, v in GOOD_ENTRY.items()),
        encoding="utf-8",
    )
    with pytest.raises(CrisisConfigError, match="no 112 entry"):
        load_services("NL", path)
    with pytest.raises(CrisisConfigError, match="id used more than once"):
        load_services("NL", write(tmp_path, {**GOOD_ENTRY, "id": '"112"'}))
    with pytest.raises(CrisisConfigError, match="is for region NL, not BE"):
        load_services("BE", write(tmp_path, GOOD_ENTRY))
    with pytest.raises(CrisisConfigError, match="unknown region"):
        load_services("DE")
    path.write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(CrisisConfigError):
        load_services("NL", path)
    with pytest.raises(CrisisConfigError):
        load_services("NL", tmp_path / "missing.toml")
