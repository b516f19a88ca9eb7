"""Crisis services: the shipped files, their validation, and who answers when."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.delivery.crisis_lines import lines
from bot.domain.crisis import (
    SERVICES_DIR,
    CrisisConfigError,
    CrisisService,
    choose,
    load_services,
    services_open_at,
)
from bot.domain.urgency import Topic
from bot.i18n import FAMILY_LANGUAGES, translator

LL = "luisterlijn"
BE_NIGHT = ["101", "zelfmoordlijn", "tele-onthaal", "prevention-suicide", "tele-accueil",
            "child-focus", "antigifcentrum"]
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
    assert service.source.startswith(("https://", "http://"))
    assert service.checked == date(2026, 11, 30)
    assert service.phone and service.hours.windows


@pytest.mark.parametrize(("region", "service"), SHIPPED, ids=[f"{r}-{s.id}" for r, s in SHIPPED])
def test_every_shipped_service_is_described_in_every_family_language(
    region: str, service: CrisisService
) -> None:
    described = dict(service.descriptions)
    assert [code for code in FAMILY_LANGUAGES if not described.get(code, "").strip()] == []
    english = described["en"].casefold()
    for code in FAMILY_LANGUAGES:
        if code != "en":  # no English left in another language's text
            assert described[code].casefold() != english, (service.id, code)


def test_shipped_numbers_and_hours() -> None:
    nl = {service.id: service for service in load_services("NL")}
    be = {service.id: service for service in load_services("BE")}
    assert {s.dial: s.purpose for s in nl.values()} == {
        "112": "emergency",
        "113": "suicide",  # the free short number since October 2025
        "08002000": "domestic_violence",
        "08000432": "children",
        "0880767000": "listening",
    }
    assert {s.dial: (s.purpose, s.languages) for s in be.values()} == {
        "112": ("emergency", ()),
        "101": ("police", ()),  # police emergencies; 112 is ambulance and fire
        "1813": ("suicide", ("nl",)),
        "106": ("listening", ("nl",)),
        "1712": ("domestic_violence", ("nl",)),
        "102": ("children", ("nl",)),
        "080032123": ("suicide", ("fr",)),
        "107": ("listening", ("fr",)),
        "080030030": ("domestic_violence", ("fr",)),
        "103": ("children", ("fr",)),
        "116000": ("missing_child", ()),
        "070245245": ("poison", ()),
    }
    for always in (nl["112"], nl["113"], nl["veilig-thuis"], nl["luisterlijn"], be["112"],
                   be["101"], be["zelfmoordlijn"], be["tele-onthaal"], be["tele-accueil"],
                   be["prevention-suicide"], be["child-focus"], be["antigifcentrum"]):
        assert always.always_open, always.id
    for limited in (nl["kindertelefoon"], be["1712"], be["awel"], be["ecoute-enfants"],
                    be["violences-conjugales"]):
        assert not limited.always_open, limited.id
    assert nl["kindertelefoon"].hours.open_on_holidays  # every day of the year
    assert not be["1712"].hours.open_on_holidays
    assert not be["violences-conjugales"].hours.open_on_holidays


@pytest.mark.parametrize("path", sorted(SERVICES_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_files_ask_for_reverification(path: Path) -> None:
    assert "Re-verify" in path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------
# Who answers now
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "at", "expected"),
    [
        ("NL", datetime(2026, 11, 25, 3, 0, tzinfo=AMS), ["112", "113", "veilig-thuis", LL]),
        ("NL", datetime(2026, 11, 25, 10, 59, tzinfo=AMS), ["112", "113", "veilig-thuis", LL]),
        (
            "NL",
            datetime(2026, 11, 25, 11, 0, tzinfo=AMS),
            ["112", "113", "veilig-thuis", "kindertelefoon", LL],
        ),
        (
            "NL",
            datetime(2026, 12, 25, 15, 0, tzinfo=AMS),  # Christmas: the Kindertelefoon answers
            ["112", "113", "veilig-thuis", "kindertelefoon", LL],
        ),
        ("NL", datetime(2026, 11, 25, 21, 0, tzinfo=AMS), ["112", "113", "veilig-thuis", LL]),
        ("BE", datetime(2026, 11, 25, 3, 0, tzinfo=BRU), ["112", *BE_NIGHT]),
        (
            "BE",
            datetime(2026, 11, 25, 10, 0, tzinfo=BRU),
            ["112", "101", "zelfmoordlijn", "tele-onthaal", "1712", "prevention-suicide",
             "tele-accueil", "violences-conjugales", "ecoute-enfants", "child-focus",
             "antigifcentrum"],
        ),
        (
            "BE",
            datetime(2026, 11, 25, 15, 0, tzinfo=BRU),  # Wednesday: Awel from 14:00
            ["112", "101", "zelfmoordlijn", "tele-onthaal", "1712", "awel",
             "prevention-suicide", "tele-accueil", "violences-conjugales", "ecoute-enfants",
             "child-focus", "antigifcentrum"],
        ),
        (
            "BE",
            datetime(2026, 11, 29, 9, 0, tzinfo=BRU),  # Sunday morning
            ["112", *BE_NIGHT],
        ),
        (
            "BE",
            datetime(2026, 7, 21, 10, 30, tzinfo=BRU),  # 21 juli: 1712 and 0800 30 030 closed
            ["112", *BE_NIGHT[:5], "ecoute-enfants", *BE_NIGHT[5:]],
        ),
    ],
)
def test_services_open_at(region: str, at: datetime, expected: list[str]) -> None:
    assert ids(services_open_at(load_services(region), at)) == expected


HUISARTSENPOST = CrisisService.create(
    id="hap-utrecht",
    name="Huisartsenpost Utrecht",
    descriptions={"nl": "dokter buiten kantoortijd", "en": "out-of-hours doctor"},
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
    assert ids(found) == ["112", "hap-utrecht", "luisterlijn", "veilig-thuis", "113"]
    noon = datetime(2026, 11, 25, 12, 0, tzinfo=AMS)
    assert "hap-utrecht" not in ids(services_open_at(services, noon, extra=(HUISARTSENPOST,)))


def test_service_labels_descriptions_and_dial() -> None:
    kindertelefoon = {s.id: s for s in load_services("NL")}["kindertelefoon"]
    assert kindertelefoon.label == "De Kindertelefoon 0800-0432"
    assert kindertelefoon.description("nl") == "voor kinderen en jongeren, over alles"
    assert kindertelefoon.description("xx") == kindertelefoon.description("en")  # fallback
    assert kindertelefoon.dial == "08000432"
    be = {s.id: s for s in load_services("BE")}
    assert be["1712"].label == "1712"  # the number once, not "1712 (…): 1712"
    assert be["zelfmoordlijn"].label == "Zelfmoordlijn 1813"
    assert {s.id: s for s in load_services("NL")}["113"].label == "113 Zelfmoordpreventie"
    assert HUISARTSENPOST.is_open(datetime(2026, 11, 28, 12, 0, tzinfo=AMS))


# ------------------------------------------------------------------------------------------
# Validation: a bad entry is refused and named
# ------------------------------------------------------------------------------------------

GOOD_112 = """
[[service]]
id = "112"
for = "emergency"
name = "112"
description.nl = "alarmnummer"
description.en = "emergency number"
phone = "112"
hours = "24/7"
source = "https://www.112.nl"
checked = 2026-11-25
"""

GOOD_ENTRY = {
    "id": '"lijn"',
    "for": '"listening"',
    "name": '"Lijn"',
    "description.nl": '"een luisterend oor"',
    "description.en": '"someone to listen"',
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
        ({"name": None}, "missing 'name'"),
        ({"description.nl": None, "description.en": None}, "missing 'description'"),
        ({"description.en": None}, "lacks language(s) en"),
        ({"languages": '"fr"'}, "'languages' must be a list"),
        ({"core": '"ja"'}, "must be true or false"),
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



# ------------------------------------------------------------------------------------------
# Who is shown which lines: the reader's language, and what an urgent message was about
# ------------------------------------------------------------------------------------------

SATURDAY_NIGHT = datetime(2026, 11, 28, 22, 30, tzinfo=BRU)
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=BRU)


@pytest.mark.parametrize(
    ("language", "at", "topics", "expected"),
    [
        # A Belgian family reading French: 112, 101 and the French-speaking lines.
        ("fr", SATURDAY_NIGHT, (), ["112", "101", "prevention-suicide", "tele-accueil",
                                    "ecoute-enfants", "child-focus", "antigifcentrum"]),
        ("fr", TUESDAY_MORNING, (Topic.VIOLENCE,),
         ["112", "101", "violences-conjugales", "prevention-suicide", "tele-accueil"]),
        ("fr", TUESDAY_MORNING, (Topic.CHILD,),
         ["112", "101", "violences-conjugales", "ecoute-enfants", "child-focus",
          "prevention-suicide", "tele-accueil"]),
        # Reading Dutch: the Flemish lines, 101, 1813 and 106.
        ("nl", SATURDAY_NIGHT, (), ["112", "101", "zelfmoordlijn", "tele-onthaal",
                                    "child-focus", "antigifcentrum"]),
        ("nl", TUESDAY_MORNING, (Topic.VIOLENCE, Topic.GENERAL),
         ["112", "101", "1712", "zelfmoordlijn", "tele-onthaal"]),
        ("nl", SATURDAY_NIGHT, (Topic.SUICIDE,), ["112", "101", "zelfmoordlijn", "tele-onthaal"]),
        ("nl", SATURDAY_NIGHT, (Topic.MEDICAL,),
         ["112", "101", "antigifcentrum", "zelfmoordlijn", "tele-onthaal"]),
        # Another language: the main (Flemish) lines.
        ("ar", SATURDAY_NIGHT, (), ["112", "101", "zelfmoordlijn", "tele-onthaal",
                                    "child-focus", "antigifcentrum"]),
        ("tr", SATURDAY_NIGHT, (Topic.GENERAL,),
         ["112", "101", "zelfmoordlijn", "tele-onthaal", "child-focus", "antigifcentrum"]),
    ],
)
def test_belgium_chooses_by_language_and_topic(
    language: str, at: datetime, topics: tuple[Topic, ...], expected: list[str]
) -> None:
    assert ids(choose(load_services("BE"), at, language=language, topics=topics)) == expected


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        ((), ["112", "113", "veilig-thuis", "luisterlijn"]),
        ((Topic.VIOLENCE,), ["112", "veilig-thuis", "113", "luisterlijn"]),
        ((Topic.SUICIDE,), ["112", "113", "luisterlijn"]),
        ((Topic.CHILD,), ["112", "veilig-thuis", "113", "luisterlijn"]),
    ],
)
def test_netherlands_at_night_by_topic(topics: tuple[Topic, ...], expected: list[str]) -> None:
    night = datetime(2026, 11, 28, 22, 30, tzinfo=AMS)
    for language in FAMILY_LANGUAGES:  # one list for every reader in the Netherlands
        assert ids(choose(load_services("NL"), night, language=language, topics=topics)) == \
            expected


@pytest.mark.parametrize("language", FAMILY_LANGUAGES)
@pytest.mark.parametrize("region", ["NL", "BE"])
@pytest.mark.parametrize("hour", [3, 10, 15, 22])
def test_rendered_lines_name_each_number_once_in_the_readers_language(
    language: str, region: str, hour: int
) -> None:
    zone = "Europe/Amsterdam" if region == "NL" else "Europe/Brussels"
    tr = translator(language, region, zone)
    at = datetime(2026, 12, 1, hour, 0, tzinfo=ZoneInfo(zone))
    text = lines(tr, region, at)
    shown = choose(load_services(region), at, language=language)
    for service in shown:
        if not service.is_emergency:
            assert text.count(service.phone) == 1, (service.id, text)
            assert service.description(language) in text
    english = {d for s in load_services(region) for code, d in s.descriptions if code == "en"}
    if language != "en":
        assert not [d for d in english if d in text]
        assert "open until" not in text and "day and night" not in text
