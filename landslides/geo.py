"""Put chip-shaped predictions back on the map as GeoTIFFs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine


def mosaic_chips(chips: np.ndarray, transforms: np.ndarray) -> tuple[np.ndarray, Affine]:
    """Place (N, H, W) chips with GDAL-order affine transforms (N, 6) on their common grid.

    Returns the float32 mosaic (NaN where no chip lies) and its transform. All chips must share the
    pixel size, as chips cut from one raster do.
    """
    first = Affine.from_gdal(*transforms[0])
    h, w = chips.shape[1:]
    rows_cols = [~first * (Affine.from_gdal(*t).c, Affine.from_gdal(*t).f) for t in transforms]
    cols = np.rint([rc[0] for rc in rows_cols]).astype(int)
    rows = np.rint([rc[1] for rc in rows_cols]).astype(int)
    r0, c0 = rows.min(), cols.min()
    mosaic = np.full((rows.max() - r0 + h, cols.max() - c0 + w), np.nan, np.float32)
    for chip, r, c in zip(chips, rows - r0, cols - c0, strict=True):
        mosaic[r : r + h, c : c + w] = chip
    return mosaic, first * Affine.translation(c0, r0)


def write_geotiff(array: np.ndarray, transform: Affine, crs, path: str | Path, nodata=np.nan) -> None:
    """Write a (H, W) or (B, H, W) array as a GeoTIFF, atomically."""
    path = Path(path)
    data = array[None] if array.ndim == 2 else array
    h, w = data.shape[1:]
    xs = transform.c + transform.a * (np.arange(w) + 0.5)
    ys = transform.f + transform.e * (np.arange(h) + 0.5)
    da = xr.DataArray(data, dims=("band", "y", "x"), coords={"band": np.arange(1, data.shape[0] + 1), "y": ys, "x": xs})
    da = da.rio.write_transform(transform).rio.write_crs(crs).rio.write_nodata(nodata)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}.tif")
    da.rio.to_raster(tmp, compress="deflate")
    os.replace(tmp, path)
