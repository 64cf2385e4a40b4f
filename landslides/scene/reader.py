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


def read_scene(image_path, label_path, *, landslide=None) -> Scene:
    """Read an image raster and its label raster (any GDAL format) and check they belong together.

    The label is read as `mask_to_binary` reads a tile mask (`landslide`: the landslide value or colour).

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
    label = mask_to_binary(label_da.values, label_path, landslide)
    crs, transform = image_da.rio.crs, image_da.rio.transform()
    if crs is None:
        georef = "no CRS" if transform != Affine.identity() else "no CRS and no geotransform (1 unit per pixel)"
        log.warning("%s: scene has %s; its maps get a local placeholder CRS that lines up with no other "
                    "data (assign one, e.g. gdal_edit.py -a_srs EPSG:<code>)", image_path, georef)
    return Scene(image=image, label=label, crs=crs, transform=transform, source=image_path)


def read_tile_folder(folder, *, image_dir: str = "images", mask_dir: str = "masks", landslide=None
                     ) -> list[Tile]:
    """Read image/mask tile pairs (PNG or TIFF) matched by file stem, sorted by name.

    Masks are read by `mask_to_binary` (`landslide`: the landslide value or colour, None for 0/1 or
    0/255); images need at least 3 bands of 8-bit data (the first 3 are kept,
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
        tiles.append(_read_tile(stem, image_path, masks[stem], landslide))
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


def _read_tile(name: str, image_path: Path, mask_path: Path, landslide=None) -> Tile:
    image_da = _open_raster(image_path)
    mask_da = _open_raster(mask_path)
    image = image_da.values
    if image.dtype != np.uint8:
        raise InputError(f"{image_path}: tile images must be 8-bit, found {image.dtype}")
    if image.shape[0] < 3:
        raise InputError(f"{image_path}: image has {image.shape[0]} band(s), at least 3 (RGB) are needed")
    mask = mask_da.values
    if mask.shape[1:] != image.shape[1:]:
        raise InputError(
            f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[2]} but image {image_path.name} "
            f"is {image.shape[1]}x{image.shape[2]}"
        )
    transform = image_da.rio.transform()
    return Tile(name=name, image=np.ascontiguousarray(image[:3]), mask=mask_to_binary(mask, mask_path, landslide),
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


def mask_to_binary(mask: np.ndarray, path: Path, landslide=None) -> np.ndarray:
    """A (bands, H, W) mask as uint8 0/1 (1 = landslide), from the forms masks come in.

    landslide None: one band, or bands that are all equal (masks saved as grey RGB), holding 0/1 or 0/255.
    landslide a number: the pixels of that value (one band, or equal bands) are landslide, the rest not.
    landslide a list of one value per band (a colour, e.g. [255, 0, 0]): the pixels of that colour are
    landslide, the rest not (a colour mask in two colours).
    A mask with more than two values (colours) is refused, listing them: a third class has no place in a
    landslide / background label, and silently folding it into either side changes the task.
    """
    if mask.ndim == 2:
        mask = mask[None]
    if np.issubdtype(mask.dtype, np.floating) and np.isnan(mask).any():
        raise InputError(f"{path}: label contains NaN values")
    same_bands = all(np.array_equal(mask[0], band) for band in mask[1:])
    if isinstance(landslide, (list, tuple)):
        if len(landslide) != mask.shape[0]:
            raise InputError(f"{path}: ridgei.scene.mask_landslide names a colour of {len(landslide)} values but "
                             f"the mask has {mask.shape[0]} band(s)")
        colours = _colours(mask)
        _check_two(colours, path, "colours", landslide)
        return np.all(mask == np.asarray(landslide, mask.dtype).reshape(-1, 1, 1), axis=0).astype(np.uint8)
    if not same_bands:
        colours = _colours(mask)
        shown = ", ".join(str(list(c)) for c in colours[:6])
        hint = f"set ridgei.scene.mask_landslide to the landslide colour (e.g. {list(colours[-1])})" \
            if len(colours) == 2 else "one value or colour per class is needed"
        raise InputError(f"{path}: mask has {mask.shape[0]} bands that differ, {len(colours)} colours "
                         f"[{shown}{', ...' if len(colours) > 6 else ''}]; {hint}")
    values = _values(mask[0])
    if landslide is not None:
        _check_two([(v,) for v in values], path, "values", [landslide])
        return (mask[0] == landslide).astype(np.uint8)
    present = set(values)
    if present <= {0, 1}:
        return mask[0].astype(np.uint8)
    if present <= {0, 255}:
        return (mask[0] == 255).astype(np.uint8)
    shown = values[:6]
    more = "" if len(values) <= 6 else " ..."
    hint = f"set ridgei.scene.mask_landslide to the landslide value (e.g. {shown[-1]:g})" if len(values) == 2 else \
        "a mask holds two values (background and landslide)"
    raise InputError(f"{path}: label values must be 0/1 or 0/255, found {len(values)} values {shown}{more}; {hint}")


def _values(band: np.ndarray) -> list:
    """The distinct values of one band, ascending (as Python numbers)."""
    if band.dtype == np.uint8:
        return np.flatnonzero(np.bincount(band.ravel(), minlength=256)).tolist()  # faster than np.unique
    return np.unique(band).tolist()


def _colours(mask: np.ndarray) -> list[tuple]:
    """The distinct colours (one value per band) of a (bands, H, W) mask, ascending."""
    if mask.dtype == np.uint8 and mask.shape[0] <= 4:
        # One 32-bit code per pixel: np.unique on it is several times faster than on rows (axis=0).
        codes = np.zeros(mask.shape[1:], np.uint32)
        for band in mask:
            codes = (codes << 8) | band
        return [tuple(((int(code) >> 8 * (mask.shape[0] - 1 - b)) & 255) for b in range(mask.shape[0]))
                for code in np.unique(codes)]
    pixels = mask.reshape(mask.shape[0], -1).T
    return [tuple(row.tolist()) for row in np.unique(pixels, axis=0)]


def _check_two(found: list[tuple], path: Path, kind: str, landslide) -> None:
    """At most two classes, and where there are two the landslide one must be among them."""
    shown = ", ".join(str(list(c)) if len(c) > 1 else f"{c[0]:g}" for c in found[:6])
    if len(found) > 2:
        raise InputError(f"{path}: mask has {len(found)} {kind} [{shown}{', ...' if len(found) > 6 else ''}]; "
                         "a mask holds two (background and landslide)")
    wanted = tuple(landslide)
    if len(found) == 2 and not any(np.allclose(c, wanted) for c in found):
        named = list(wanted) if len(wanted) > 1 else wanted[0]
        raise InputError(f"{path}: ridgei.scene.mask_landslide {named} is none of the mask's {kind} [{shown}]")
