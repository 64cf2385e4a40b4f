"""ridgei: the qualitative panel (scene, labels and each method's map)."""

from __future__ import annotations

import shutil

import numpy as np
import rioxarray
from affine import Affine

from landslides.studies.ridgei.data import Area, SceneParts, mosaic_areas
from landslides.studies.ridgei.plan import METHODS


def plot_qualitative(parts: SceneParts, map_paths: dict[str, str], png: str, pdf: str, source: str = "",
                     flagged: dict[str, str] | None = None) -> None:
    """Test-half image, ground truth and the three detection maps side by side, north up, scale bar in m.

    For a tile folder: a grid, one row per shown test tile (see _figure_tiles) and the same five columns;
    north arrow and scale bar only where the tiles are georeferenced. `flagged`: method -> the sanity checks'
    problems of its shown run, written in red under its title.
    """
    from landslides.plots import add_footer, add_scale_bar, plt, save_figure
    flagged = flagged or {}
    if parts.tiles:
        _plot_tile_grid(parts, map_paths, png, pdf, source, flagged)
        return
    rgb = np.stack([mosaic_areas([_display_band(a.image[b]) for a in parts.test], parts.test)[0]
                    for b in range(3)], axis=-1)
    truth, transform = mosaic_areas([a.label.astype(np.float32) for a in parts.test], parts.test)
    panels = [("test-half image", np.nan_to_num(rgb, nan=1.0), None, ""), ("ground truth", truth, None, "")]
    for method in METHODS:
        panels.append((TITLES[method], _read_map(map_paths[method]), truth, flagged.get(method, "")))
    north_up = transform.e < 0  # rows run southwards on a north-up grid; flip otherwise
    # Each panel as wide as the test half's shape asks (a half is tall and narrow): no blank between panels.
    height = 4.0
    width = height * truth.shape[1] / truth.shape[0]
    fig, axes = plt.subplots(1, len(panels), figsize=(len(panels) * (width + 0.25) + 0.3, height + 1.1),
                             layout="constrained")
    for ax, (title, image, outline, problem) in zip(axes, panels, strict=True):
        shown = image if north_up else image[::-1]
        if shown.ndim == 3:
            ax.imshow(shown, interpolation="nearest")
        else:
            ax.imshow(np.ma.masked_invalid(shown), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        if outline is not None and outline.any():
            ax.contour(np.nan_to_num(outline if north_up else outline[::-1]), levels=[0.5], colors="cyan",
                       linewidths=0.6)
        ax.set_title(title, fontsize=9)
        if problem:
            _flag_panel(ax, problem)
        ax.set_xticks([])
        ax.set_yticks([])
        add_scale_bar(ax, shown.shape[1], parts.resolution_m)
    axes[0].annotate("N ↑", xy=(0.93, 0.95), xycoords="axes fraction", color="white", fontsize=8, ha="right",
                     va="top")
    fig.suptitle("Test half: detections (1 = landslide, yellow) with the true outline (cyan)", fontsize=9)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


FIGURE_TILES = 8  # test tiles in the tile-folder figure: mostly with landslides, a quarter without


TITLES = {"classifier": "ResNet50 patch classifier", "deeplab": "DeepLabV3+", "anomaly": "anomaly U-Net"}


def _flag_panel(ax, problem: str) -> None:
    """A red frame and the sanity checks' finding under the panel: this map does not show what the method can do."""
    for spine in ax.spines.values():
        spine.set_edgecolor("#b91c1c")
        spine.set_linewidth(2)
    ax.text(0.5, -0.02, f"FLAGGED: {problem}\n(not what the method can do)", transform=ax.transAxes, ha="center",
            va="top", fontsize=7, color="#b91c1c")


def _figure_tiles(areas: list[Area], count: int = FIGURE_TILES) -> list[int]:
    """Indices of the test tiles to show: up to a quarter landslide-free (first in name order), the rest
    with landslides, evenly spread over their landslide fraction (highest first)."""
    with_landslides = sorted((i for i, a in enumerate(areas) if a.label.any()), key=lambda i: -areas[i].label.mean())
    free = [i for i, a in enumerate(areas) if not a.label.any()]
    n_free = min(len(free), max(count // 4, count - len(with_landslides)))
    n_landslide = min(len(with_landslides), count - n_free)
    spread = np.unique(np.linspace(0, len(with_landslides) - 1, n_landslide).round().astype(int)) \
        if n_landslide else []
    return [with_landslides[i] for i in spread] + free[:n_free]


def _plot_tile_grid(parts: SceneParts, map_paths: dict[str, str], png: str, pdf: str, source: str = "",
                    flagged: dict[str, str] | None = None) -> None:
    from landslides.plots import add_footer, add_scale_bar, plt, save_figure
    maps = {method: _read_map_and_transform(map_paths[method]) for method in METHODS}
    shown = _figure_tiles(parts.test)
    columns = ["image", "ground truth"] + [TITLES[method] for method in METHODS]
    fig, axes = plt.subplots(len(shown), len(columns), figsize=(2.0 * len(columns), 2.0 * len(shown) + 0.5),
                             squeeze=False, layout="constrained")
    for row, index in enumerate(shown):
        area = parts.test[index]
        rgb = np.stack([_display_band(area.image[b]) for b in range(3)], axis=-1)
        truth = area.label.astype(np.float32)
        panels = [(rgb, None), (truth, None)] + [(_window(*maps[method], area), truth) for method in METHODS]
        for col, (image, outline) in enumerate(panels):
            ax = axes[row, col]
            if image.ndim == 3:
                ax.imshow(image, interpolation="nearest")
            else:
                ax.imshow(np.ma.masked_invalid(image), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
            if outline is not None and outline.any():
                ax.contour(outline, levels=[0.5], colors="cyan", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                method = METHODS[col - 2] if col >= 2 else None
                problem = (flagged or {}).get(method, "")
                ax.set_title(columns[col] + (f"\nFLAGGED: {problem}" if problem else ""), fontsize=8,
                             color="#b91c1c" if problem else "black")
        height, width = area.label.shape
        axes[row, 0].set_ylabel(f"{area.name}\n{height}x{width} px, {area.label.mean():.1%}", fontsize=7)
        if parts.georeferenced:  # only then do metres and north mean anything
            add_scale_bar(axes[row, 0], width, parts.resolution_m)
            if area.transform.e < 0:
                axes[row, 0].annotate("N ↑", xy=(0.93, 0.95), xycoords="axes fraction", color="white", fontsize=7,
                                      ha="right", va="top")
    fig.suptitle(f"{len(shown)} of {len(parts.test)} test tiles: detections (1 = landslide, yellow) with the true "
                 "outline (cyan);\nwhite: not predicted (classifier: edge strips narrower than a patch); row label: "
                 "tile, size, landslide fraction", fontsize=8)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def _read_map_and_transform(path: str) -> tuple[np.ndarray, Affine]:
    with rioxarray.open_rasterio(path) as data:
        return data.values[0].astype(np.float32), data.rio.transform()


def _window(canvas: np.ndarray, transform: Affine, area: Area) -> np.ndarray:
    """The part of a mosaicked map that covers `area`."""
    col, row = ~transform @ (area.transform.c, area.transform.f)
    row, col = int(round(row)), int(round(col))
    height, width = area.label.shape
    return canvas[row : row + height, col : col + width]


def _display_band(band: np.ndarray) -> np.ndarray:
    """One band scaled to [0, 1]: 8-bit as is, other data stretched between its 2nd and 98th percentile."""
    if band.dtype == np.uint8:
        return band.astype(np.float32) / 255.0
    low, high = np.percentile(band, [2, 98])
    return np.clip((band - low) / max(high - low, 1e-12), 0, 1).astype(np.float32)


def _read_map(path: str) -> np.ndarray:
    with rioxarray.open_rasterio(path) as data:
        return data.values[0].astype(np.float32)


def copy_maps(sources: dict[str, str], targets: dict[str, str]) -> None:
    """The first seed's detection maps, copied next to the figure."""
    for method, source in sources.items():
        shutil.copyfile(source, targets[method])
