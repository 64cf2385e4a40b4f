"""Natural change of backscatter between acquisitions, varying in space: moisture, rain cells, harvest.

Between two dates the ground's backscatter changes without any landslide, and not uniformly:
- soil moisture follows the rain of the days before, which falls in cells a few kilometres wide on top
  of a regional pattern; wetter soil has a higher permittivity and backscatters more. Bare soil and
  debris respond fully, grass and crops partly, a closed canopy little (its volume hides the ground);
- at acquisition time a shower wets the leaves of the canopy under a rain cell, raising its volume
  backscatter (frequent in the wet season of the tropics: Talakmau in February);
- crops are harvested field by field (Hokkaido in September): after harvest a field's crop volume is
  gone, VH falls by several dB, VV a little;
- a region-wide shift per cover and date (phenology, wind, the processor's calibration) remains.
The change of one acquisition is the sum of these, in dB, for each cover; its size per region is in
the region's preset (docs/twin.md, docs/sources.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import zoom

from landslides.sar import terrain

COARSE = 8  # smooth fields are synthesized 8 times coarser and interpolated (they vary over kilometres)
# Response of each cover to soil moisture, relative to bare soil: a closed canopy attenuates the ground's
# contribution (project choice, the two-way canopy loss at C band).
MOISTURE_RESPONSE = {0: 0.0, 1: 0.3, 2: 0.7, 3: 1.0, 4: 1.0}  # WATER, FOREST, GRASS, BARE, SCAR
# Covers whose leaves a shower wets (forest canopy, crops and grass), and their relative response.
CANOPY_RESPONSE = {0: 0.0, 1: 1.0, 2: 0.6, 3: 0.0, 4: 0.0}
FIELD_M = 300.0  # side of a crop field (Hokkaido's farmland grid)


@dataclass(frozen=True)
class NaturalSpec:
    """Natural change of one region (dB; lengths in metres)."""

    moisture_db: float = 1.0  # std of the soil-moisture response of bare soil between acquisitions
    moisture_cell_m: float = 4000.0  # size of rain cells
    moisture_regional_m: float = 30000.0  # regional pattern
    wet_canopy_db: float = 0.0  # rise of a canopy's backscatter under a rain cell at acquisition time
    wet_share: float = 0.0  # share of the scene under rain at acquisition time
    regional_db: float = 0.3  # region-wide shift per cover and date
    harvest: tuple[str, str] | None = None  # first and last harvest day of the crops (GRASS), YYYYMMDD
    harvest_db: tuple[float, float] = (-1.0, -3.5)  # VV, VH change of a field once harvested


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], corr_m: float, spacing: float) -> np.ndarray:
    """Unit-variance smooth random field correlated over `corr_m`, synthesized coarse and interpolated."""
    coarse = (max(shape[0] // COARSE, 8), max(shape[1] // COARSE, 8))
    field = terrain.fractal_field(rng, coarse, 1.0, corr_m / (COARSE * spacing)).astype(np.float32)
    fine = zoom(field, (shape[0] / coarse[0], shape[1] / coarse[1]), order=1)
    return fine[: shape[0], : shape[1]]


class NaturalChange:
    """The natural change of every acquisition of a cube, from one seeded stream per acquisition."""

    def __init__(self, spec: NaturalSpec, shape: tuple[int, int], spacing: float, dates: pd.DatetimeIndex,
                 stream: list[int]):
        self.spec, self.shape, self.spacing, self.dates, self.stream = spec, shape, spacing, dates, stream
        self.harvest_day = self._harvest_days(np.random.default_rng([*stream, 0])) if spec.harvest else None

    def _harvest_days(self, rng: np.random.Generator) -> np.ndarray:
        """Day (as datetime64[D]) each pixel's field is harvested: uniform over the season, per field."""
        first, last = (np.datetime64(pd.Timestamp(d).date()) for d in self.spec.harvest)
        side = max(int(round(FIELD_M / self.spacing)), 1)
        fields = (-(-self.shape[0] // side), -(-self.shape[1] // side))
        offset = rng.integers(0, int((last - first).astype(int)) + 1, size=fields)
        days = first + offset.astype("timedelta64[D]")
        return np.repeat(np.repeat(days, side, axis=0), side, axis=1)[: self.shape[0], : self.shape[1]]

    def change_db(self, t: int, cover: np.ndarray) -> np.ndarray:
        """(2, y, x) natural change of acquisition t in dB (VV, VH) over the given cover map."""
        s, rng = self.spec, np.random.default_rng([*self.stream, 1, t])
        moisture = np.float32(s.moisture_db) * (0.6 * smooth_field(rng, self.shape, s.moisture_regional_m,
                                                                     self.spacing)
                                                 + 0.8 * smooth_field(rng, self.shape, s.moisture_cell_m,
                                                                      self.spacing))
        response = _per_cover(MOISTURE_RESPONSE, cover)
        out = np.empty((2, *self.shape), np.float32)
        # Soil moisture raises VV and VH about alike on bare soil (both scatter from its surface).
        out[:] = (moisture * response)[None]
        regional = rng.normal(0.0, s.regional_db, size=max(MOISTURE_RESPONSE) + 1).astype(np.float32)
        out += regional[cover][None]
        if s.wet_canopy_db > 0 and s.wet_share > 0:
            cells = smooth_field(rng, self.shape, s.moisture_cell_m, self.spacing)
            wet = cells > np.quantile(cells, 1.0 - s.wet_share)
            out += (np.float32(s.wet_canopy_db) * wet * _per_cover(CANOPY_RESPONSE, cover))[None]
        if self.harvest_day is not None:
            today = np.datetime64(pd.Timestamp(self.dates[t]).date())
            harvested = (cover == 2) & (self.harvest_day <= today)
            for pol in (0, 1):
                out[pol][harvested] += np.float32(s.harvest_db[pol])
        return out


def _per_cover(table: dict[int, float], cover: np.ndarray) -> np.ndarray:
    values = np.zeros(max(table) + 1, np.float32)
    for code, value in table.items():
        values[code] = value
    return values[cover]
