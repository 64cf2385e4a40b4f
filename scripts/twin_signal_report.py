"""Write the signal report of docs/twin.md: how visible the twin's landslides are without learning.

For each SAR region of a config (default: config/config.yaml, the default run's cubes) the script builds
the synthetic cube and its chip store exactly as the workflow does, then measures on the positive chips:
the log-ratio change (after minus before, dB) inside landslides by zone and outside them, per
polarisation, and the pixel AUPRC of thresholding the decrease, per pixel and after a 5 x 5 average.

    python scripts/twin_signal_report.py                       # prints the tables
    python scripts/twin_signal_report.py --write docs/twin.md  # replaces the marked section
    python scripts/twin_signal_report.py --exposed-db -9.5 -18.5   # a what-if, not the twin

Published values go beside the twin's (PUBLISHED_CHANGE, PUBLISHED_DETECTOR, PUBLISHED_STACK), with their
source in docs/sources.md. `--exposed-db` prints the same tables for another level of the scars' exposed
surface (a what-if: it changes every region's preset in this process only, and cannot --write).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from landslides.config import read_config_file
from landslides.sar import signal, signature
from landslides.sar.chips import build_chip_store
from landslides.sar.synthetic import REGION_PRESETS, make_datacube, simulate_scene
from landslides.sar.terrain import BARE, FOREST, GRASS, WATER

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- signal-report:start -->", "<!-- signal-report:end -->"
CHANNELS = ["vv_before", "vv_after", "vh_before", "vh_after"]
REGIONS = ("hokkaido", "talakmau", "kaikoura")

# Published values to print beside the twin's, keyed (pol, zone) and region. The landslide studies named in
# docs/sources.md ("Landslide signatures, speckle and natural change") hold theirs in results sections that
# could not be read when this was written; add them here with their key. What could be read: Sentinel-1's
# mean change of clear-cut tropical forest [Silva], the twin's calibration target for forest scars.
PUBLISHED_CHANGE: dict[tuple[str, str], str] = {
    ("vv", "landslide on forest"): "clear-cut forest -2.0 [Silva]",
    ("vh", "landslide on forest"): "clear-cut forest -2.3 [Silva]",
}
PUBLISHED_DETECTOR: dict[str, str] = {}
PUBLISHED_STACK: dict[str, str] = {}
NONE_READ = "none read yet"


def measure(region: str, spec: dict, chips: dict) -> dict:
    """Chip store of one region as the workflow builds it, and its signal statistics."""
    started = time.perf_counter()
    cube = make_datacube(region, height=spec["height"], width=spec["width"], seed=spec["seed"])
    store = build_chip_store(cube, name=region, event_date=tuple(spec["event_date"]), orbit=spec["orbit"],
                             n_looks_before=chips["n_looks_before"], n_looks_after=chips["n_looks_after"],
                             channels=CHANNELS)
    scene = simulate_scene(region, height=spec["height"], width=spec["width"], seed=spec["seed"])
    positive = store["has_landslide"].values.astype(bool)
    valid = store["valid"].values.astype(bool)[positive]
    label = store["label"].values[positive] > 0
    _, zone_map = signature.slide_zones(scene.slides & (scene.cover != WATER), scene.dem)
    zone = signal.chip_layer(zone_map, store)[positive]
    cover = signal.chip_layer(scene.cover, store)[positive]
    inside = label & valid
    zones = {"source": inside & (zone == signature.SOURCE), "deposit": inside & (zone == signature.DEPOSIT),
             "landslide on forest": inside & (cover == FOREST), "landslide on grass, crops": inside & (cover == GRASS),
             "landslide on bare": inside & (cover == BARE), "outside": ~label & valid}
    out = {"chips": int(positive.sum()), "fraction": float(label[valid].mean()), "pol": {}}
    for pol in ("vv", "vh"):
        change = signal.log_ratio_db(store, pol)[positive]
        out["pol"][pol] = {
            "zones": signal.zone_statistics(change, zones),
            "auprc_pixel": signal.detector_auprc(store, pol, 1),
            "auprc_5x5": signal.detector_auprc(store, pol, 5),
        }
    out["stack"] = stack_detector(cube, spec)
    out["seconds"] = time.perf_counter() - started
    return out


def stack_detector(cube, spec: dict) -> dict:
    """Handwerger et al.'s published VH stack detector on the whole cube (signal.stack_change_db)."""
    change = signal.stack_change_db(cube, tuple(spec["event_date"]))
    slope_deg = np.degrees(cube["dem_slope_radians"].values)
    mask = cube["extraction_mask"].values.astype(bool) & (slope_deg >= signal.STACK_MIN_SLOPE_DEG)
    return signal.percentile_detection(change, cube["landslides"].values > 0, mask)


def tables(results: dict, config_name: str) -> str:
    lines = [f"Measured by `python scripts/twin_signal_report.py --config {config_name}` on the positive chips of "
             "each region's chip store (descending orbit as the config keeps it, log means of the "
             "acquisitions before and after the event). Change in dB, after minus before: mean +- std "
             "(median; share of pixels above 0 dB).", "",
             "| region | pol | zone | pixels | change dB | median | > 0 dB | published |",
             "|---|---|---|---|---|---|---|---|"]
    for region, res in results.items():
        for pol, stats in res["pol"].items():
            for zone, s in stats["zones"].items():
                published = PUBLISHED_CHANGE.get((pol, zone), NONE_READ) if zone != "outside" else ""
                lines.append(f"| {region} | {pol.upper()} | {zone} | {s['n']} | {s['mean']:+.2f} +- {s['std']:.2f} "
                             f"| {s['median']:+.2f} | {s['above_zero']:.2f} | {published} |")
    lines += ["", "Pixel AUPRC of thresholding the decrease (no learning), on the positive chips:", "",
              "| region | chips | no skill | VV pixel | VV 5 x 5 | VH pixel | VH 5 x 5 | published, real event |",
              "|---|---|---|---|---|---|---|---|"]
    for region, res in results.items():
        vv, vh = res["pol"]["vv"], res["pol"]["vh"]
        lines.append(f"| {region} | {res['chips']} | {res['fraction']:.3f} | {vv['auprc_pixel']:.3f} | "
                     f"{vv['auprc_5x5']:.3f} | {vh['auprc_pixel']:.3f} | {vh['auprc_5x5']:.3f} | "
                     f"{PUBLISHED_DETECTOR.get(region, NONE_READ)} |")
    lines += ["", "The VH stack detector of Handwerger et al. (2022) with the settings of their published scripts "
              f"(median of every acquisition before and of the first {signal.STACK_POST_DAYS} days after, per "
              "orbit direction, averaged; slopes under "
              f"{signal.STACK_MIN_SLOPE_DEG:.0f} deg masked; the strongest {100 - signal.STACK_PERCENTILE:.0f} % "
              "of the decrease flagged), on the whole cube:", "",
              "| region | landslide share (slope mask) | threshold dB | precision | recall | F1 | AUPRC | "
              "published, real event |", "|---|---|---|---|---|---|---|---|"]
    for region, res in results.items():
        d = res["stack"]
        lines.append(f"| {region} | {d['no_skill']:.3f} | {d['threshold_db']:+.2f} | {d['precision']:.3f} | "
                     f"{d['recall']:.3f} | {d['f1']:.3f} | {d['auprc']:.3f} | "
                     f"{PUBLISHED_STACK.get(region, NONE_READ)} |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, body: str) -> None:
    text = path.read_text()
    if START not in text or END not in text:
        sys.exit(f"{path}: no section marked {START} ... {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{body}{END}{tail}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--regions", nargs="+", default=list(REGIONS))
    parser.add_argument("--write", type=Path, help="markdown file whose marked section is replaced")
    parser.add_argument("--exposed-db", nargs=2, type=float, metavar=("VV", "VH"),
                        help="what-if: every region's freshly exposed scar surface at these flat-ground levels "
                             "(dB) instead of its preset's; the report then describes no twin of the config")
    args = parser.parse_args(argv)
    if args.exposed_db and args.write:
        parser.error("--exposed-db describes a what-if, not the twin: it cannot --write the twin's report")
    if args.exposed_db:
        for region, preset in REGION_PRESETS.items():
            signature_spec = dataclasses.replace(preset.signature, exposed_db=tuple(args.exposed_db))
            REGION_PRESETS[region] = dataclasses.replace(preset, signature=signature_spec)
    config = read_config_file(ROOT / args.config if not Path(args.config).is_absolute() else Path(args.config))
    regions, chips = config["sar"]["regions"], config["sar"]["chips"]
    results = {}
    for region in args.regions:
        if region in regions and regions[region].get("source") == "synthetic":
            results[region] = measure(region, regions[region], chips)
            print(f"{region}: {results[region]['seconds']:.0f} s", file=sys.stderr)
    body = tables(results, args.config)
    if args.write:
        write_section(args.write, body)
    print(body)


if __name__ == "__main__":
    np.seterr(invalid="ignore", divide="ignore")
    main()
