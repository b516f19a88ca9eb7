"""docs/operations.md tells operators what to alert on: every metric it names exists
(bot/metrics.py), and every metric the bot exposes is named there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"(?<![/\w])gezinslijn_[a-z0-9_]*[a-z0-9]")  # not a database in a URL
# Counters and histograms are exposed with suffixes the doc may use in a query.
SUFFIXES = ("_total", "_sum", "_count", "_bucket")


def _base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_the_operations_guide_names_exactly_the_metrics_there_are() -> None:
    source = (ROOT / "bot" / "metrics.py").read_text()
    guide = (ROOT / "docs" / "operations.md").read_text()
    exposed = {_base(n) for n in NAME.findall(source)}
    named = {_base(n) for n in NAME.findall(guide)}
    assert named, "the guide names no metric"
    assert named <= exposed, f"named in docs/operations.md but not exposed: {named - exposed}"
    assert exposed <= named, f"exposed but not in docs/operations.md: {exposed - named}"
