"""Synthetic stand-in for the Ridge-i scene: a georeferenced RGB aerial image with a landslide label.

The real scene (Kimura, Ridge-i) is a large optical image of forested mountains with labelled
landslide scars. This module paints a plausible one from a seed so the workflow can run end to end
without the private data:

- fractal terrain with valleys carved along sinuous rivers, lit by a sun (hillshade);
- forest canopy: two forest types mixed at landscape scale, crown-sized texture with shadows;
- confounders that are not landslides: grey roads, gravel river bars, clear-cuts and fields;
- landslides: bare soil/rock lobes elongated downslope, seeded on steep slopes in all four
  quadrants (so both halves of any 0.5:0.5 split get some), about half with a debris tail.
  Their colour, freshness and size vary; no property is tuned to favour any detection method.

Same seed and arguments give the same arrays and the same GeoTIFF bytes.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from PIL import Image, ImageDraw, ImageFilter

from landslides.files import atomic_path
from landslides.scene.noise import fractal_noise, hillshade, slope_degrees

DEFAULT_CRS = "EPSG:32654"  # UTM 54N, covers Hokkaido
DEFAULT_ORIGIN = (540_000.0, 4_750_000.0)  # upper-left corner (easting, northing) in metres

# Reflectance-like base colours (RGB, 0-255 before shading).
CONIFER = (38.0, 62.0, 36.0)
BROADLEAF = (74.0, 102.0, 48.0)
GRASS = (118.0, 132.0, 78.0)
BARE_FIELD = (150.0, 128.0, 98.0)
ROAD = (128.0, 127.0, 122.0)
WATER = (52.0, 72.0, 70.0)
GRAVEL = (172.0, 168.0, 158.0)
SOIL = (170.0, 140.0, 106.0)
ROCK = (156.0, 151.0, 142.0)
DEBRIS = (136.0, 116.0, 92.0)


@dataclass
class SceneLayers:
    """Everything the generator computed; tests use elevation and slope to check realism."""

    image: np.ndarray  # (3, y, x) uint8 RGB
    label: np.ndarray  # (y, x) uint8, 1 = landslide
    elevation_m: np.ndarray  # (y, x) float32
    slope_deg: np.ndarray  # (y, x) float32


def make_scene(
    *,
    height: int,
    width: int,
    seed: int,
    resolution_m: float = 0.5,
    crs: str = DEFAULT_CRS,
    origin: tuple[float, float] = DEFAULT_ORIGIN,
    sun_azimuth_deg: float = 135.0,
    sun_elevation_deg: float = 45.0,
) -> tuple[xr.DataArray, xr.DataArray]:
    """Return (image (band, y, x) uint8 RGB, label (y, x) uint8 0/1), georeferenced in `crs`."""
    layers = simulate_layers(
        height=height,
        width=width,
        seed=seed,
        resolution_m=resolution_m,
        sun_azimuth_deg=sun_azimuth_deg,
        sun_elevation_deg=sun_elevation_deg,
    )
    transform = Affine(resolution_m, 0.0, origin[0], 0.0, -resolution_m, origin[1])
    # Pixel-centre coordinates, as rioxarray expects.
    x = origin[0] + (np.arange(width) + 0.5) * resolution_m
    y = origin[1] - (np.arange(height) + 0.5) * resolution_m
    image = xr.DataArray(
        layers.image,
        dims=("band", "y", "x"),
        coords={"band": [1, 2, 3], "y": y, "x": x},
        name="image",
        attrs={"long_name": ("red", "green", "blue")},
    )
    label = xr.DataArray(
        layers.label, dims=("y", "x"), coords={"y": y, "x": x}, name="label", attrs={"long_name": "landslide"}
    )
    image = image.rio.write_crs(crs).rio.write_transform(transform)
    label = label.rio.write_crs(crs).rio.write_transform(transform)
    return image, label


def write_scene(image: xr.DataArray, label: xr.DataArray, image_path, label_path) -> None:
    """Write both rasters as GeoTIFFs, each to a temporary sibling first and then renamed."""
    for array, path in ((image, Path(image_path)), (label, Path(label_path))):
        _write_geotiff_atomically(array, path)


def _write_geotiff_atomically(array: xr.DataArray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        array.rio.to_raster(tmp, driver="GTiff", compress="DEFLATE", tiled=True)


def simulate_layers(
    *,
    height: int,
    width: int,
    seed: int,
    resolution_m: float = 0.5,
    sun_azimuth_deg: float = 135.0,
    sun_elevation_deg: float = 45.0,
) -> SceneLayers:
    """Paint the scene layer by layer; see the module docstring for what each layer is."""
    if height < 16 or width < 16:
        raise ValueError(f"synthetic scene must be at least 16x16 pixels, got {height}x{width}")
    rng = np.random.default_rng(seed)
    shape = (height, width)
    sun = {"azimuth_deg": sun_azimuth_deg, "elevation_deg": sun_elevation_deg}

    river_distances, river_widths = _rivers(shape, rng, resolution_m)
    elevation = _terrain(shape, rng, resolution_m, river_distances)
    slope = slope_degrees(elevation, resolution_m)

    # Bare ground gets sub-metre roughness; the canopy gets crown-sized bumps whose self-shadowing
    # gives forest its grainy texture. Crowns are shaded on a flat plane and multiplied with the
    # terrain shading so that the relief stays visible under the canopy.
    terrain_shade = hillshade(elevation, resolution_m, **sun)
    roughness = fractal_noise(shape, rng, beta=2.0, max_wavelength_px=4.0 / resolution_m)
    ground_shade = hillshade(elevation + 0.3 * roughness, resolution_m, **sun)
    crowns = fractal_noise(shape, rng, beta=2.5, max_wavelength_px=12.0 / resolution_m)
    crown_shade = hillshade(1.2 * crowns, resolution_m, **sun)
    canopy_shade = terrain_shade * (0.45 + 0.7 * crown_shade)
    del terrain_shade, roughness, crowns, crown_shade  # a paper-size scene holds 0.27 GB per layer

    image = _forest(shape, rng, resolution_m, canopy_shade)
    del canopy_shade
    _paint_fields(image, rng, resolution_m, ground_shade)
    _paint_roads(image, rng, resolution_m, ground_shade)
    _paint_rivers(image, rng, resolution_m, ground_shade, river_distances, river_widths)
    del river_distances

    target_fraction = rng.uniform(0.02, 0.05)
    label, scar_alpha, tail_alpha = _landslide_masks(rng, elevation, slope, resolution_m, target_fraction)
    _paint_landslides(image, rng, resolution_m, ground_shade, scar_alpha, tail_alpha)

    image += np.float32(1.5) * rng.standard_normal(image.shape, dtype=np.float32)  # sensor noise
    image_u8 = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return SceneLayers(image=image_u8, label=label, elevation_m=elevation, slope_deg=slope)


# --- terrain and rivers -------------------------------------------------------------------------


def _rivers(shape, rng, resolution_m) -> tuple[list[np.ndarray], list[float]]:
    """One or two sinuous rivers crossing the scene: their distance fields (pixels) and widths."""
    count = 1 + int(rng.random() < 0.5)
    distances = [_sinuous_line_distance(shape, rng) for _ in range(count)]
    widths = [max(2.0, rng.uniform(4.0, 10.0) / resolution_m) for _ in range(count)]
    return distances, widths


def _sinuous_line_distance(shape, rng) -> np.ndarray:
    """Approximate perpendicular distance to a meandering line running across the scene."""
    height, width = shape
    vertical = rng.random() < 0.5
    along_len, across_len = (height, width) if vertical else (width, height)
    s = np.arange(along_len, dtype=np.float32)
    centre = np.full(along_len, rng.uniform(0.2, 0.8) * across_len, dtype=np.float32)
    for k in (1, 2, 3):
        amplitude = rng.uniform(0.02, 0.08) * across_len / k
        wavelength = rng.uniform(0.4, 1.2) * along_len / k
        centre += amplitude * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi))
    # Distance along the cross axis, shortened by the local angle of the line.
    cosine = 1.0 / np.sqrt(1.0 + np.gradient(centre) ** 2)
    across = np.arange(across_len, dtype=np.float32)
    if vertical:
        return np.abs(across[None, :] - centre[:, None]) * cosine[:, None]
    return np.abs(across[:, None] - centre[None, :]) * cosine[None, :]


def _terrain(shape, rng, resolution_m, river_distances) -> np.ndarray:
    """Fractal relief with V-shaped valleys along the rivers, scaled to a mountainous median slope."""
    # Smooth below ~8 m: finer relief is added as ground roughness, and would otherwise make
    # every pixel look steep.
    relief = fractal_noise(shape, rng, beta=4.0, min_wavelength_px=max(2.0, 8.0 / resolution_m))
    valley_halfwidth = 0.25 * min(shape)
    for distance in river_distances:
        relief -= 1.5 * (1.0 - np.clip(distance / valley_halfwidth, 0.0, 1.0)) ** 1.3
    # Scale so the median slope is that of steep forested hills (the setting of the paper).
    grad_row, grad_col = np.gradient(relief)
    median_gradient = float(np.median(np.hypot(grad_row, grad_col)))
    target_slope = np.tan(np.radians(rng.uniform(18.0, 28.0)))
    metres_per_unit = target_slope * resolution_m / max(median_gradient, 1e-9)
    return (400.0 + relief * metres_per_unit).astype(np.float32)


# --- land cover -----------------------------------------------------------------------------------


def _colour(rgb) -> np.ndarray:
    return np.asarray(rgb, dtype=np.float32)[:, None, None]


def _forest(shape, rng, resolution_m, canopy_shade) -> np.ndarray:
    """Canopy colour: conifer/broadleaf mixture at stand scale, brightness from crown shading."""
    stands = fractal_noise(shape, rng, beta=3.0, min_wavelength_px=20.0 / resolution_m)
    broadleaf_weight = 1.0 / (1.0 + np.exp(-2.0 * stands))
    base = _colour(CONIFER) * (1.0 - broadleaf_weight) + _colour(BROADLEAF) * broadleaf_weight
    tint = 1.0 + 0.06 * fractal_noise(shape, rng, beta=2.0, max_wavelength_px=30.0 / resolution_m)
    return base * tint * (0.2 + 1.1 * canopy_shade)


def _blend(image: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> None:
    """Alpha-composite `colour` (3, y, x) over `image` in place."""
    image *= 1.0 - alpha
    image += colour * alpha


def _polygon_alpha(shape, polygons, fills, blur_px: float) -> np.ndarray:
    """Rasterize polygons (lists of (col, row)) with per-polygon opacity, feathered by a blur."""
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon, fill in zip(polygons, fills, strict=True):
        draw.polygon(polygon, fill=int(round(255 * fill)))
    if blur_px > 0:
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur_px))
    return np.asarray(canvas, dtype=np.float32) / 255.0


def _scene_area_km2(shape, resolution_m) -> float:
    return shape[0] * shape[1] * resolution_m**2 / 1e6


def _paint_fields(image, rng, resolution_m, ground_shade) -> None:
    """Clear-cuts and fields: jittered rotated rectangles of grass or bare soil."""
    shape = ground_shade.shape
    count = max(1, int(rng.poisson(3.0 * _scene_area_km2(shape, resolution_m))))
    polygons, fills, bare = [], [], []
    for _ in range(count):
        centre = (rng.uniform(0, shape[1]), rng.uniform(0, shape[0]))
        half_sizes = rng.uniform(15.0, 45.0, size=2) / resolution_m
        angle = rng.uniform(0, np.pi)
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * half_sizes
        corners += rng.normal(0, 0.1, corners.shape) * half_sizes
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        points = corners @ rotation.T + centre
        polygons.append([tuple(p) for p in points])
        fills.append(rng.uniform(0.8, 1.0))
        bare.append(rng.random() < 0.5)
    texture = 1.0 + 0.08 * fractal_noise(shape, rng, beta=1.5, max_wavelength_px=10.0 / resolution_m)
    shading = texture * (0.45 + 0.7 * ground_shade)
    for is_bare in (False, True):
        chosen = [i for i, b in enumerate(bare) if b == is_bare]
        if not chosen:
            continue
        alpha = _polygon_alpha(shape, [polygons[i] for i in chosen], [fills[i] for i in chosen], 1.5)
        colour = _colour(BARE_FIELD if is_bare else GRASS) * shading
        _blend(image, colour, alpha)


def _random_walk_polyline(rng, shape, step_px: float) -> list[tuple[float, float]]:
    """A gently curving line entering from a random edge and walking until it leaves the scene."""
    height, width = shape
    side = int(rng.integers(4))
    if side == 0:
        point, heading = (rng.uniform(0, width), 0.0), np.pi / 2
    elif side == 1:
        point, heading = (rng.uniform(0, width), float(height)), -np.pi / 2
    elif side == 2:
        point, heading = (0.0, rng.uniform(0, height)), 0.0
    else:
        point, heading = (float(width), rng.uniform(0, height)), np.pi
    heading += rng.uniform(-0.6, 0.6)
    points = [point]
    max_steps = int(4 * (height + width) / step_px) + 2
    for _ in range(max_steps):
        heading += rng.normal(0.0, 0.15)
        point = (point[0] + step_px * np.cos(heading), point[1] + step_px * np.sin(heading))
        points.append(point)
        if not (-step_px <= point[0] <= width + step_px and -step_px <= point[1] <= height + step_px):
            break
    return points


def _paint_roads(image, rng, resolution_m, ground_shade) -> None:
    """Grey forest roads drawn as polylines a few metres wide."""
    shape = ground_shade.shape
    count = 1 + int(rng.poisson(1.0 * _scene_area_km2(shape, resolution_m)))
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(count):
        line = _random_walk_polyline(rng, shape, step_px=25.0 / resolution_m)
        road_width = max(2, int(round(rng.uniform(4.0, 7.0) / resolution_m)))
        draw.line(line, fill=255, width=road_width, joint="curve")
    alpha = np.asarray(canvas.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32) / 255.0
    _blend(image, _colour(ROAD) * (0.7 + 0.4 * ground_shade), alpha)


def _paint_rivers(image, rng, resolution_m, ground_shade, distances, widths) -> None:
    """Dark water with patchy bright gravel bars along the banks."""
    shape = ground_shade.shape
    bars = fractal_noise(shape, rng, beta=3.0, min_wavelength_px=4.0 / resolution_m)
    for distance, river_width in zip(distances, widths, strict=True):
        bar_width = rng.uniform(2.0, 6.0) / resolution_m
        edge = distance - river_width / 2
        gravel_alpha = np.clip(1.0 - edge / bar_width, 0.0, 1.0) * (bars > 0.3)
        _blend(image, _colour(GRAVEL) * (0.6 + 0.5 * ground_shade), gravel_alpha.astype(np.float32))
        water_alpha = np.clip(0.5 - edge, 0.0, 1.0)  # one-pixel soft edge
        _blend(image, _colour(WATER) * (0.95 + 0.1 * ground_shade), water_alpha.astype(np.float32))


# --- landslides --------------------------------------------------------------------------------


def _landslide_masks(rng, elevation, slope, resolution_m, target_fraction):
    """Place landslides until `target_fraction` of the scene is labelled.

    Returns the binary label and two opacity maps (source scar, debris tail) for painting.
    """
    shape = slope.shape
    height, width = shape
    grad_row, grad_col = np.gradient(elevation)
    candidates, cell = _steep_candidates(elevation, resolution_m)
    label_canvas = Image.new("L", (width, height), 0)
    label_draw = ImageDraw.Draw(label_canvas)
    scars, scar_fills, tails, tail_fills = [], [], [], []
    target_pixels = target_fraction * height * width
    max_landslides = 10_000
    usable = [q for q in rng.permutation(len(candidates)) if len(candidates[q]) > 0]
    for _ in range(max_landslides):
        labelled = np.asarray(label_canvas)
        if not usable or np.count_nonzero(labelled) >= target_pixels:
            break
        # Feed the quadrant with the least landslide area so far, so that any half-split of the
        # scene gets a similar share (landslide sizes are heavy-tailed, counts alone are not enough).
        areas = [np.count_nonzero(labelled[_quadrant_slices(shape, q)]) for q in usable]
        pool = candidates[usable[int(np.argmin(areas))]]
        cell_row, cell_col = pool[rng.integers(len(pool))]
        row = min(height - 1, int(cell_row + rng.integers(cell)))
        col = min(width - 1, int(cell_col + rng.integers(cell)))
        length, breadth = _landslide_size(rng, resolution_m, shape)
        direction = _downslope(grad_row, grad_col, row, col, radius=max(2, int(length / 3)))
        freshness = rng.uniform(0.7, 1.0)
        scar = _lobe(rng, (row, col), direction, length, breadth)
        scars.append(scar)
        scar_fills.append(freshness)
        label_draw.polygon(scar, fill=1)
        if rng.random() < 0.5:
            tail = _debris_tail(rng, grad_row, grad_col, (row, col), direction, length, breadth, shape)
            tails.append(tail)
            tail_fills.append(freshness * rng.uniform(0.7, 0.95))
            label_draw.polygon(tail, fill=1)
    label = (np.asarray(label_canvas) > 0).astype(np.uint8)
    scar_alpha = _polygon_alpha(shape, scars, scar_fills, blur_px=1.2)
    tail_alpha = _polygon_alpha(shape, tails, tail_fills, blur_px=1.5)
    return label, scar_alpha, tail_alpha


def _steep_candidates(elevation: np.ndarray, resolution_m: float) -> tuple[list[np.ndarray], int]:
    """Pixel origins of the steepest ~10 m cells, one (n, 2) array per quadrant.

    Slope is judged on cells about the size of a small landslide, not on single pixels, where
    fine-scale relief noise would hide which hillsides are steep.
    """
    height, width = elevation.shape
    cell = max(1, int(round(10.0 / resolution_m)))
    if height // cell < 4 or width // cell < 4:
        cell = 1
    cells_y, cells_x = height // cell, width // cell
    coarse = (
        elevation[: cells_y * cell, : cells_x * cell].reshape(cells_y, cell, cells_x, cell).mean(axis=(1, 3))
    )
    coarse_slope = slope_degrees(coarse, resolution_m * cell)
    pools = []
    for row_start, row_stop in ((0, cells_y // 2), (cells_y // 2, cells_y)):
        for col_start, col_stop in ((0, cells_x // 2), (cells_x // 2, cells_x)):
            # Steepest 30% within each quadrant, so a quadrant that is a broad valley still gets
            # a few landslides on its steepest sides and both halves of any split hold some.
            quadrant = coarse_slope[row_start:row_stop, col_start:col_stop]
            rows, cols = np.nonzero(quadrant >= np.percentile(quadrant, 70))
            pools.append(np.stack([rows + row_start, cols + col_start], axis=1) * cell)
    return pools, cell


def _quadrant_slices(shape, quadrant: int) -> tuple[slice, slice]:
    """Rows and columns of quadrant 0-3 (row-major: top-left, top-right, bottom-left, bottom-right)."""
    height, width = shape
    rows = slice(0, height // 2) if quadrant < 2 else slice(height // 2, height)
    cols = slice(0, width // 2) if quadrant % 2 == 0 else slice(width // 2, width)
    return rows, cols


def _landslide_size(rng, resolution_m, shape) -> tuple[float, float]:
    """Length (downslope) and breadth in pixels: lognormal around 50 m, capped by the scene size."""
    length_m = float(np.clip(rng.lognormal(np.log(50.0), 0.5), 15.0, 250.0))
    breadth_m = length_m * rng.uniform(0.25, 0.55)
    # In a small scene shrink the whole landslide, keeping its shape, so several fit in each quadrant.
    shrink = min(1.0, max(6.0, min(shape) / 6) / (length_m / resolution_m))
    length = max(6.0, shrink * length_m / resolution_m)
    breadth = max(4.0, shrink * breadth_m / resolution_m)
    return length, breadth


def _downslope(grad_row, grad_col, row, col, radius) -> tuple[float, float]:
    """Unit (row, col) vector pointing downhill, averaged over a window to ignore small bumps."""
    rows = slice(max(0, row - radius), row + radius + 1)
    cols = slice(max(0, col - radius), col + radius + 1)
    d_row = -float(grad_row[rows, cols].mean())
    d_col = -float(grad_col[rows, cols].mean())
    norm = np.hypot(d_row, d_col)
    if norm == 0:
        return 1.0, 0.0
    return d_row / norm, d_col / norm


def _lobe(rng, centre, direction, length, breadth, head_widening=0.25) -> list[tuple[float, float]]:
    """Irregular elongated outline along `direction`, wider at its upslope (head scarp) end."""
    t = np.linspace(0.0, 2 * np.pi, 36, endpoint=False)
    wobble = np.ones_like(t)
    for k in (2, 3, 4, 6, 9):
        wobble += rng.uniform(0.0, 0.3 / k) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    along = -0.5 * length * np.cos(t) * wobble  # negative = upslope
    across = 0.5 * breadth * np.sin(t) * wobble * (1.0 + head_widening * np.cos(t))
    d_row, d_col = direction
    rows = centre[0] + along * d_row - across * d_col
    cols = centre[1] + along * d_col + across * d_row
    return list(zip(cols.tolist(), rows.tolist(), strict=True))


def _debris_tail(rng, grad_row, grad_col, centre, direction, length, breadth, shape):
    """Narrower runout lobe starting at the scar's toe and following the local downslope."""
    toe_row = centre[0] + 0.4 * length * direction[0]
    toe_col = centre[1] + 0.4 * length * direction[1]
    r = int(np.clip(toe_row, 0, shape[0] - 1))
    c = int(np.clip(toe_col, 0, shape[1] - 1))
    tail_direction = _downslope(grad_row, grad_col, r, c, radius=max(2, int(length / 4)))
    tail_length = length * rng.uniform(0.5, 1.5)
    tail_breadth = breadth * rng.uniform(0.35, 0.7)
    tail_centre = (
        toe_row + 0.5 * tail_length * tail_direction[0],
        toe_col + 0.5 * tail_length * tail_direction[1],
    )
    return _lobe(rng, tail_centre, tail_direction, tail_length, tail_breadth, head_widening=0.2)


def _paint_landslides(image, rng, resolution_m, ground_shade, scar_alpha, tail_alpha) -> None:
    """Bare soil and rock on the scars; darker debris mixed with uprooted vegetation on the tails."""
    shape = ground_shade.shape
    rockiness = fractal_noise(shape, rng, beta=2.5, max_wavelength_px=20.0 / resolution_m)
    rock_weight = np.clip(0.5 + 0.35 * rockiness, 0.0, 1.0)
    bare = _colour(SOIL) * (1.0 - rock_weight) + _colour(ROCK) * rock_weight
    shading = 0.45 + 0.75 * ground_shade
    remnants = fractal_noise(shape, rng, beta=1.5, max_wavelength_px=6.0 / resolution_m)
    tail_cover = tail_alpha * np.clip(0.75 + 0.3 * remnants, 0.0, 1.0)
    _blend(image, _colour(DEBRIS) * shading, tail_cover)
    _blend(image, bare * shading, scar_alpha)
