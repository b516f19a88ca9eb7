"""The Bot API conformance check, and the facts-only extract it reads."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import ApiFacts, check_call, load_facts
from bot.simulator.conformance import decode_params
from bot.simulator.methods import REGISTRY

FACTS_PATH = Path(__file__).parent / "bot_api_facts.json"
SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api.json"
CHAT = 100001


@pytest.fixture(scope="module")
def facts() -> ApiFacts:
    return load_facts(FACTS_PATH)


def send_message(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "chat_id": CHAT,
        "text": "Doorgestuurd naar Sanne ✓",
        "parse_mode": "HTML",
        "reply_parameters": {"message_id": 7, "allow_sending_without_reply": True},
        "reply_markup": {"inline_keyboard": [[{"text": "Ja", "callback_data": "consent:yes"}]]},
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def test_the_extract_holds_facts_only(facts: ApiFacts) -> None:
    assert facts.version.startswith("Bot API ")
    assert len(facts.methods) > 150
    send = facts.methods["sendMessage"]
    assert send.params["chat_id"].types == ("Integer", "String")
    assert send.params["chat_id"].required
    assert not send.params["parse_mode"].required
    assert send.returns == ("Message",)
    assert "description" not in FACTS_PATH.read_text(encoding="utf-8").split('"methods"')[0]


def test_a_correct_send_message_passes(facts: ApiFacts) -> None:
    assert check_call(facts, "sendMessage", send_message()) == []


def test_a_dropped_required_parameter_fails(facts: ApiFacts) -> None:
    assert check_call(facts, "sendMessage", send_message(text=None)) == [
        "parameter text is required"
    ]
    assert "parameter chat_id is required" in check_call(
        facts, "copyMessage", {"from_chat_id": 1, "message_id": 2}
    )


def test_an_unknown_method_fails_and_names_match_case_insensitively(facts: ApiFacts) -> None:
    assert check_call(facts, "sendMesage", send_message()) == ["unknown method sendMesage"]
    assert check_call(facts, "SENDMESSAGE", send_message()) == []


def test_an_unknown_parameter_fails(facts: ApiFacts) -> None:
    assert check_call(facts, "sendMessage", send_message(reply_to=3)) == [
        "unknown parameter reply_to"
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("chat_id", True),  # bool is not an Integer, even though Python thinks so
        ("chat_id", [CHAT]),
        ("text", 42),
        ("disable_notification", "yes"),
        ("reply_parameters", 7),
        ("entities", {"type": "bold", "offset": 0, "length": 3}),  # not an array
        ("entities", [{"type": "bold"}]),  # a MessageEntity lacks offset and length
        ("reply_markup", {"inline_keyboard": [{"text": "Ja"}]}),  # rows must be lists
        ("reply_markup", {"inline_keyboard": [[{"callback_data": "x"}]]}),  # buttons need text
        ("reply_markup", {"keyboard": [["Ja"]]}),  # reply buttons as dicts with 'text'
    ],
)
def test_a_wrong_type_fails(facts: ApiFacts, name: str, value: object) -> None:
    problems = check_call(facts, "sendMessage", send_message(**{name: value}))
    assert len(problems) == 1
    assert problems[0].startswith(f"parameter {name} must be ")


def test_allowed_shapes_pass(facts: ApiFacts) -> None:
    ok = [
        ("sendMessage", send_message(chat_id="@kanaal")),
        ("sendMessage", send_message(reply_markup={"keyboard": [[{"text": "Ja"}]]})),
        ("sendMessage", send_message(reply_markup={"remove_keyboard": True})),
        ("sendLocation", {"chat_id": CHAT, "latitude": 52, "longitude": 4.89}),
        ("sendDocument", {"chat_id": CHAT, "document": {"uploaded": "x.csv", "size": 3}}),
        ("sendDocument", {"chat_id": CHAT, "document": "document-000001"}),
        (
            "setMyCommands",
            {
                "commands": [{"command": "start", "description": "Begin"}],
                "scope": {"type": "chat", "chat_id": CHAT},
            },
        ),
        ("deleteMessages", {"chat_id": CHAT, "message_ids": [1, 2, 3]}),
        ("getUpdates", {"offset": 3, "timeout": 10, "allowed_updates": ["message"]}),
    ]
    for method, params in ok:
        assert check_call(facts, method, params) == [], method


def test_form_posts_are_strings_and_pass_when_they_fit(facts: ApiFacts) -> None:
    form = {
        "chat_id": "100001",
        "text": "hoi",
        "disable_notification": "true",
        "reply_markup": '{"inline_keyboard": [[{"text": "Ja", "callback_data": "j"}]]}',
    }
    assert check_call(facts, "sendMessage", form, form=True) == []
    assert check_call(facts, "sendMessage", {**form, "chat_id": "Ann"}, form=True) == []
    assert check_call(facts, "getUpdates", {"offset": "abc"}, form=True) != []
    assert check_call(facts, "sendMessage", {**form, "disable_notification": "ja"}, form=True) != []
    # Without the form leniency a string is not a Boolean.
    assert (
        check_call(
            facts, "sendMessage", {"chat_id": CHAT, "text": "x", "disable_notification": "true"}
        )
        != []
    )


def test_decoding_follows_the_declared_types(facts: ApiFacts) -> None:
    spec = facts.method("sendMessage")
    raw = {
        "chat_id": "100001",
        "text": "123",
        "disable_notification": "false",
        "reply_markup": '{"remove_keyboard": true}',
        "entities": "[]",
    }
    decoded = decode_params(spec, raw, form=True)
    assert decoded == {
        "chat_id": 100001,
        "text": "123",
        "disable_notification": False,
        "reply_markup": {"remove_keyboard": True},
        "entities": [],
    }
    # In a JSON body only serialized objects and arrays are decoded.
    assert decode_params(spec, raw, form=False)["chat_id"] == "100001"
    assert check_call(facts, "sendMessage", decoded) == []


def test_the_servers_own_method_table_agrees_with_the_facts(facts: ApiFacts) -> None:
    """Without facts the server decodes and checks with its own table: it must not drift."""
    for entry in REGISTRY.values():
        spec = facts.method(entry.name)
        assert spec is not None and spec.name == entry.name, entry.name
        for param in entry.spec.params.values():
            real = spec.params.get(param.name)
            assert real is not None, f"{entry.name}.{param.name} is not in the Bot API"
            assert real.required == param.required, f"{entry.name}.{param.name}"
            assert set(real.types) == set(param.types), f"{entry.name}.{param.name}"
        for real in spec.params.values():
            if real.required:
                assert real.name in entry.spec.params, f"{entry.name} misses {real.name}"


@pytest.mark.skipif(not SPEC_PATH.exists(), reason="the scraped Bot API is not next to the repo")
def test_the_extract_is_up_to_date(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "extract_api_facts.py"
    loader = importlib.util.spec_from_file_location("extract_api_facts", script)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    out = tmp_path / "facts.json"
    assert module.main(["extract", str(SPEC_PATH), str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(FACTS_PATH.read_text())
    assert out.read_text() == FACTS_PATH.read_text()  # byte-stable: no diff on regeneration
