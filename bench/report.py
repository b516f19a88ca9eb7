"""The tables of bench/README.md's "Latest results", printed from a results file, so that the
README shows what was measured and nothing copied by hand:

    python -m bench.report                      # results/latest.json
    python -m bench.report results/other.json
"""

from __future__ import annotations

import argparse
import json
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


def targets(results: dict[str, Any]) -> list[str]:
    lines = ["| target | database | now | target | |", "|---|---|---|---|---|"]
    for found in results.get("targets", []):
        sign = "≤" if found["better"] == "lower" else "≥"
        lines.append(f"| {found['target']} | {found['database']} | {found['value']}"
                     f"{found['unit']} | {sign} {found['limit']}{found['unit']} | "
                     f"{'met' if found['pass'] else '**not met**'} |")
    return lines


def relay(results: dict[str, Any]) -> list[str]:
    lines = ["| | messages/s | latency p50 | p99 | SQL statements / commits per message "
             "(burst) |", "|---|---|---|---|---|"]
    bare = results.get("framework")
    if bare:
        lines.append(f"| bare python-telegram-bot relay | {bare['burst']['messages_per_s']} | "
                     f"{_ms(bare['latency']['p50_ms'])} | {_ms(bare['latency']['p99_ms'])} | – |")
    for db in DATABASES:
        found = results.get(db, {}).get("relay", {})
        for key, label in (("bot", ""), ("bot_recommended", " + ")):
            run = found.get(key)
            if not run:
                continue
            name = f"Gezinslijn, {db}" + (label + ", ".join(run.get("variants", []))
                                          if label else "")
            database = run["burst"]["database"]
            lines.append(f"| {name} | {run['burst']['messages_per_s']} | "
                         f"{_ms(run['latency']['p50_ms'])} | {_ms(run['latency']['p99_ms'])} | "
                         f"{database['statements_per_message']} / "
                         f"{database['commits_per_message']} |")
    return lines


def reminders(results: dict[str, Any]) -> list[str]:
    lines = ["| | start-up (first, seals the seeded families) | restart | burst sent | rate "
             "(due → last) | steady rate | first send after due | 429s | most in 1 s | "
             "lag p50 / p99 | all agendas |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for db in DATABASES:
        found = results.get(db, {}).get("reminders")
        if not found:
            continue
        burst = found["burst"]
        lines.append(
            f"| {db} | {_s(found['startup']['total_s'])} | {_s(found['restart']['total_s'])} | "
            f"{burst['sent']}/{burst['reminders']} | {burst['send_rate_per_s']}/s | "
            f"{burst['steady_rate_per_s']}/s | {_s(burst['first_send_after_due_s'])} | "
            f"{burst['server_429']} | {burst['max_sends_in_any_1s']} | "
            f"{round(burst['lag']['p50_ms'] / 1000, 1)} s / "
            f"{round(burst['lag']['p99_ms'] / 1000, 1)} s | {_s(found['agenda']['seconds'])} |")
    return lines


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
    lines = ["| database | run | phase | rows of the burst | to the last send | all sends/s | "
             "429s | most in 1 s | lag p50 / p99 / max | family p50 / p99 during (n) | "
             "copy's wait in the outbox p99 | bot CPU | bot peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for db in DATABASES:
        found = results.get(db, {}).get("busiest")
        for two, name, phase in busiest_hour.phases(found) if found else ():
            bots = phase["bots"]
            lines.append(
                f"| {db} | {'two bots' if two else 'one bot'} | {name} | {_rows(phase)} | "
                f"{_s(phase['seconds_to_last_send'])} | {phase['send_rate_per_s']} "
                f"({round(phase['share_of_30'] * 100)}%) | {phase['server_429']} | "
                f"{phase['max_sends_in_any_1s']} | {_lags(phase)} | {_family(phase)} | "
                f"{_s(phase['family']['outbox_wait'].get('p99_s'))} | "
                + " + ".join(f"{bot['cpu_percent']} %" for bot in bots) + " | "
                + " / ".join(f"{bot['rss_peak_mb']} MB" for bot in bots) + " |")
    return lines


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
    lines = ["| database | first start: total (family keys), RSS | restart | quiet relay: "
             "statements / commits per message | quiet latency p50 / p99 | exactly once |",
             "|---|---|---|---|---|---|"]
    for db in DATABASES:
        found = results.get(db, {}).get("busiest")
        if not found:
            continue
        once = _once(found, found["evening"])
        if found.get("two_instances"):
            once += "; two bots: " + _once(found["two_instances"],
                                           found["two_instances"]["evening"])
        start, quiet = found["startup"], found["quiet"]
        lines.append(f"| {db} | {_s(start.get('total_s'))} ({_s(start.get('keep_family_keys_s'))}"
                     f"), {start.get('rss_mb')} MB | {_s(found['restart'].get('total_s'))} | "
                     f"{quiet['statements_per_message']} / {quiet['commits_per_message']} | "
                     f"{_ms(quiet['latency']['p50_ms'])} / {_ms(quiet['latency']['p99_ms'])} | "
                     f"{once} |")
    return lines


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
