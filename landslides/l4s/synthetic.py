"""Synthetic Landslide4Sense data in the benchmark's own layout: the twin of the benchmark (docs/twin.md).

Nothing here is a substitute for the real benchmark, but at 3799 / 245 / 800 patches it has the
benchmark's size, its class ratio (about 2 % landslide pixels) and the per-band statistics of the real
sample patches, with landslides as bare soil/rock on steep slopes among vegetation, and train and val/test
differing in gain and land cover as the real splits do.

Value scale: the real patches are released divided by a per-band constant. All spectral constants below
were measured on the 14 real sample patches listed in docs/sources.md (4 of them are in
data/landslide4sense-samples; all pixels pooled; see docs/normalization.md): SAMPLE_MEAN/SAMPLE_STD per
band, and three endmember spectra (mean of the pixels with the highest / lowest 20 % / 5 % of
z(B8) - z(B4), and of pixels dark in both B8 and B11), so synthetic spectra sit on the released scale;
the samples' mean spectrum is a mixture of those endmembers (COMPOSITION), which patches draw around.
"""

from pathlib import Path

import h5py
import numpy as np

from landslides.errors import InputError
from landslides.files import atomic_dir
from landslides.l4s.dataset import N_BANDS, SPLIT_DIRS

# Per-band mean/std of the 14 real sample patches (B1..B12 without B8A, slope, dem), released scale.
SAMPLE_MEAN = np.array(
    [0.9881, 1.0226, 1.1036, 1.2288, 1.3205, 1.1175, 1.0451, 1.0672, 1.6714, 4.0553, 1.2843, 1.4144,
     1.1333, 1.6405]
)
SAMPLE_STD = np.array(
    [0.1571, 0.2194, 0.2922, 0.5405, 0.4105, 0.2886, 0.2798, 0.3082, 0.6550, 6.2808, 0.4981, 0.7827,
     0.5603, 1.1129]
)

# Endmember spectra of the 12 optical bands, measured on the real samples (see module docstring).
# Vegetation: top 20 % of z(B8) - z(B4): high NIR (B8), low red (B4).
VEGETATION = np.array([0.927, 0.941, 1.065, 1.032, 1.359, 1.404, 1.340, 1.427, 2.326, 0.0, 1.352, 1.291])
# Bare soil / rock: bottom 5 % of z(B8) - z(B4): bright red and SWIR, low NIR.
BARE = np.array([1.228, 1.490, 1.757, 2.717, 2.078, 1.099, 0.962, 0.953, 1.156, 0.0, 2.141, 3.402])
# Mixed ground (sparse vegetation, fields, settlements): the middle 20 % of z(B8) - z(B4).
MIXED = np.array([0.975, 0.990, 1.046, 1.095, 1.236, 1.088, 1.021, 1.034, 1.608, 0.0, 1.164, 1.188])
# Dark surfaces (water, deep shadow): z(B8) < -1.5 and z(B11) < -1.5, about 4 % of sample pixels.
DARK = np.array([0.833, 0.774, 0.664, 0.608, 0.557, 0.459, 0.423, 0.394, 0.973, 0.0, 0.374, 0.376])
# B10 (cirrus, index 9) is not a surface property: it is drawn per patch (heavy tailed, as in the samples,
# where it has mean 4.06 and std 6.28 with outliers near 50), so the endmembers leave it at 0.
B10 = 9
B9 = 8
RED_EDGE_NIR = slice(4, 9)  # B5, B6, B7, B8, B9
OPTICAL = slice(0, 12)
SLOPE, DEM = 12, 13

# Mean abundances of the four endmembers in the real samples: the non-negative mixture (summing to 1) of
# VEGETATION, MIXED, BARE and DARK closest to SAMPLE_MEAN over the 11 surface bands (residual below 0.01 in
# every band, docs/twin.md). Patches draw their composition around these, so the released value scale
# and the per-band means of the samples come out of the mixture, not out of a fitted offset.
COMPOSITION = {"vegetation": 0.195, "mixed": 0.644, "bare": 0.110, "dark": 0.051}
# Sharpness of the transitions between covers (logistic slope per std of the cover field): a 10 m pixel
# is mostly one cover, which is what gives the samples' per-band spread (e.g. B4 std 0.54 at mean 1.23).
EDGE = 8.0

# Landslides per patch ~ Poisson(LANDSLIDES_PER_PATCH); with the ellipse sizes below this gives about
# 2 % landslide pixels per split, the benchmark's 49 background pixels per landslide pixel [Zhao, Fig. 1(b)].
LANDSLIDES_PER_PATCH = 2.1


def _split_params(seed: int, split_index: int) -> dict:
    """Seeded per-split acquisition and landscape settings: the source of the train/val/test shift.

    Every split draws its own values from the same ranges around the samples' composition (train
    included); nothing is chosen to favour any normalization or model.
    """
    rng = np.random.default_rng([seed, split_index, 7919])
    return {
        "gain": rng.uniform(0.85, 1.15) * rng.uniform(0.93, 1.07, size=12),  # illumination x band gain
        "vegetation": COMPOSITION["vegetation"] + rng.uniform(-0.1, 0.1),  # vegetated share of the ground
        # Bare ground besides landslides (fields, riverbeds, rock, settlements): the samples' bare share
        # less the landslides' own 2 %.
        "bare": (COMPOSITION["bare"] - 0.02) * rng.uniform(0.7, 1.3),
        "cirrus": rng.uniform(0.8, 1.25),  # haze level multiplier for B10
        "dem_shift": rng.uniform(-0.4, 0.4),  # regions at different altitude
    }


def _smooth_fields(rng: np.random.Generator, count: int, size: int, length: float) -> np.ndarray:
    """`count` Gaussian-correlated random fields (size x size), zero mean, unit std, via FFT filtering."""
    noise = rng.standard_normal((count, size, size))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    transfer = np.exp(-2.0 * (np.pi * length) ** 2 * (fx**2 + fy**2))
    fields = np.fft.irfft2(np.fft.rfft2(noise) * transfer, s=(size, size))
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    fields /= fields.std(axis=(1, 2), keepdims=True) + 1e-12
    return fields


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _share(field: np.ndarray, share: float) -> np.ndarray:
    """Abundance in [0, 1] covering about `share` of the patch: the highest values of `field`, soft-edged."""
    share = float(np.clip(share, 0.0, 1.0))
    if share <= 0.0:
        return np.zeros_like(field)
    return _sigmoid(EDGE * (field - np.quantile(field, 1.0 - share)))


def _terrain(rng: np.random.Generator, field: np.ndarray, dem_shift: float) -> tuple:
    """DEM and slope bands on the released scale from one smooth field; slope grows with |grad DEM|.

    The samples' slope band varies little within a patch (hillslopes of one landscape: within-patch
    coefficient of variation about 0.3) and much between patches (patch means 0.25-1.77), their DEM
    band from lowlands to mountains (mean 1.64, std 1.11): ruggedness and base altitude are drawn per
    patch, and the slope is |grad DEM| compressed (power 0.55) to the samples' within-patch spread.
    """
    ruggedness = rng.uniform(0.35, 1.9)  # per-patch mean slope
    base = max(0.05, 0.8 * rng.lognormal(0.0, 0.8) + dem_shift)
    dem = base + 0.3 * ruggedness * (field - field.min())
    gy, gx = np.gradient(dem)
    grad = np.hypot(gx, gy) ** 0.55
    slope = ruggedness * grad / (grad.mean() + 1e-12)
    return dem, slope, (gy, gx)


def _landslide_mask(rng: np.random.Generator, slope: np.ndarray, grads, rough: np.ndarray) -> np.ndarray:
    """Elongated blobs along the downslope direction, centred preferably on steep pixels."""
    size = slope.shape[0]
    mask = np.zeros(slope.shape, dtype=bool)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    weights = slope.ravel() ** 5  # strong preference for steep ground
    weights /= weights.sum()
    scale = size / 128.0
    for _ in range(rng.poisson(LANDSLIDES_PER_PATCH)):
        centre = rng.choice(slope.size, p=weights)
        cy, cx = divmod(int(centre), size)
        gy, gx = grads[0][cy, cx], grads[1][cy, cx]
        angle = np.arctan2(gy, gx)  # long axis along the gradient = the runout direction
        along = rng.uniform(5.0, 16.0) * scale
        across = along * rng.uniform(0.3, 0.6)
        dy, dx = yy - cy, xx - cx
        u = dx * np.cos(angle) + dy * np.sin(angle)
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        # The rough field makes outlines irregular instead of perfect ellipses.
        mask |= (u / along) ** 2 + (v / across) ** 2 < 1.0 + 0.35 * rough
    return mask


def _patch(rng: np.random.Generator, params: dict, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One patch: image (size, size, 14) float64 on the released scale and mask (size, size) uint8."""
    terrain_f, cover_f, bare_f, rough_f = _smooth_fields(rng, 4, size, length=size / 10.0)
    dem, slope, grads = _terrain(rng, terrain_f, params["dem_shift"])
    landslide = _landslide_mask(rng, slope, grads, rough_f)

    # Ground cover abundances (sum to 1) around the split's composition: vegetation, bare ground (fields,
    # riverbeds, rock, settlements; rather on gentle ground), water or deep shadow in the lowest ground of
    # some patches, mixed ground elsewhere.
    veg_share = np.clip(params["vegetation"] + rng.normal(0.0, 0.18), 0.02, 0.9)
    bare_share = min(params["bare"] * rng.lognormal(-0.125, 0.5), 0.5)  # mean: the split's share
    veg = _share(cover_f, veg_share)
    gentle = bare_f - 0.5 * (slope - slope.mean()) / (slope.std() + 1e-12)
    bare = (1.0 - veg) * _share(gentle, bare_share / max(1.0 - veg_share, 0.1))
    dark = np.zeros_like(veg)
    if rng.random() < 0.3:  # some patches hold a lake, a river or a deep shadow in their lowest ground
        dark = _share(-dem, rng.uniform(0.05, 0.3))
    mixed = (1.0 - veg - bare) * (1.0 - dark)
    veg, bare = veg * (1.0 - dark), bare * (1.0 - dark)

    # Landslide pixels: fresh bare soil/rock with a little remaining vegetation.
    remnant = rng.uniform(0.0, 0.3)
    ls = landslide.astype(np.float64)
    veg, mixed, dark = veg * (1 - ls) + remnant * ls, mixed * (1 - ls), dark * (1 - ls)
    bare = bare * (1 - ls) + (1.0 - remnant) * ls

    cover = np.stack([veg, mixed, bare, dark], axis=-1)  # (H, W, 4)
    # Vegetation vigour (leaf area, season) moves the red-edge and NIR plateau of the canopy from scene to
    # scene; the water-vapour band B9 follows each scene's humidity.
    vigour = VEGETATION.copy()
    vigour[RED_EDGE_NIR] *= rng.lognormal(0.0, 0.15)
    spectra = np.stack([vigour, MIXED, BARE, DARK])  # (4, 12)
    optical = cover @ spectra
    optical[..., B9] *= rng.lognormal(-0.045, 0.3)
    # Shared per-pixel brightness (band correlated, as in real imagery) plus small independent noise.
    brightness = 1.0 + 0.08 * rng.standard_normal((size, size, 1))
    optical = optical * brightness + 0.04 * SAMPLE_STD[OPTICAL] * rng.standard_normal((size, size, 12))
    optical *= params["gain"] * rng.uniform(0.85, 1.15)  # per-scene illumination

    image = np.empty((size, size, N_BANDS), dtype=np.float64)
    image[..., OPTICAL] = np.maximum(optical, 0.01)
    # Haze: lognormal across patches with the samples' mean (4.06) and heavy tail (std 6.28).
    cirrus = params["cirrus"] * rng.lognormal(mean=0.83, sigma=1.05)
    image[..., B10] = cirrus * (1.0 + 0.05 * rng.standard_normal((size, size)))
    image[..., SLOPE] = slope
    image[..., DEM] = dem
    return image, landslide.astype(np.uint8)


def _write_h5(path: Path, name: str, data: np.ndarray) -> None:
    # track_times=False keeps timestamps out of the file, so the same seed gives the same bytes.
    with h5py.File(path, "w") as h5:
        h5.create_dataset(name, data=data, track_times=False)


def write_synthetic_l4s(
    root: Path, *, n_train: int, n_val: int, n_test: int, seed: int, size: int = 128
) -> dict[str, float]:
    """Write TrainData/ValidData/TestData (img + mask) under `root`; return the landslide fraction per split.

    The tree is built in a temporary sibling folder and renamed into place, so `root` is either absent,
    or complete. An existing non-empty `root` is refused rather than overwritten.
    """
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise InputError(f"{root}: output folder exists and is not empty")
    fractions = {}
    with atomic_dir(root) as tmp:
        counts = {"train": n_train, "val": n_val, "test": n_test}
        for split_index, (split, count) in enumerate(counts.items()):
            params = _split_params(seed, split_index)
            img_dir, mask_dir = tmp / SPLIT_DIRS[split] / "img", tmp / SPLIT_DIRS[split] / "mask"
            img_dir.mkdir(parents=True)
            mask_dir.mkdir()
            landslide_pixels = 0
            for n in range(1, count + 1):
                # One generator per patch: a patch does not depend on how many patches precede it.
                rng = np.random.default_rng([seed, split_index, n])
                image, mask = _patch(rng, params, size)
                _write_h5(img_dir / f"image_{n}.h5", "img", image)
                _write_h5(mask_dir / f"mask_{n}.h5", "mask", mask)
                landslide_pixels += int(mask.sum())
            fractions[split] = landslide_pixels / max(1, count * size * size)
    return fractions
