"""One process per run folder: a lock file holding the training process's id.

Snakemake never starts the same job twice at once, but a job can outlive the snakemake that started it
(snakemake killed by SIGKILL, an OOM kill or a closed terminal): when the user runs the same command again,
the new job would write the same files at the same time as the orphan. So a job takes `run.lock` in its
run folder before it trains:

- no lock, or a lock whose process is gone (stale): the lock is taken (a stale one with a log line);
- the holder still runs and a snakemake process is among its ancestors: another workflow is training
  this run, and the job stops with one line naming the holder;
- the holder still runs but no snakemake is among its ancestors (an orphan): it is stopped (SIGTERM, then
  SIGKILL after a grace period), and the new job resumes from the orphan's last checkpoint, which on the
  CPU gives the same result as an uninterrupted run.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import time
from pathlib import Path

from landslides.errors import InputError

log = logging.getLogger(__name__)

LOCK_NAME = "run.lock"
ORPHAN_GRACE_SECONDS = 30


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def is_snakemake(pid: int) -> bool:
    """Whether `pid` runs snakemake itself (`snakemake ...`, `python .../snakemake ...`, `python -m
    snakemake ...`), not a job script that merely lives under .snakemake/."""
    argv = _argv(pid)
    names = [Path(arg).name for arg in argv[:3]]
    if names and names[0].startswith("snakemake"):
        return True
    return len(names) > 1 and names[0].startswith("python") and (
        names[1].startswith("snakemake") or names[1:3] == ["-m", "snakemake"])


def under_snakemake(pid: int) -> bool:
    """Whether a snakemake process is among the ancestors of `pid` (Linux /proc; True where unknown, so
    that nothing is ever stopped on a system this cannot inspect)."""
    if not Path("/proc").is_dir():
        return True
    seen = set()
    current = _parent(pid)
    while current and current > 1 and current not in seen:
        seen.add(current)
        if is_snakemake(current):
            return True
        current = _parent(current)
    return False


def _stop(pid: int, lock: Path) -> None:
    log.warning("%s: the run is held by process %d, left behind by a snakemake that is gone; stopping it and "
                "resuming from its last checkpoint", lock, pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.1)


def acquire(folder: Path) -> Path:
    """Take the run folder's lock for this process (module docstring); returns the lock's path."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = _holder(lock)
            if holder is None and _age(lock) < 2.0:  # just created by a process about to write its id
                time.sleep(0.2)
                continue
            if holder is None or holder == os.getpid() or not alive(holder):
                if holder not in (None, os.getpid()):
                    log.warning("%s: stale lock of process %d (no longer running) cleared", lock, holder)
                lock.unlink(missing_ok=True)
                continue
            if under_snakemake(holder):
                raise InputError(f"{lock}: process {holder} of another running workflow is training this run; "
                                 "wait for it or stop it") from None
            _stop(holder, lock)
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        # A job that fails (an InputError's exit 1, a traceback) gives its lock back on the way out, so the
        # run folder is left as it was found; only a killed process leaves one, which the next job clears.
        atexit.register(release, lock)
        return lock


def release(lock: Path) -> None:
    if _holder(lock) == os.getpid():
        lock.unlink(missing_ok=True)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")


def _holder(lock: Path) -> int | None:
    try:
        return int(lock.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # vanished, or half-written by a process killed at that moment: stale


def clear_stale_workflow_locks(workdir: Path) -> list[Path]:
    """Remove Snakemake's directory locks when no snakemake process but this one works in `workdir`.

    A snakemake killed by SIGKILL (an OOM kill, a closed terminal) leaves .snakemake/locks behind, and the
    same command then fails with a LockException until --unlock. Linux only (/proc); elsewhere nothing is
    removed. Returns the removed lock files.
    """
    locks = sorted((workdir / ".snakemake" / "locks").glob("*.lock"))
    if not locks or not Path("/proc").is_dir():
        return []
    me = {os.getpid()}
    parent = _parent(os.getpid())
    while parent and parent > 1:  # a wrapper (e.g. the snakemake launcher) counts as this run
        me.add(parent)
        parent = _parent(parent)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in me or not is_snakemake(int(entry.name)):
            continue
        try:
            if Path(os.readlink(entry / "cwd")).resolve() == workdir.resolve():
                return []  # another snakemake works here: its locks are real
        except OSError:
            continue
    for lock in locks:
        lock.unlink(missing_ok=True)
    return locks
