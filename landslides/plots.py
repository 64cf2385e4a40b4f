"""Figures shared by the studies: consistent colors per arm, labelled axes, a data-source footer, PNG and PDF."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.patheffects as path_effects  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

# One color per arm, the same in every study's figures.
ARM_COLORS = {
    "SAR": "#1b9e77", "SAR & DEM": "#d95f02", "SAR (AUG)": "#7570b3", "SAR & DEM (AUG)": "#e7298a",
    "no-skill": "#999999", "none": "#666666", "hokkaido": "#1b9e77", "kaikoura": "#d95f02",
}
# Probability maps: magma, grey where there are no data (outside the extraction mask), so that a white scale bar
# reads there too.
PROBABILITY_CMAP = matplotlib.colormaps["magma"].with_extremes(bad="#c8c8c8")
FOOTER_GAP_IN = 0.08  # between the lowest drawn element and the footer text
# White strokes with a black rim: readable on dark and on bright images alike.
OUTLINED = [path_effects.withStroke(linewidth=2.2, foreground="black")]


def arm_color(name: str, index: int = 0) -> str:
    return ARM_COLORS.get(name, sns.color_palette("tab10")[index % 10])


def add_footer(fig, text: str, fontsize: float = 7) -> None:
    """A line (wrapped to the figure's width) under the figure: where its data came from, and what the marks
    mean. bbox_inches='tight' in save_figure keeps it inside the saved image."""
    if not text:
        return
    width_in, height_in = fig.get_size_inches()
    # Under everything drawn so far (tick labels and axis labels reach below the figure's lower edge).
    fig.canvas.draw()
    drawn = fig.get_tightbbox(fig.canvas.get_renderer())
    left = max(drawn.x0 / width_in, 0.0)
    chars = max(40, int((drawn.x1 - drawn.x0) * 72 / (fontsize * 0.55)))
    wrapped = "\n".join(textwrap.fill(part, chars) for part in text.split("\n"))
    fig.text(left, (drawn.y0 - FOOTER_GAP_IN) / height_in, wrapped, ha="left", va="top", fontsize=fontsize,
             color="#333333", transform=fig.transFigure)


def save_figure(fig, png_path: str | Path, pdf_path: str | Path | None = None) -> None:
    fig.savefig(png_path, dpi=150, bbox_inches="tight", pad_inches=0.1)
    if pdf_path is not None:
        fig.savefig(pdf_path, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def chip_panel(ax, prob: np.ndarray, label: np.ndarray, valid: np.ndarray, title: str, pixel_m: float | None):
    """A probability map with the ground-truth outline over it; north up (row 0 is the northern edge)."""
    shown = np.where(valid, prob.astype(np.float32), np.nan)
    im = ax.imshow(shown, cmap=PROBABILITY_CMAP, vmin=0, vmax=1, interpolation="nearest")
    if label.any():
        ax.contour(label.astype(float), levels=[0.5], colors="cyan", linewidths=0.8)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    if pixel_m:
        add_scale_bar(ax, prob.shape[1], pixel_m)
    return im


def add_scale_bar(ax, width_px: int, pixel_m: float) -> None:
    """A bar a quarter of the image wide in the lower left, labelled in metres or kilometres; white with a
    black rim, so that it reads on bright and dark images alike."""
    length_m = _round_length(width_px * pixel_m / 4)
    length_px = length_m / pixel_m
    bottom = ax.get_ylim()[0]  # image axes: the largest row is at the bottom
    y = 0.92 * bottom
    x0 = 0.05 * width_px
    ax.plot([x0, x0 + length_px], [y, y], color="white", linewidth=2, solid_capstyle="butt",
            path_effects=[path_effects.withStroke(linewidth=3.6, foreground="black")])
    text = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(x0, y - 0.04 * width_px, text, color="white", fontsize=6, va="bottom", fontweight="bold",
            path_effects=OUTLINED)


def _round_length(x: float) -> float:
    magnitude = 10 ** np.floor(np.log10(x))
    return float(max(m for m in (1, 2, 5) if m * magnitude <= x) * magnitude)


def bar_with_errors(ax, labels: list[str], means, stds, ns, ylabel: str, colors=None) -> None:
    """Bars of the mean with error bars of one standard deviation over seeds (n given in the labels); no error
    bar where a single seed gives no spread."""
    x = np.arange(len(labels))
    colors = colors or [arm_color(label, i) for i, label in enumerate(labels)]
    ax.bar(x, means, color=colors)
    ns = np.asarray(ns)
    if (ns > 1).any():
        ax.errorbar(x, means, yerr=np.where(ns > 1, np.nan_to_num(np.asarray(stds, float)), np.nan), fmt="none",
                    ecolor="black", capsize=3)
    ticks = [f"{label.replace(' (', chr(10) + '(')}\nn={n}" for label, n in zip(labels, ns, strict=True)]
    ax.set_xticks(x, ticks, fontsize=7)
    ax.set_ylabel(ylabel)


def spread_phrase(ns) -> str:
    """What a figure's marks are: 'mean ± 1 std over N seeds' or 'one seed: single runs, no error bars'."""
    ns = np.asarray(list(ns))
    if len(ns) == 0 or ns.max() <= 1:
        return "one seed per arm: single runs, no error bars"
    if ns.min() == ns.max():
        return f"mean over {int(ns.max())} seeds, error bars ±1 sample std"
    return f"mean over {int(ns.min())}-{int(ns.max())} seeds, error bars ±1 sample std"
