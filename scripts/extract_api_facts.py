"""Write the facts-only extract of the Bot API that the project's tests check calls against.

    python scripts/extract_api_facts.py /path/to/api.json tests/bot_api_facts.json

The input is the scraped Bot API (PaulSonOfLars/telegram-bot-api-spec format). The output keeps
only facts — names, types, required flags, return types, the version — and no description text,
so it stays small, diffable and free to commit. Regenerate it when the Bot API version moves.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _fields(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        entry["name"]: {"required": bool(entry.get("required")), "types": list(entry["types"])}
        for entry in entries
    }


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    methods = {
        name: {"params": _fields(method.get("fields", [])), "returns": list(method["returns"])}
        for name, method in spec["methods"].items()
    }
    types: dict[str, Any] = {}
    for name, type_ in spec["types"].items():
        facts: dict[str, Any] = {"fields": _fields(type_.get("fields", []))}
        # Abstract types (BotCommandScope, InputMedia, …) list the concrete shapes they accept.
        for key in ("subtypes", "subtype_of"):
            if type_.get(key):
                facts[key] = sorted(type_[key])
        types[name] = facts
    return {
        "version": spec["version"],
        "release_date": spec.get("release_date", ""),
        "source": "core.telegram.org/bots/api via PaulSonOfLars/telegram-bot-api-spec",
        "methods": methods,
        "types": types,
    }


def render(facts: dict[str, Any]) -> str:
    """Sorted JSON, one line per parameter or field: compact, and a change is a one-line diff."""
    lines = ["{"]
    scalars = [key for key in sorted(facts) if key not in ("methods", "types")]
    for key in scalars:
        lines.append(f"  {json.dumps(key)}: {json.dumps(facts[key], ensure_ascii=False)},")
    for section, members_key in (("methods", "params"), ("types", "fields")):
        lines.append(f"  {json.dumps(section)}: {{")
        entries = sorted(facts[section].items())
        for index, (name, entry) in enumerate(entries):
            lines.append(f"    {json.dumps(name)}: {{")
            members = sorted(entry[members_key].items())
            others = [k for k in sorted(entry) if k != members_key]
            if members:
                lines.append(f"      {json.dumps(members_key)}: {{")
                for m_index, (member, value) in enumerate(members):
                    comma = "," if m_index < len(members) - 1 else ""
                    body = json.dumps(value, sort_keys=True)
                    lines.append(f"        {json.dumps(member)}: {body}{comma}")
                lines.append("      }" + ("," if others else ""))
            else:
                lines.append(f"      {json.dumps(members_key)}: {{}}" + ("," if others else ""))
            for o_index, other in enumerate(others):
                comma = "," if o_index < len(others) - 1 else ""
                lines.append(f"      {json.dumps(other)}: {json.dumps(entry[other])}{comma}")
            lines.append("    }" + ("," if index < len(entries) - 1 else ""))
        lines.append("  }" + ("," if section == "methods" else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    text = render(extract(spec))
    json.loads(text)  # the hand-made layout must still be valid JSON
    Path(argv[2]).write_text(text, encoding="utf-8")
    facts = json.loads(text)
    print(
        f"{facts['version']}: {len(facts['methods'])} methods, {len(facts['types'])} types "
        f"-> {argv[2]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
