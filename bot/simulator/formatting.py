"""The text a person sees once Telegram has parsed a message's formatting (parse_mode).

Telegram refuses text it cannot parse ("can't parse entities"): an unescaped `<` in HTML, a `.`
or `-` left unescaped in MarkdownV2, an entity that is never closed. These mistakes show up only
with real names and real messages, so the local server refuses them the same way, following
the rules in the Bot API's "Formatting options" (and tdlib's parser where those are silent).
"""

from __future__ import annotations

import re

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*)?)\s*/?>")
_HTML_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d+)|#[xX]([0-9a-fA-F]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


class EntityParseError(ValueError):
    """Telegram's 400 "Bad Request: can't parse entities: …"."""


class UnsupportedParseMode(ValueError):
    """Telegram's 400 "Bad Request: unsupported parse_mode"."""


def plain_text(text: str, parse_mode: str | None) -> str:
    if not parse_mode:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return _html(text)
    if mode == "markdownv2":
        return _markdown_v2(text)
    if mode == "markdown":
        return _markdown(text)
    raise UnsupportedParseMode(parse_mode)


def _offset(text: str, index: int) -> int:
    """Telegram reports positions as UTF-8 byte offsets."""
    return len(text[:index].encode("utf-8"))


# HTML --------------------------------------------------------------------------------------------


def _html(text: str) -> str:
    out: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            entity = _HTML_ENTITY.match(text, i)
            if entity is None:  # a lone "&" is kept as it is
                out.append(char)
                i += 1
                continue
            named, decimal, hexadecimal = entity.groups()
            out.append(
                _NAMED[named]
                if named
                else chr(int(decimal or hexadecimal, 16 if hexadecimal else 10))
            )
            i = entity.end()
            continue
        if char != "<":
            out.append(char)
            i += 1
            continue
        tag = _HTML_TAG.match(text, i)
        if tag is None:
            attempt = re.match(r"</?([^\s<>/]*)", text[i:])
            label = attempt.group(1) if attempt else ""
            raise EntityParseError(
                f'Unsupported start tag "{label}" at byte offset {_offset(text, i)}'
            )
        closing, name, attributes = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        if closing:
            if not open_tags:
                raise EntityParseError(f"Unexpected end tag at byte offset {_offset(text, i)}")
            expected = open_tags.pop()
            if name != expected:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_offset(text, i)}, expected "
                    f'"</{expected}>", found "</{name}>"'
                )
        else:
            if name not in HTML_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}'
                )
            if name == "span" and "tg-spoiler" not in attributes:
                raise EntityParseError('Tag "span" must have class "tg-spoiler"')
            open_tags.append(name)
        i = tag.end()
    if open_tags:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


# MarkdownV2 --------------------------------------------------------------------------------------

_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
    "![": "CustomEmoji",
}


def _reserved(text: str, index: int) -> EntityParseError:
    return EntityParseError(
        f"Character '{text[index]}' is reserved and must be escaped with the preceding '\\'"
    )


def _scan_until(text: str, start: int, end_mark: str, escapable: str) -> tuple[str, int] | None:
    """Text up to the next unescaped `end_mark` (escapes inside: `escapable` and backslash)."""
    out: list[str] = []
    i = start
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        if text.startswith(end_mark, i):
            return "".join(out), i + len(end_mark)
        if text[i] in escapable:
            return None
        out.append(text[i])
        i += 1
    return None


def _markdown_v2(text: str) -> str:
    out: list[str] = []
    stack: list[tuple[str, int]] = []  # open entity markers and where they started
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        if char not in MARKDOWN_V2_RESERVED:
            out.append(char)
            i += 1
            continue
        top = stack[-1][0] if stack else None
        if top is not None and _ends(top, text, i):
            stack.pop()
            i += len(top) if top in ("__", "||") else 1
            if top in ("[", "![") and text.startswith("(", i):
                found = _scan_until(text, i + 1, ")", "")
                if found is None:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_offset(text, i)}"
                    )
                i = found[1]
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            found = _scan_until(text, i + len(fence), fence, "")
            if found is None:
                kind = "Pre" if fence == "```" else "Code"
                raise EntityParseError(
                    f"Can't find end of {kind} entity at byte offset {_offset(text, i)}"
                )
            body, i = found
            if fence == "```" and "\n" in body:  # the first line may name the language
                first, rest = body.split("\n", 1)
                body = rest if first and " " not in first.strip() else body
            out.append(body)
            continue
        at_line_start = i == 0 or text[i - 1] == "\n"
        if at_line_start and (char == ">" or text.startswith("**>", i)):
            i += 1 if char == ">" else 3  # a block quotation: the marker is not text
            continue
        if text.startswith("||", i) and text[i + 2 : i + 3] in ("", "\n"):
            i += 2  # the mark that makes a block quotation expandable
            continue
        marker = _marker(text, i)
        if marker is None:
            raise _reserved(text, i)
        stack.append((marker, i))
        i += len(marker)
    if stack:
        marker, start = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_ENTITY_NAMES[marker]} entity at byte offset "
            f"{_offset(text, start)}"
        )
    return "".join(out)


def _ends(top: str, text: str, i: int) -> bool:
    """Does the character at `i` close the innermost open entity (tdlib's rule)?"""
    if top == "_":
        return text[i] == "_" and not text.startswith("__", i)
    if top in ("[", "!["):
        return text[i] == "]"
    return text.startswith(top, i)


def _marker(text: str, i: int) -> str | None:
    """The formatting marker starting at `i`, or None for a reserved character used as text."""
    for marker in ("__", "||", "!["):
        if text.startswith(marker, i):
            return marker
    return text[i] if text[i] in "*_~[" else None


# Markdown (legacy) -------------------------------------------------------------------------------


def _markdown(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            i += 1
            continue
        problem = EntityParseError(
            f"Can't find end of the entity starting at byte offset {_offset(text, i)}"
        )
        if char == "[":
            close = text.find("]", i + 1)
            if close < 0:
                raise problem
            out.append(text[i + 1 : close])
            i = close + 1
            if text.startswith("(", i):
                end = text.find(")", i)
                if end < 0:
                    raise problem
                i = end + 1
            continue
        fence = "```" if text.startswith("```", i) else char
        close = text.find(fence, i + len(fence))
        if close < 0:
            raise problem
        out.append(text[i + len(fence) : close])
        i = close + len(fence)
    return "".join(out)
