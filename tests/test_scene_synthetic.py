"""The synthetic Ridge-i scene: determinism, georeferencing and plausibility."""

import numpy as np
import pytest
import rioxarray

from landslides.scene.noise import slope_degrees
from landslides.scene.synthetic import make_scene, simulate_layers, write_scene

SIZE = 384


@pytest.fixture(scope="module")
def layers():
    return simulate_layers(height=SIZE, width=SIZE, seed=3)


def test_same_seed_same_bytes(tmp_path):
    paths = []
    for run in ("a", "b"):
        image, label = make_scene(height=128, width=160, seed=7)
        image_path, label_path = tmp_path / run / "image.tif", tmp_path / run / "label.tif"
        write_scene(image, label, image_path, label_path)
        paths.append((image_path, label_path))
    for first, second in zip(paths[0], paths[1], strict=True):
        assert first.read_bytes() == second.read_bytes()
    # No temporary files are left beside the outputs.
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["image.tif", "label.tif"]


def test_different_seeds_differ():
    first, _ = make_scene(height=64, width=64, seed=1)
    second, _ = make_scene(height=64, width=64, seed=2)
    assert not np.array_equal(first.values, second.values)


def test_georeferencing_round_trips_through_geotiff(tmp_path):
    image, label = make_scene(height=96, width=128, seed=0, resolution_m=0.5)
    assert image.shape == (3, 96, 128) and image.dtype == np.uint8
    assert label.shape == (96, 128) and label.dtype == np.uint8
    write_scene(image, label, tmp_path / "image.tif", tmp_path / "label.tif")
    for original, name in ((image, "image.tif"), (label, "label.tif")):
        with rioxarray.open_rasterio(tmp_path / name) as read:
            assert read.rio.crs.to_epsg() == 32654
            assert read.rio.transform().almost_equals(original.rio.transform())
            assert np.array_equal(read.values.squeeze(), original.values)
    transform = image.rio.transform()
    assert (transform.a, transform.e) == (0.5, -0.5)


def test_landslide_fraction_is_a_few_percent_in_both_halves(layers):
    fraction = layers.label.mean()
    assert 0.01 <= fraction <= 0.08
    half = SIZE // 2
    for part in (layers.label[:, :half], layers.label[:, half:], layers.label[:half], layers.label[half:]):
        assert part.mean() > 0.002
    assert set(np.unique(layers.label)) == {0, 1}


def test_landslides_sit_on_steeper_terrain(layers):
    # Compare slopes at landslide scale (10 m cells), where the generator chooses its sites.
    cells = SIZE // 20
    crop = cells * 20
    coarse = layers.elevation_m[:crop, :crop].reshape(cells, 20, cells, 20).mean(axis=(1, 3))
    coarse_slope = slope_degrees(coarse, 10.0)
    landslide_share = layers.label[:crop, :crop].reshape(cells, 20, cells, 20).mean(axis=(1, 3))
    assert coarse_slope[landslide_share > 0.3].mean() > coarse_slope.mean() + 1.0


def test_landslides_are_brighter_and_redder_than_their_surroundings(layers):
    image = layers.image.astype(np.float32)
    landslide, other = layers.label == 1, layers.label == 0
    assert image[:, landslide].mean() > image[:, other].mean() + 20
    redness = image[0] - image[1]
    assert redness[landslide].mean() > redness[other].mean()
