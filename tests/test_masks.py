"""Masks in the forms users have (issue #32): one band 0/1 or 0/255, identical bands, a value or a colour
named by ridgei.scene.mask_landslide; anything with more than two values or colours is refused."""

import numpy as np
import pytest
from PIL import Image

from landslides.errors import InputError
from landslides.scene.reader import mask_to_binary, read_tile_folder

PATH = "m.png"


def _colour_mask(colour=(255, 0, 0), background=(0, 0, 0)):
    """A 3 x 4 x 4 colour mask: landslide colour on the diagonal, background elsewhere."""
    mask = np.empty((3, 4, 4), np.uint8)
    mask[:] = np.asarray(background, np.uint8)[:, None, None]
    for i in range(4):
        mask[:, i, i] = colour
    return mask


def test_one_band_0_1_and_0_255():
    band = np.eye(4, dtype=np.uint8)
    assert np.array_equal(mask_to_binary(band[None], PATH), band)
    assert np.array_equal(mask_to_binary(band[None] * 255, PATH), band)


def test_identical_bands_read_as_one():
    band = np.eye(4, dtype=np.uint8) * 255
    assert np.array_equal(mask_to_binary(np.stack([band] * 3), PATH), np.eye(4))


def test_named_value_of_one_band():
    band = np.where(np.eye(4, dtype=bool), 128, 7).astype(np.uint8)
    assert np.array_equal(mask_to_binary(band[None], PATH, landslide=128), np.eye(4))
    # The other value is landslide when named instead: the key decides, not the order of the values.
    assert np.array_equal(mask_to_binary(band[None], PATH, landslide=7), 1 - np.eye(4))


def test_named_colour():
    mask = _colour_mask((255, 0, 0), background=(0, 0, 255))
    assert np.array_equal(mask_to_binary(mask, PATH, landslide=[255, 0, 0]), np.eye(4))


def test_colour_mask_without_key_lists_colours_and_names_the_key():
    with pytest.raises(InputError, match=r"m.png: mask has 3 bands that differ, 2 colours \[\[0, 0, 0\], "
                                         r"\[255, 0, 0\]\]; set ridgei.scene.mask_landslide"):
        mask_to_binary(_colour_mask(), PATH)


def test_three_colours_refused_with_the_colours_found():
    mask = _colour_mask()
    mask[:, 0, 3] = (0, 255, 0)
    with pytest.raises(InputError, match=r"mask has 3 colours \[\[0, 0, 0\], \[0, 255, 0\], \[255, 0, 0\]\]"):
        mask_to_binary(mask, PATH, landslide=[255, 0, 0])


def test_three_values_refused_even_with_a_key():
    band = np.array([[0, 1], [2, 0]], np.uint8)
    with pytest.raises(InputError, match=r"mask has 3 values \[0, 1, 2\]"):
        mask_to_binary(band[None], PATH, landslide=1)
    with pytest.raises(InputError, match=r"found 3 values \[0, 1, 2\]"):
        mask_to_binary(band[None], PATH)


def test_key_matching_no_value_is_refused():
    with pytest.raises(InputError, match=r"mask_landslide \[0, 255, 0\] is none of the mask's colours"):
        mask_to_binary(_colour_mask(), PATH, landslide=[0, 255, 0])
    with pytest.raises(InputError, match="mask_landslide 3 is none of the mask's values"):
        mask_to_binary(np.eye(4, dtype=np.uint8)[None] * 9, PATH, landslide=3)


def test_landslide_free_tile_with_a_key_is_all_background():
    assert not mask_to_binary(_colour_mask((0, 0, 0)), PATH, landslide=[255, 0, 0]).any()


def test_colour_key_needs_one_value_per_band():
    with pytest.raises(InputError, match="colour of 2 values but the mask has 3 band"):
        mask_to_binary(_colour_mask(), PATH, landslide=[255, 0])


def test_tile_folder_with_colour_masks(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    # An image with texture: a blank one is refused before its mask is read (issue #31).
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3)).save(tmp_path / "images" / "t.png")
    Image.fromarray(_colour_mask().transpose(1, 2, 0)).save(tmp_path / "masks" / "t.png")
    with pytest.raises(InputError, match="masks/t.png: mask has 3 bands that differ"):
        read_tile_folder(tmp_path)
    (tile,) = read_tile_folder(tmp_path, landslide=[255, 0, 0])
    assert np.array_equal(tile.mask, np.eye(4))
