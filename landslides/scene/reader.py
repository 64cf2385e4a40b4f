"""Read a labelled optical scene (one large raster pair) or a folder of image/mask tiles.

Every problem with the input is reported as an InputError whose one-line message names the file.
"""

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rioxarray
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

from landslides.errors import InputError

TILE_SUFFIXES = (".png", ".tif", ".tiff")

log = logging.getLogger(__name__)


@dataclass
class Scene:
    """A georeferenced image with its landslide label on the same grid."""

    image: np.ndarray  # (band, y, x), uint8 or float32
    label: np.ndarray  # (y, x) uint8, 1 = landslide
    crs: CRS | None
    transform: Affine
    source: Path | None = None  # the image file, for messages about the scene and its parts


@dataclass
class Tile:
    """One image/mask pair of a tile folder; `name` is the shared file stem.

    `transform` is the image's georeferencing (None for a plain PNG or any raster without one) and `crs`
    its CRS (None where it has none); only the spatial split and the map layout use them.
    """

    name: str
    image: np.ndarray  # (3, h, w) uint8
    mask: np.ndarray  # (h, w) uint8, 1 = landslide
    image_path: Path | None = None
    mask_path: Path | None = None
    transform: Affine | None = None
    crs: CRS | None = None

    @property
    def where(self) -> str:
        """The mask file for messages (it holds the labels a split or a size check talks about)."""
        return str(self.mask_path) if self.mask_path is not None else self.name


def read_scene(image_path, label_path) -> Scene:
    """Read an image raster and its label raster (any GDAL format) and check they belong together.

    A raster without a CRS is read with `crs=None`, and one without any georeferencing with the
    identity transform (1 unit per pixel); each case logs one warning naming the image file. The ridgei
    study then writes its maps in a local placeholder CRS (metres, no datum) that lines up with nothing
    else, and takes the pixel size from the transform. Assign the CRS to the files (for example
    `gdal_edit.py -a_srs EPSG:32654 image.tif label.tif`) to get georeferenced maps.
    """
    image_path, label_path = Path(image_path), Path(label_path)
    image_da = _open_raster(image_path)
    label_da = _open_raster(label_path)
    _check_same_grid(image_da, label_da, image_path, label_path)
    image = _check_image(image_da.values, image_da.rio.nodata, image_path)
    if label_da.shape[0] != 1:
        raise InputError(f"{label_path}: label must have one band, found {label_da.shape[0]}")
    label = _label_to_binary(label_da.values[0], label_path)
    crs, transform = image_da.rio.crs, image_da.rio.transform()
    if crs is None:
        georef = "no CRS" if transform != Affine.identity() else "no CRS and no geotransform (1 unit per pixel)"
        log.warning("%s: scene has %s; its maps get a local placeholder CRS that lines up with no other "
                    "data (assign one, e.g. gdal_edit.py -a_srs EPSG:<code>)", image_path, georef)
    return Scene(image=image, label=label, crs=crs, transform=transform, source=image_path)


def read_tile_folder(folder, *, image_dir: str = "images", mask_dir: str = "masks") -> list[Tile]:
    """Read image/mask tile pairs (PNG or TIFF) matched by file stem, sorted by name.

    Masks may hold 0/1 or 0/255; images need at least 3 bands of 8-bit data (the first 3 are kept,
    so an RGBA PNG loses its alpha). Georeferencing is not needed; where an image has one (a GeoTIFF, a
    PNG with a world file) it is kept for the spatial split and the map layout.
    """
    folder = Path(folder)
    images = _tile_files(folder / image_dir)
    masks = _tile_files(folder / mask_dir)
    for stem, mask_path in masks.items():
        if stem not in images:
            raise InputError(f"{mask_path}: mask has no image with the same name in {folder / image_dir}")
    tiles = []
    for stem in sorted(images):
        image_path = images[stem]
        if stem not in masks:
            raise InputError(f"{image_path}: image has no mask with the same name in {folder / mask_dir}")
        tiles.append(_read_tile(stem, image_path, masks[stem]))
    _check_tile_variation(tiles, folder / image_dir)
    return tiles


def _check_tile_variation(tiles: list[Tile], where: Path) -> None:
    """Blank tiles (one value at every pixel) teach nothing: all blank is refused, some blank is a warning
    (a dataset may pad its grid with them)."""
    blank = [tile for tile in tiles if is_constant(tile.image)]
    if blank and len(blank) == len(tiles):
        raise InputError(f"{where}: every one of the {len(tiles)} tile images holds a single value at every "
                         "pixel (blank); there is nothing to learn from")
    if blank:
        shown = ", ".join(str(tile.image_path) for tile in blank[:3]) + (", ..." if len(blank) > 3 else "")
        log.warning("%s: %d of %d tile images are blank (one value at every pixel): %s", where, len(blank),
                    len(tiles), shown)


def _tile_files(directory: Path) -> dict[str, Path]:
    """Map file stem -> path for the tile files in a directory; two files with one stem are ambiguous."""
    if not directory.is_dir():
        raise InputError(f"{directory}: tile directory not found")
    files: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in TILE_SUFFIXES or path.name.startswith("."):
            continue
        if path.stem in files:
            raise InputError(f"{path}: another tile file has the same name ({files[path.stem].name})")
        files[path.stem] = path
    if not files:
        raise InputError(f"{directory}: no PNG or TIFF tiles found")
    return files


def _read_tile(name: str, image_path: Path, mask_path: Path) -> Tile:
    image_da = _open_raster(image_path)
    mask_da = _open_raster(mask_path)
    image = image_da.values
    if image.dtype != np.uint8:
        raise InputError(f"{image_path}: tile images must be 8-bit, found {image.dtype}")
    if image.shape[0] < 3:
        raise InputError(f"{image_path}: image has {image.shape[0]} band(s), at least 3 (RGB) are needed")
    mask = mask_da.values
    # Some datasets save masks as RGB with identical channels; accept that, reject anything else.
    if mask.shape[0] > 1 and not all(np.array_equal(mask[0], band) for band in mask[1:]):
        raise InputError(f"{mask_path}: mask has {mask.shape[0]} bands that differ; one band is needed")
    if mask.shape[1:] != image.shape[1:]:
        raise InputError(
            f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[2]} but image {image_path.name} "
            f"is {image.shape[1]}x{image.shape[2]}"
        )
    transform = image_da.rio.transform()
    return Tile(name=name, image=np.ascontiguousarray(image[:3]), mask=_label_to_binary(mask[0], mask_path),
                image_path=image_path, mask_path=mask_path,
                transform=None if transform.is_identity else transform, crs=image_da.rio.crs)


def _open_raster(path: Path):
    """Open a raster fully into memory; unreadable or missing files become InputErrors."""
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():
            # PNG tiles have no georeferencing, and that is fine here.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rioxarray.open_rasterio(path, masked=False) as data:
                return data.load()
    except RasterioIOError as error:
        raise InputError(f"{path}: not a readable raster ({str(error).splitlines()[0]})") from error


def _check_same_grid(image_da, label_da, image_path: Path, label_path: Path) -> None:
    """The label must cover exactly the image pixels: same size, transform and CRS."""
    if image_da.shape[1:] != label_da.shape[1:]:
        raise InputError(
            f"{label_path}: label is {label_da.shape[1]}x{label_da.shape[2]} pixels but image "
            f"{image_path.name} is {image_da.shape[1]}x{image_da.shape[2]}"
        )
    image_transform, label_transform = image_da.rio.transform(), label_da.rio.transform()
    if not image_transform.almost_equals(label_transform, precision=1e-6 * abs(image_transform.a)):
        raise InputError(
            f"{label_path}: label transform {tuple(label_transform)[:6]} differs from image "
            f"{image_path.name} {tuple(image_transform)[:6]}"
        )
    if image_da.rio.crs != label_da.rio.crs:
        raise InputError(
            f"{label_path}: label CRS {label_da.rio.crs} differs from image CRS {image_da.rio.crs}"
        )


def _check_image(image: np.ndarray, nodata, path: Path) -> np.ndarray:
    """At least 3 bands, no NaN, no nodata pixels; keep uint8, otherwise convert to float32."""
    if image.shape[0] < 3:
        raise InputError(f"{path}: image has {image.shape[0]} band(s), at least 3 (RGB) are needed")
    if image.dtype != np.uint8:
        image = image.astype(np.float32)
        if np.isnan(image).any():
            raise InputError(f"{path}: image contains NaN values; fill or crop them first")
    if nodata is not None and not np.isnan(nodata):
        # A pixel is nodata when every band holds the nodata value (a dark band alone is valid data).
        missing = int(np.all(image == np.asarray(nodata, dtype=image.dtype), axis=0).sum())
        if missing:
            raise InputError(
                f"{path}: {missing} pixels equal the nodata value {nodata}; fill or crop them first"
            )
    if image[0].size > 1 and is_constant(image):  # a single pixel is too small, which the split says
        raise InputError(f"{path}: image holds {_single_values(image)} at every pixel; there is nothing to "
                         "learn from (an empty export or the wrong file?)")
    return image


def is_constant(image: np.ndarray) -> bool:
    """True when every band holds one value over the whole (band, y, x) image: no pixel differs from
    another, so a model can learn nothing from it (an all-zero export, a blank tile)."""
    # min/max per band allocate nothing (a full-size comparison would double a large scene's memory), and
    # a scene with data stops at its first band. NaN never gets here (refused before).
    return all(band.min() == band.max() for band in image)


def _single_values(image: np.ndarray) -> str:
    """'the value 0' or 'one value per band (12, 40, 7)' for a constant image."""
    values = [f"{v:g}" for v in image.reshape(image.shape[0], -1)[:, 0].tolist()]
    return f"the value {values[0]}" if len(set(values)) == 1 else f"one value per band ({', '.join(values)})"


def _label_to_binary(label: np.ndarray, path: Path) -> np.ndarray:
    """Accept 0/1 or 0/255 labels and return uint8 0/1; anything else is a mistake worth reporting."""
    if np.issubdtype(label.dtype, np.floating) and np.isnan(label).any():
        raise InputError(f"{path}: label contains NaN values")
    if label.dtype == np.uint8:
        values = np.flatnonzero(np.bincount(label.ravel(), minlength=256))  # faster than np.unique
    else:
        values = np.unique(label)
    present = set(values.tolist())
    if present <= {0, 1}:
        return label.astype(np.uint8)
    if present <= {0, 255}:
        return (label == 255).astype(np.uint8)
    shown = sorted(present)[:6]
    raise InputError(f"{path}: label values must be 0/1 or 0/255, found {len(present)} values {shown}")
