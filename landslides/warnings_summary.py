"""The warnings a run's jobs wrote to their logs, gathered for the terminal at the end of the run.

A job's output goes to its log file (`landslides.jobs.run_job`), so a warning such as "scene has no CRS"
or "timesteps are not in time order" would otherwise reach only someone who opens that file. The
Snakefile's onsuccess/onerror handlers print this summary: every WARNING line (the logging format
`<date> <time> WARNING <message>` that run_job sets up) in a log written since the run started, with the
log that holds it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# run_job's logging format: "%(asctime)s %(levelname)s %(message)s", asctime as "2026-12-07 13:44:44,123".
WARNING_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} WARNING (?P<message>.*)$")
SHOWN = 50  # lines printed at most; the rest are counted, and are in their logs


def run_warnings(log_dir: str | Path, since: float) -> list[tuple[Path, str]]:
    """(log file, message) of every WARNING line in the files under `log_dir` modified at or after
    `since` (seconds since the epoch), in file order; a message repeated in one log is listed once."""
    log_dir = Path(log_dir)
    if not log_dir.is_dir():
        return []
    found = []
    for path in sorted(p for p in log_dir.rglob("*.log") if p.is_file()):
        if path.stat().st_mtime < since:
            continue  # written by an earlier run: its jobs did not run this time
        seen = set()
        for line in path.read_text(errors="replace").splitlines():
            match = WARNING_LINE.match(line)
            if match and match["message"] not in seen:
                seen.add(match["message"])
                found.append((path, match["message"]))
    return found


def format_summary(warnings: list[tuple[Path, str]], relative_to: Path | None = None) -> str:
    """The summary printed at the end of a run ('' when there is nothing to say): each message once, with
    the first log that holds it and how many others do (every job of a grid may read the same scene)."""
    logs: dict[str, list[Path]] = {}
    for path, message in warnings:
        logs.setdefault(message, []).append(path)
    if not logs:
        return ""
    lines = [f"{len(logs)} warning(s) from this run's jobs (log: message):"]
    for message, paths in list(logs.items())[:SHOWN]:
        others = f" (and {len(paths) - 1} other log(s))" if len(paths) > 1 else ""
        lines.append(f"  {_shown_path(paths[0], relative_to)}{others}: {message}")
    if len(logs) > SHOWN:
        lines.append(f"  ... and {len(logs) - SHOWN} more in the logs")
    return "\n".join(lines)


def print_summary(log_dir: str | Path, since: float, stream=None) -> None:
    """Print the summary of the warnings logged under `log_dir` since `since` (to stderr, where Snakemake
    prints its own messages), nothing when there are none."""
    text = format_summary(run_warnings(log_dir, since), Path.cwd())
    if text:
        print(text, file=stream or sys.stderr, flush=True)


def _shown_path(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return str(path)
