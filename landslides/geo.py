"""Put chip-shaped predictions back on the map as GeoTIFFs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning

from landslides.files import atomic_path


def mosaic(maps: list[np.ndarray], transforms: list[Affine]) -> tuple[np.ndarray, Affine]:
    """Place 2-D maps of any sizes, each with its affine transform, on their common grid.

    Returns the float32 mosaic (NaN where no map lies) and its transform. All maps must share the pixel
    size, as pieces cut from one raster (or laid out on one grid) do; later maps overwrite earlier ones
    where they overlap.
    """
    first = transforms[0]
    offsets = [~first @ (t.c, t.f) for t in transforms]
    cols = np.rint([c for c, _ in offsets]).astype(int)
    rows = np.rint([r for _, r in offsets]).astype(int)
    r0, c0 = rows.min(), cols.min()
    height = max(r - r0 + m.shape[0] for r, m in zip(rows, maps, strict=True))
    width = max(c - c0 + m.shape[1] for c, m in zip(cols, maps, strict=True))
    canvas = np.full((height, width), np.nan, np.float32)
    for m, r, c in zip(maps, rows - r0, cols - c0, strict=True):
        canvas[r : r + m.shape[0], c : c + m.shape[1]] = m
    return canvas, first @ Affine.translation(c0, r0)


def mosaic_chips(chips: np.ndarray, transforms: np.ndarray) -> tuple[np.ndarray, Affine]:
    """mosaic() of (N, H, W) chips with GDAL-order affine transforms (N, 6), as chip stores keep them."""
    return mosaic(list(chips), [Affine.from_gdal(*t) for t in transforms])


def pixel_size(gdal_transform) -> float | None:
    """Pixel width in map units of a GDAL-order transform; None where the grid has no size (unset)."""
    return abs(float(gdal_transform[1])) if gdal_transform[1] else None


def write_geotiff(array: np.ndarray, transform: Affine, crs, path: str | Path, nodata=np.nan) -> None:
    """Write a (H, W) or (B, H, W) array as a deflate-compressed GeoTIFF, atomically; crs None writes no
    CRS. Written with rasterio directly: rioxarray's writer held about four copies of the map at once."""
    path = Path(path)
    data = array[None] if array.ndim == 2 else array
    profile = {"driver": "GTiff", "count": data.shape[0], "height": data.shape[1], "width": data.shape[2],
               "dtype": data.dtype, "transform": transform, "crs": crs, "nodata": nodata, "compress": "deflate"}
    with atomic_path(path) as tmp, warnings.catch_warnings():
        if crs is None:  # no georeferencing is the point here, not a mistake to warn about
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(tmp, "w", **profile) as target:
            target.write(data)
