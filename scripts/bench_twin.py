"""Benchmark: build a region's twin datacube and its chip store at the size config/twin.yaml gives it.

    python scripts/bench_twin.py [--region hokkaido] [--config config/twin.yaml] [--scale 1.0] [--out DIR]

Two steps, each in its own process so that each reports its own peak memory: (1) the synthetic cube
written as zarr (`make_datacube` + `write_datacube`, what rule `datacube` runs), (2) the chip store
(`open_datacube` + `build_chip_store` + `write_chip_store`, what rule `chip_store` runs, with the config's
chip settings). Prints wall time, peak RSS and size on disk of each step, and what the chip store holds:
chips, chips with landslides and their split, the landslide pixel fraction inside them (valid pixels, the
no-skill AUPRC of a positive-chip evaluation), and the landslide-free chips of each partition. The cube
and the store are deleted afterwards unless --keep. docs/twin.md records a run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def _disk_gb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024**3


def _region_spec(config_path: str, region: str, scale: float) -> tuple[dict, dict]:
    from landslides.config import load_config

    config = load_config(config_path)
    spec = dict(config["sar"]["regions"][region])
    if spec["source"] != "synthetic":
        raise SystemExit(f"{config_path}: region {region} is not synthetic")
    for key in ("height", "width"):
        spec[key] = max(128, int(round(spec[key] * scale / 128)) * 128)
    return spec, config["sar"]["chips"]


def step_cube(args) -> dict:
    from landslides.sar.synthetic import make_datacube, write_datacube

    spec, _ = _region_spec(args.config, args.region, args.scale)
    started = time.perf_counter()
    cube = make_datacube(args.region, height=spec["height"], width=spec["width"], seed=spec["seed"],
                         looks=spec["looks"])
    write_datacube(cube, args.out / "cube.zarr")
    return {"step": "datacube", "height": spec["height"], "width": spec["width"], "seed": spec["seed"],
            "timesteps": cube.sizes["timestep"], "timepairs": cube.sizes["timepair"],
            "wall_s": round(time.perf_counter() - started, 1), "peak_rss_gb": round(_peak_gb(), 2),
            "disk_gb": round(_disk_gb(args.out / "cube.zarr"), 2)}


def step_chips(args) -> dict:
    import numpy as np

    from landslides.sar.chips import build_chip_store, write_chip_store
    from landslides.sar.selection import chip_partition
    from landslides.sar.validate import open_datacube

    spec, chips = _region_spec(args.config, args.region, args.scale)
    started = time.perf_counter()
    cube = open_datacube(args.out / "cube.zarr", event_date=tuple(spec["event_date"]))
    store = build_chip_store(
        cube, name=args.region, event_date=tuple(spec["event_date"]), orbit=spec["orbit"],
        n_looks_before=chips["n_looks_before"], n_looks_after=chips["n_looks_after"],
        skip_last_pre=chips["skip_last_pre"], channels=chips["channels"], chip_size=chips["size"],
        split_fractions=tuple(chips["split_fractions"]), split_seed=chips["split_seed"])
    write_chip_store(store, args.out / "chips.zarr")
    wall = time.perf_counter() - started
    positive = store["has_landslide"].values.astype(bool)
    label, valid = store["label"].values[positive], store["valid"].values[positive].astype(bool)
    split = store["split_positive"].values.astype(str)[positive]
    partition = chip_partition(store)
    return {
        "step": "chip_store", "wall_s": round(wall, 1), "peak_rss_gb": round(_peak_gb(), 2),
        "disk_gb": round(_disk_gb(args.out / "chips.zarr"), 2),
        "chips": int(store.sizes["chip"]), "positive_chips": int(positive.sum()),
        "positive_split": {s: int((split == s).sum()) for s in ("train", "val", "test")},
        "landslide_fraction_in_positive_chips": round(float(label[valid].mean()), 4),
        "mean_chip_landslide_fraction": round(float(store["landslide_fraction"].values[positive].mean()), 4),
        "landslide_free_by_partition": {s: int(((partition == s) & ~positive).sum())
                                        for s in ("train", "val", "test")},
        "chip_fraction_percentiles_10_50_90": [round(float(v), 4) for v in np.percentile(
            store["landslide_fraction"].values[positive], [10, 50, 90])],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=["cube", "chips"], help=argparse.SUPPRESS)
    parser.add_argument("--region", default="hokkaido")
    parser.add_argument("--config", default=str(ROOT / "config" / "twin.yaml"))
    parser.add_argument("--scale", type=float, default=1.0, help="linear scale of the config's cube size")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the cube and the chip store")
    args = parser.parse_args(argv)
    if args.step:  # a child process: one step, one JSON line
        print(json.dumps(step_cube(args) if args.step == "cube" else step_chips(args)))
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix=f"bench_twin_{args.region}_"))
    out.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for step in ("cube", "chips"):
            cmd = [sys.executable, __file__, step, "--region", args.region, "--config", args.config,
                   "--scale", str(args.scale), "--out", str(out)]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
