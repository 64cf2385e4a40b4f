"""Apply any trained model.pt of this workflow to new data and write landslide maps.

    python -m landslides.predict MODEL INPUT OUTPUT [--device auto] [--batch-size 16]

MODEL is a run's model.pt (transfer, pretrain, ridgei or refine); it carries its network, input
channels and normalization (`landslides.runs`). INPUT is one of:

- a chip store (`resources/chips/<region>.zarr`, built from any datacube by the workflow): every chip is
  predicted and the chips are mosaicked into OUTPUT, one GeoTIFF in the store's CRS (NaN outside the
  extraction mask);
- a raster file (ridgei models): GeoTIFF, PNG, JPEG or any other format GDAL reads, with the model's bands
  (more for a ridgei model: the first ones are used, so an RGBA PNG loses its alpha as in training);
  predicted in windows of the model's patch size covering the raster, read from disk a band of rows at a
  time (`RasterRows`, `RASTER_CALL_BYTES`); OUTPUT is a GeoTIFF on the image's grid (in pixel coordinates
  without a CRS where the image has no georeferencing: one warning line says so);
- a Landslide4Sense-layout folder (`image_N.h5` files, or a folder holding `img/`; refine models):
  OUTPUT is a folder with one `image_N_probability.tif` per patch (the benchmark's patches carry no
  georeferencing, so the files have none either).

What OUTPUT holds (`WRITES`): a segmenter (transfer, pretrain stage 2, refine, ridgei DeepLabV3+) the
landslide probability of each pixel; the ridgei patch classifier the probability of each window, painted
over it; the ridgei anomaly U-Net a score, its denoising error (not a probability). No model writes labels:
detection is score >= the threshold stored in model.pt (`load_model(path)[1]["extra"]["threshold"]`; 0.5
for probabilities).

Normalization follows the model's mode: statistics stored with the model (the training data's), except
`separated`, where new data are a domain of their own and bring their own statistics (Zhao et al.). A network
with cross-sensor normalization evaluates new data as its target domain (`landslides.runs.load_model`).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import torch
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window
from tqdm import tqdm

from landslides.errors import InputError
from landslides.geo import mosaic_chips, write_geotiff
from landslides.normalization import ChannelStats, band_stats, normalize
from landslides.runs import load_model
from landslides.train import landslide_probability, predict, select_device

log = logging.getLogger(__name__)


def covering_starts(length: int, size: int, step: int | None = None) -> list[int]:
    """Window starts every `step` pixels (default `size`) plus one flush with the end, so every pixel is covered."""
    if length < size:
        raise InputError(f"a raster of {length} pixels is smaller than the {size}-pixel window")
    step = step or size
    starts = list(range(0, length - size + 1, step))
    if starts[-1] + size < length:
        starts.append(length - size)
    return starts


# Windows scored per call when a raster is read from disk: a multiple of the batch size, about this many
# bytes of float32 input, so that memory holds the output map and one such part, not the whole raster.
RASTER_CALL_BYTES = 64 * 2**20


def window_taper(size: int) -> np.ndarray:
    """1-D blending weights of a window: a tent, highest in the middle and small (never 0) at the ends.

    A network's output is least reliable at a window's border (its receptive field is cut there), and in
    half-overlapping windows every interior pixel lies near the middle of some window: tent weights give
    those windows the say, so window borders leave no seams in the map.
    """
    position = np.arange(size) + 0.5
    return (np.minimum(position, size - position) / (size / 2)).astype(np.float32)


def _coverage(starts: list[int], size: int, length: int) -> np.ndarray:
    """Sum of the tapers of the windows at `starts` over each of `length` pixels (the blending's divisor)."""
    total, taper = np.zeros(length, np.float32), window_taper(size)
    for start in starts:
        total[start : start + size] += taper
    return total


def predict_area(score_fn: Callable[[torch.Tensor, int], torch.Tensor], image, patch_size: int, *,
                 windows_per_call: int | None = None, overlap: bool = False) -> np.ndarray:
    """Run score_fn ((N, bands, p, p) windows, index of the first window -> (N, p, p) scores) over windows
    covering a whole (bands, H, W) image; returns the (H, W) float32 map.

    overlap False: windows side by side (the last one of a row or column flush with the edge, overwriting
    its overlap). overlap True: windows every half window, blended with `window_taper` weights (four
    times the windows; no seams at window borders).
    `image` is an array or anything sliced the same way, `image[:, top:bottom]` (a `RasterRows` reads those
    rows from disk). Windows go in row-major order, `windows_per_call` at a time (all at once by default).
    """
    height, width = image.shape[1:]
    step = max(patch_size // 2, 1) if overlap else patch_size
    rows, cols = covering_starts(height, patch_size, step), covering_starts(width, patch_size, step)
    windows = [(r, c) for r in rows for c in cols]
    per_call = windows_per_call or len(windows)
    calls = range(0, len(windows), per_call)
    out = np.zeros((height, width), np.float32)
    taper = np.outer(window_taper(patch_size), window_taper(patch_size))
    for first in tqdm(calls, desc="windows", unit="part", file=sys.stderr, leave=False, disable=len(calls) < 2):
        part = windows[first : first + per_call]
        top = part[0][0]
        strip = image[:, top : part[-1][0] + patch_size]
        batch = torch.from_numpy(np.stack([strip[:, r - top : r - top + patch_size, c : c + patch_size]
                                           for r, c in part]))
        scores = score_fn(batch, first).numpy()
        for (r, c), score in zip(part, scores, strict=True):
            if overlap:
                out[r : r + patch_size, c : c + patch_size] += taper * score
            else:
                out[r : r + patch_size, c : c + patch_size] = score  # the edge window overwrites its overlap
    if overlap:  # the tapers are separable, so their sum is the outer product of the rows' and columns' sums
        out /= np.outer(_coverage(rows, patch_size, height), _coverage(cols, patch_size, width))
    return out


class RasterRows:
    """An open raster read a band of rows at a time as normalized float32 (bands, rows, W), checked for
    NaN: what predict_area slices, so that a raster larger than memory can be predicted. Without `stats`
    the rows come as read (float32)."""

    def __init__(self, source, stats: ChannelStats | None = None, bands: int | None = None):
        self.source, self.stats = source, stats
        self.bands = bands or source.count  # the first `bands` bands are read
        self.shape = (self.bands, source.height, source.width)

    def __getitem__(self, key) -> np.ndarray:
        _, rows = key
        window = Window(0, rows.start, self.source.width, rows.stop - rows.start)
        data = self.source.read(list(range(1, self.bands + 1)), window=window).astype(np.float32)
        if not np.isfinite(data).all():
            raise InputError(f"{self.source.name}: NaN or infinite pixel values (rows {rows.start}-{rows.stop})")
        return data if self.stats is None else normalize(data[None], self.stats)[0]

    def band_stats(self, channels: list[str], rows_per_read: int = 1024) -> ChannelStats:
        """Mean and std per band of every pixel as read, in two passes over bands of rows (as `band_stats`)."""
        raw = RasterRows(self.source, bands=self.bands)
        height = self.shape[1]
        parts = [slice(top, min(top + rows_per_read, height)) for top in range(0, height, rows_per_read)]
        total = sum(raw[:, part].sum(axis=(1, 2), dtype=np.float64) for part in parts)
        count = height * self.shape[2]
        mean = total / count
        squares = sum(((raw[:, part].astype(np.float64) - mean[:, None, None]) ** 2).sum(axis=(1, 2))
                      for part in parts)
        return ChannelStats(list(channels), mean, np.sqrt(squares / count), count)


def _stats(saved: dict, images: np.ndarray) -> ChannelStats:
    norm = saved["normalization"]
    if norm["mode"] == "separated":
        return band_stats(images, saved["channels"])
    return ChannelStats.from_dict(norm)


def predict_chip_store(model, saved: dict, store_path: Path, output: Path, batch_size: int, device) -> None:
    from landslides.sar.chips import open_chip_store
    from landslides.sar.selection import select_chips

    store = open_chip_store(store_path)
    chips = select_chips(store, saved["channels"], np.ones(store.sizes["chip"], bool))
    if saved["normalization"]["mode"] == "whole_cube_per_region":  # each cube its own statistics
        from landslides.sar.selection import channel_stats

        stats = channel_stats(store, chips, saved["channels"], "whole_cube_per_region")
    else:
        stats = _stats(saved, chips["images"])
    images = normalize(chips["images"], stats, chips["valid"])
    prob = predict(model, torch.from_numpy(images), batch_size, device).numpy()
    canvas, transform = mosaic_chips(np.where(chips["valid"], prob, np.nan), chips["transform"])
    write_geotiff(canvas, transform, store.attrs["crs"], output)


def predict_l4s_folder(model, saved: dict, folder: Path, output: Path, batch_size: int, device) -> None:
    from landslides.l4s.dataset import read_folder

    folder = folder / "img" if (folder / "img").is_dir() else folder
    patches = read_folder(folder)
    _check_bands(f"{folder}: Landslide4Sense patches have", patches.images.shape[1], saved)
    images = normalize(patches.images, _stats(saved, patches.images))
    prob = predict(model, torch.from_numpy(images), batch_size, device).numpy()
    output.mkdir(parents=True, exist_ok=True)
    for patch_id, patch_prob in zip(patches.ids, prob, strict=True):
        write_geotiff(patch_prob, Affine.identity(), None, output / f"image_{patch_id}_probability.tif")


def _check_bands(where: str, found: int, saved: dict) -> None:
    """The input must have one band per channel the model was trained on (a SAR model on a 14-band
    Landslide4Sense folder would otherwise fail inside the normalization with a broadcasting error)."""
    if found != len(saved["channels"]):
        raise InputError(f"{where} {found} bands, the model was trained on {len(saved['channels'])} "
                         f"({', '.join(saved['channels'][:6])}{', ...' if len(saved['channels']) > 6 else ''})")


def predict_raster(model, saved: dict, image_path: Path, output: Path, batch_size: int, device) -> None:
    if not image_path.is_file():
        raise InputError(f"{image_path}: file not found")
    try:
        with warnings.catch_warnings():
            # A PNG or JPEG (or any raster) without georeferencing is fine: one line of ours says what follows.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            source = rasterio.open(image_path)
    except rasterio.errors.RasterioError as err:
        raise InputError(f"{image_path}: not a readable raster ({err})") from err
    with source:
        bands = len(saved["channels"])
        if source.count < bands or (source.count > bands and saved.get("study") != "ridgei"):
            raise InputError(f"{image_path}: {source.count} bands, the model was trained on {bands}")
        if source.count > bands:  # as the tile reader does: an RGBA PNG loses its alpha
            log.info("%s: %d bands; the first %d are used, as in training", image_path, source.count, bands)
        if source.crs is None and source.transform.is_identity:
            log.warning("%s: no georeferencing; %s is written in pixel coordinates without a CRS", image_path,
                        output)
        rows = RasterRows(source, bands=bands)
        if saved["normalization"]["mode"] == "separated":  # the raster is a domain of its own
            rows.stats = rows.band_stats(saved["channels"])
        else:
            rows.stats = ChannelStats.from_dict(saved["normalization"])
        extra = saved["extra"]
        patch_size = int(extra.get("patch_size", 128))
        window_bytes = source.count * patch_size * patch_size * 4
        per_call = max(1, RASTER_CALL_BYTES // window_bytes // batch_size) * batch_size
        if model_family(saved) == "anomaly":
            from landslides.anomaly import anomaly_map

            score = anomaly_map(model, rows, patch_size, noise_std=extra["noise_std"],
                                noisy=extra["noisy_inference"], smooth_px=extra["smooth_px"],
                                batch_size=batch_size, device=device, windows_per_call=per_call)
        else:
            score = predict_area(_score_fn(model, saved, batch_size, device), rows, patch_size,
                                 windows_per_call=per_call)
        write_geotiff(score, source.transform, source.crs, output)


def _score_fn(model, saved: dict, batch_size: int, device):
    """A window scorer for predict_area: the patch classifier's probability painted over each window, or a
    segmenter's landslide probability per pixel."""
    if saved["spec"]["kind"] == "patch_classifier":
        def score_fn(batch, first_index):
            prob = predict(model, batch, batch_size, device)
            return prob[:, None, None].expand(-1, batch.shape[-2], batch.shape[-1])
        return score_fn

    def score_fn(batch, first_index):
        return predict(model, batch, batch_size, device, output=landslide_probability)
    return score_fn


def model_family(saved: dict) -> str:
    """'classifier', 'anomaly' (a denoiser: one output per input band) or 'segmenter'."""
    spec, extra = saved["spec"], saved.get("extra") or {}
    if spec["kind"] == "patch_classifier":
        return "classifier"
    if spec.get("classes") == spec.get("in_channels") and "noise_std" in extra:
        return "anomaly"
    return "segmenter"


def apply_model(model_path: str | Path, input_path: str | Path, output: str | Path, *, device_name: str = "auto",
                batch_size: int = 16) -> str:
    """Apply model.pt to INPUT (kind detected from the path) and write OUTPUT; returns the kind."""
    model_path, input_path, output = Path(model_path), Path(input_path), Path(output)
    device = select_device(device_name)
    model, saved = load_model(model_path)
    model.to(device)
    if saved["spec"]["kind"] in ("chip_classifier",):
        raise InputError(f"{model_path}: a stage-1 chip classifier gives one probability per chip, not a map")
    if not input_path.exists():
        raise InputError(f"{input_path}: not found")
    if input_path.is_dir() and (input_path / "image").exists() or input_path.suffix == ".zarr":
        kind, run = "chip store", predict_chip_store
    elif input_path.is_dir():
        kind, run = "Landslide4Sense folder", predict_l4s_folder
    else:
        kind, run = "raster", predict_raster
    run(model, saved, input_path, output, batch_size, device)
    return kind


# What each model family writes into OUTPUT (the help's epilog and the last line printed).
WRITES = {
    "segmenter": "landslide probability per pixel (0-1)",
    "classifier": "landslide probability per window (0-1), painted over the window",
    "anomaly": "anomaly score per pixel (denoising error, not a probability)",
}

HELP_EPILOG = """INPUT kinds (recognized from the path):
  chip store      a .zarr folder (resources/chips/<region>.zarr)     transfer, pretrain stage-2 models
  raster          one image file: GeoTIFF, PNG, JPEG or any format   ridgei models
                  GDAL reads, with the model's bands (bands beyond
                  those are dropped, e.g. a PNG's alpha)
  L4S folder      image_N.h5 patches, or a folder holding img/        refine models

OUTPUT: a GeoTIFF (chip store, raster; on the raster's grid, pixel coordinates where it has no
georeferencing), or a folder of image_N_probability.tif (L4S folder). What it holds:
  DeepLabV3+, U-Net segmenters (transfer, pretrain, refine, ridgei deeplab): """ + WRITES["segmenter"] + """
  ridgei patch classifier: """ + WRITES["classifier"] + """
  ridgei anomaly U-Net: """ + WRITES["anomaly"] + """
No model writes labels: a landslide is score >= the threshold stored in model.pt (extra.threshold;
0.5 for probabilities). docs/own-data.md has examples."""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=HELP_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a run's model.pt")
    parser.add_argument("input", help="chip store (.zarr), raster file (GeoTIFF, PNG, JPEG, ...), or "
                                      "Landslide4Sense-layout folder")
    parser.add_argument("output", help="GeoTIFF to write (a folder for Landslide4Sense input)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        kind = apply_model(args.model, args.input, args.output, device_name=args.device, batch_size=args.batch_size)
        _, saved = load_model(Path(args.model))
    except InputError as err:
        sys.exit(f"error: {err}")
    threshold = (saved.get("extra") or {}).get("threshold", 0.5)
    print(f"{args.output}: {WRITES[model_family(saved)]} of the {kind} {args.input}; landslide where >= {threshold:g}")


if __name__ == "__main__":
    main()
