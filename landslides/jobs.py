"""What every Snakemake job script does first: send its output to the rule's log, turn bad input into one
line naming the file and the problem instead of a traceback, and read ImageNet weights from the workflow's
copy."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable

from landslides.errors import InputError


def run_job(snakemake, main: Callable[[object], None]) -> None:
    """Run `main(snakemake)` with stdout/stderr in the rule's log; exit 1 with one line on InputError."""
    log_path = snakemake.log[0] if snakemake.log else None
    with contextlib.ExitStack() as stack:
        if log_path:
            log = stack.enter_context(open(log_path, "w", buffering=1))
            stack.enter_context(contextlib.redirect_stdout(log))
            stack.enter_context(contextlib.redirect_stderr(log))
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True,
                            stream=sys.stderr)
        try:
            use_workflow_weights(snakemake)
            main(snakemake)
        except InputError as err:
            print(f"error: {err}", file=sys.stderr)
            if log_path:
                print(f"error: {err}", file=sys.__stderr__)
            sys.exit(1)
        except Exception:
            traceback.print_exc()
            raise
    if _is_snakemake_job(snakemake):
        # Every output is written and closed by now (atomic renames). Tearing down torch, pandas and SymPy
        # at interpreter exit takes about 2 s a job and does nothing a result depends on, so skip it.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def announce(message: str) -> None:
    """One line for the job's log and, where the log has taken stderr (a Snakemake job), the terminal too:
    what the person who started the run should see before waiting (a time estimate)."""
    print(message, file=sys.stderr, flush=True)
    if sys.stderr is not sys.__stderr__ and sys.__stderr__ is not None:
        print(message, file=sys.__stderr__, flush=True)


def use_workflow_weights(snakemake) -> None:
    """A job with a `weights` input (workflow_layout.imagenet_weights: resources/weights/<encoder>.imagenet.
    safetensors) looks its ImageNet weights up there (models.resolve_weights reads $LANDSLIDES_WEIGHTS_DIR
    first): the file the workflow copied and checked, not a Hugging Face cache the compute node may lack."""
    weights = getattr(getattr(snakemake, "input", None), "weights", None) or []
    weights = [weights] if isinstance(weights, str) else list(weights)  # a one-file input may come as its path
    if weights:
        os.environ["LANDSLIDES_WEIGHTS_DIR"] = os.path.dirname(os.path.abspath(weights[0]))


def _is_snakemake_job(snakemake) -> bool:
    """True for the object Snakemake hands a `script:` (its own process), false for a test's stand-in."""
    return type(snakemake).__module__.startswith("snakemake")
