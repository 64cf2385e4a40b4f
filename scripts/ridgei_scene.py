"""Snakemake job: write the synthetic ridgei scene (image and label GeoTIFFs on one grid)."""

from landslides.jobs import run_job
from landslides.scene.synthetic import make_scene, write_scene


def main(snakemake):
    scene = snakemake.params.scene
    image, label = make_scene(height=scene["height"], width=scene["width"], seed=scene["seed"],
                              resolution_m=scene["resolution_m"])
    write_scene(image, label, snakemake.output.image, snakemake.output.label)
    print(f"scene {scene['height']}x{scene['width']} px, landslide fraction {float(label.mean()):.4f}")


run_job(snakemake, main)  # noqa: F821
