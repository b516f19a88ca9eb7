"""The tables of bench/README.md's "Latest results", printed from a results file, so that the
README shows what was measured and nothing copied by hand:

    python -m bench.report                      # results/latest.json
    python -m bench.report results/other.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import busiest_hour, cost_curve

RESULTS = Path(__file__).parent / "results"
DATABASES = ("sqlite", "postgresql")


def _ms(value: Any) -> str:
    return "–" if value is None else f"{value} ms"


def _s(value: Any) -> str:
    return "–" if value is None else f"{value} s"


def header(results: dict[str, Any]) -> list[str]:
    machine, source = results["machine"], results.get("source", {})
    versions = ", ".join(f"{name} {version}" for name, version in results["versions"].items())
    changed = source.get("changed_files")
    changes = f" (with changes to {', '.join(changed)})" if changed else ""
    return [f"Run {results['date']}, `{results['mode']}` mode, commit `{source.get('commit')}`"
            f"{changes}, {results['seconds']} s in all.",
            f"Machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gb']} GB, "
            f"{machine['platform']}; load average at start {machine['load_average_at_start']}, "
            f"at end {machine.get('load_average_at_end')}.",
            f"Versions: {versions}."]


def _table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table: its header, the line under it, one line per row."""
    def line(cells: Sequence[Any]) -> str:
        return "|" + "|".join(f" {cell} " if cell != "" else " " for cell in cells) + "|"
    return [line(columns), "|" + "---|" * len(columns), *(line(row) for row in rows)]


def _parts(results: dict[str, Any], name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(database, its figures for part `name`) for each database that ran it."""
    for db in DATABASES:
        found = results.get(db, {}).get(name)
        if found:
            yield db, found


def targets(results: dict[str, Any]) -> list[str]:
    return _table(["target", "database", "now", "target", ""], (
        [found["target"], found["database"], f"{found['value']}{found['unit']}",
         f"{'≤' if found['better'] == 'lower' else '≥'} {found['limit']}{found['unit']}",
         "met" if found["pass"] else "**not met**"]
        for found in results.get("targets", [])))


def relay(results: dict[str, Any]) -> list[str]:
    rows: list[list[Any]] = []
    bare = results.get("framework")  # runs before 2026-12-02: once, for both databases
    if bare:
        rows.append(["bare python-telegram-bot relay", bare["burst"]["messages_per_s"],
                     _cpu(bare["burst"]), _ms(bare["latency"]["p50_ms"]),
                     _ms(bare["latency"]["p99_ms"]), "–"])
    for db, found in _parts(results, "relay"):
        beside = found.get("framework")
        if beside:
            rows.append([f"bare python-telegram-bot relay, right before {db}'s",
                         beside["burst"]["messages_per_s"], _cpu(beside["burst"]),
                         _ms(beside["latency"]["p50_ms"]), _ms(beside["latency"]["p99_ms"]),
                         "–"])
        for key, label in (("bot", ""), ("bot_recommended", " + ")):
            run = found.get(key)
            if not run:
                continue
            name = f"Gezinslijn, {db}" + (label + ", ".join(run.get("variants", []))
                                          if label else "")
            database = run["burst"]["database"]
            rows.append([name, run["burst"]["messages_per_s"], _cpu(run["burst"]),
                         _ms(run["latency"]["p50_ms"]), _ms(run["latency"]["p99_ms"]),
                         f"{database['statements_per_message']} / "
                         f"{database['commits_per_message']}"])
    lines = _table(["", "messages/s", "CPU a message (burst)", "latency p50", "p99",
                    "SQL statements / commits per message (burst)"], rows)
    for db, found in _parts(results, "relay"):
        pairs = found.get("pairs", [])
        if len(pairs) > 1:
            lines += ["", f"{db}: {len(pairs)} pairs of bare relay and bot, framework ÷ bot "
                      + ", ".join(f"{p['ratio']}× ({p['framework_messages_per_s']} / "
                                  f"{p['bot_messages_per_s']} a second)"
                                  + (", the median: the rows above" if p["median"] else "")
                                  for p in pairs)]
    return lines


def _cpu(burst: dict[str, Any]) -> str:
    """The process's CPU a message in the burst (runs before it was measured: –)."""
    found = burst.get("cpu_ms_per_message")
    return "–" if found is None else f"{found} ms"


def reminders(results: dict[str, Any]) -> list[str]:
    rows = []
    for db, found in _parts(results, "reminders"):
        burst = found["burst"]
        rows.append([db, _s(found["startup"]["total_s"]), _s(found["restart"]["total_s"]),
                     f"{burst['sent']}/{burst['reminders']}", f"{burst['send_rate_per_s']}/s",
                     f"{burst['steady_rate_per_s']}/s", _s(burst["first_send_after_due_s"]),
                     burst["server_429"], burst["max_sends_in_any_1s"],
                     f"{round(burst['lag']['p50_ms'] / 1000, 1)} s / "
                     f"{round(burst['lag']['p99_ms'] / 1000, 1)} s",
                     _s(found["agenda"]["seconds"])])
    return _table(["", "start-up (first, seals the seeded families)", "restart", "burst sent",
                   "rate (due → last)", "steady rate", "first send after due", "429s",
                   "most in 1 s", "lag p50 / p99", "all agendas"], rows)


def _lags(phase: dict[str, Any]) -> str:
    return "; ".join(f"{purpose}: {lag['p50_s']} / {lag['p99_s']} / {lag['max_s']} s"
                     for purpose, lag in phase["lag"].items())


def _family(phase: dict[str, Any]) -> str:
    family = phase["family"]
    during = family["during"]
    text = (f"{round(during['p50_ms'] / 1000, 2)} s / {round(during['p99_ms'] / 1000, 2)} s "
            f"({during['n']})" if during.get("n") else "–")
    apart = family.get("during_nothing_held")
    behind = family.get("during_behind_own_digest")
    if apart and apart.get("n") and behind and behind.get("n"):
        text += (f"; nothing held {round(apart['p99_ms'] / 1000, 2)} s ({apart['n']}), "
                 f"behind their own digest {round(behind['p99_ms'] / 1000, 2)} s "
                 f"({behind['n']})")
    return text


def _rows(phase: dict[str, Any]) -> str:
    return ", ".join(f"{count['sent']} {purpose}s" for purpose, count in phase["outbox"].items()
                     if purpose in phase["lag"])


def busiest(results: dict[str, Any]) -> list[str]:
    rows = []
    for db, found in _parts(results, "busiest"):
        for two, name, phase in busiest_hour.phases(found):
            bots = phase["bots"]
            rows.append([
                db, "two bots" if two else "one bot", name, _rows(phase),
                _s(phase["seconds_to_last_send"]),
                f"{phase['send_rate_per_s']} ({round(phase['share_of_30'] * 100)}%)",
                phase["server_429"], phase["max_sends_in_any_1s"], _lags(phase),
                _family(phase), _s(phase["family"]["outbox_wait"].get("p99_s")),
                " + ".join(f"{bot['cpu_percent']} %" for bot in bots),
                " / ".join(f"{bot['rss_peak_mb']} MB" for bot in bots)])
    return _table(["database", "run", "phase", "rows of the burst", "to the last send",
                   "all sends/s", "429s", "most in 1 s", "lag p50 / p99 / max",
                   "family p50 / p99 during (n)", "copy's wait in the outbox p99", "bot CPU",
                   "bot peak RSS"], rows)


def _once(run: dict[str, Any], reminders_of: dict[str, Any]) -> str:
    once = run["exactly_once"]
    sent = sum(once["server_calls_by_method"].values())
    rows = sum(once["outbox_rows_sent_by_method"].values())
    due = reminders_of.get("reminders", {})
    return (f"{sent} sends = {rows} rows sent; {due.get('sent_once')}/{due.get('due')} "
            f"reminders once, {due.get('sent_after_appointment_start')} late, "
            f"{due.get('sent_twice_or_more')} twice; {once['family_copies']} copies "
            f"({once['family_copies_twice']} twice), {once['agendas']} agendas "
            f"({once['coaches_with_two_agendas']} twice), {once['digests']} digests "
            f"({once['digests_twice']} twice)")


def busiest_start(results: dict[str, Any]) -> list[str]:
    rows = []
    for db, found in _parts(results, "busiest"):
        once = _once(found, found["evening"])
        if found.get("two_instances"):
            once += "; two bots: " + _once(found["two_instances"],
                                           found["two_instances"]["evening"])
        start, quiet = found["startup"], found["quiet"]
        rows.append([db, f"{_s(start.get('total_s'))} ({_s(start.get('keep_family_keys_s'))}), "
                         f"{start.get('rss_mb')} MB", _s(found["restart"].get("total_s")),
                     f"{quiet['statements_per_message']} / {quiet['commits_per_message']}",
                     f"{_ms(quiet['latency']['p50_ms'])} / {_ms(quiet['latency']['p99_ms'])}",
                     once])
    return _table(["database", "first start: total (family keys), RSS", "restart",
                   "quiet relay: statements / commits per message",
                   "quiet latency p50 / p99", "exactly once"], rows)


def report(results: dict[str, Any]) -> str:
    sections = [header(results), ["### Where each target stands", "", *targets(results)],
                ["### Relay", "", *relay(results)],
                ["### Reminders and agendas", "", *reminders(results)],
                ["### A region's busiest hours", "", *busiest(results), "",
                 *busiest_start(results)],
                ["### How cost grows", "", *cost_curve.table(results)]]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("results", nargs="?", default=str(RESULTS / "latest.json"))
    args = parser.parse_args()
    print(report(json.loads(Path(args.results).read_text())), end="")


if __name__ == "__main__":
    main()
