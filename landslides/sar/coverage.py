"""Whether a cube's backscatter is there where the chips read it: inside the extraction mask, at the
acquisitions averaged before and after the event.

The check is on the values, not on the store's files. Under the zarr specification an absent chunk file
holds the fill value (NaN for backscatter), and zarr leaves out chunks holding only that by default, so a
lost chunk file and a chunk that was never written read the same. What tells damage from valid data is
what the pipeline must have: an acquisition with no backscatter at all inside the mask cannot be averaged
(refused), and pixels that lack backscatter at one of the acquisitions the chips use but have it at
another are left out of the chips (a warning, naming the variable and the dates).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import xarray as xr

from landslides.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Group:
    """The acquisitions of one variable that the chips use, each date with its side of the event."""

    var: str
    dates: list[str]
    when: list[str]  # 'before' or 'after', per date


def lazy_counts(log_backscatter: list[xr.DataArray], inside: xr.DataArray) -> dict[str, xr.DataArray]:
    """Per acquisition of one variable (the arrays averaged into its channels, e.g. before and after),
    lazily: pixels inside the mask with backscatter ('seen') and without it where another of the
    acquisitions has it ('gaps'). Built from the very arrays the channel means are, so one dask.compute
    reads and takes the log of each chunk once for both. `inside`: the cube's own (lazy) mask, chunked as
    the backscatter is."""
    mask = inside
    has = [np.isfinite(logs) for logs in log_backscatter]  # log(0) = -inf, log(<0) = NaN: no backscatter
    anywhere = has[0].any("timestep")
    for more in has[1:]:
        anywhere = anywhere | more.any("timestep")
    seen = [(h & mask).sum(("y", "x")) for h in has]
    gaps = [(~h & anywhere & mask).sum(("y", "x")) for h in has]
    return {"seen": xr.concat(seen, "timestep"), "gaps": xr.concat(gaps, "timestep")}


def check(where: str, groups: list[Group], counts: list[dict[str, np.ndarray]], inside: int) -> None:
    """Refuse acquisitions with no backscatter inside the mask; warn about pixels missing at some.

    `counts` are the computed `lazy_counts` of each group, `inside` the number of pixels in the mask;
    messages start with `where` (the chip store and the cube).
    """
    empty = [f"{g.var!r} at {_dates(g, np.asarray(c['seen']) == 0)}"
             for g, c in zip(groups, counts, strict=True) if (np.asarray(c["seen"]) == 0).any()]
    if empty:
        raise InputError(f"{where}: no backscatter inside the extraction mask (every pixel NaN "
                         f"or <= 0) in {'; '.join(empty)}; the chips average these acquisitions (a chunk "
                         "file missing from the store reads as NaN: check that the store is complete)")
    for g, c in zip(groups, counts, strict=True):
        gaps = np.asarray(c["gaps"])
        if gaps.any():
            log.warning("%s: %r has no backscatter at %s in up to %d of the %d pixels inside the extraction "
                        "mask where another acquisition the chips use has it; the chips leave those pixels out",
                        where, g.var, _dates(g, gaps > 0), gaps.max(), inside)


def _dates(group: Group, chosen: np.ndarray) -> str:
    """'20180913, 20180919 (after the event)': the chosen dates, grouped by side of the event."""
    parts = []
    for side in ("before", "after"):
        days = [d for d, w, c in zip(group.dates, group.when, chosen, strict=True) if c and w == side]
        if days:
            parts.append(f"{', '.join(days)} ({side} the event)")
    return " and ".join(parts)
