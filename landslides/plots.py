"""Figures shared by the studies: consistent colors per arm, labelled axes, PNG and PDF."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

# One color per arm, the same in every study's figures.
ARM_COLORS = {
    "SAR": "#1b9e77", "SAR & DEM": "#d95f02", "SAR (AUG)": "#7570b3", "SAR & DEM (AUG)": "#e7298a",
    "no-skill": "#999999", "none": "#666666", "hokkaido": "#1b9e77", "kaikoura": "#d95f02",
}


def arm_color(name: str, index: int = 0) -> str:
    return ARM_COLORS.get(name, sns.color_palette("tab10")[index % 10])


def save_figure(fig, png_path: str | Path, pdf_path: str | Path | None = None) -> None:
    fig.savefig(png_path, dpi=150, bbox_inches="tight")
    if pdf_path is not None:
        fig.savefig(pdf_path, bbox_inches="tight")
    plt.close(fig)


def chip_panel(ax, prob: np.ndarray, label: np.ndarray, valid: np.ndarray, title: str, pixel_m: float | None):
    """A probability map with the ground-truth outline over it; north up (row 0 is the northern edge)."""
    shown = np.where(valid, prob.astype(np.float32), np.nan)
    im = ax.imshow(shown, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    if label.any():
        ax.contour(label.astype(float), levels=[0.5], colors="cyan", linewidths=0.8)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    if pixel_m:
        add_scale_bar(ax, prob.shape[1], pixel_m)
    return im


def add_scale_bar(ax, width_px: int, pixel_m: float) -> None:
    """A bar a quarter of the chip wide, labelled in metres or kilometres."""
    length_m = _round_length(width_px * pixel_m / 4)
    length_px = length_m / pixel_m
    y = 0.92 * ax.get_ylim()[0]
    ax.plot([0.05 * width_px, 0.05 * width_px + length_px], [y, y], color="white", linewidth=2)
    text = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(0.05 * width_px, y - 0.04 * width_px, text, color="white", fontsize=6, va="bottom")


def _round_length(x: float) -> float:
    magnitude = 10 ** np.floor(np.log10(x))
    return float(max(m for m in (1, 2, 5) if m * magnitude <= x) * magnitude)


def bar_with_errors(ax, labels: list[str], means, stds, ns, ylabel: str, colors=None) -> None:
    """Bars of the mean with error bars of one standard deviation over seeds (n given in the labels)."""
    x = np.arange(len(labels))
    colors = colors or [arm_color(label, i) for i, label in enumerate(labels)]
    ax.bar(x, means, color=colors)
    # No error bar where a single seed gives no spread to show.
    ax.errorbar(x, means, yerr=np.where(np.asarray(ns) > 1, np.nan_to_num(stds), np.nan), fmt="none",
                ecolor="black", capsize=3)
    ticks = [f"{label.replace(' (', chr(10) + '(')}\nn={n}" for label, n in zip(labels, ns, strict=True)]
    ax.set_xticks(x, ticks, fontsize=7)
    ax.set_ylabel(ylabel)
