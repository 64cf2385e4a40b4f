"""Shared fixtures: small datacubes for the SAR and download tests, and a local HTTP server."""

import contextlib
import functools
import http.server
import threading

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from landslides.sar.synthetic import REGION_PRESETS, make_datacube, write_datacube


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder without logging every request to stderr."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder, handler=QuietHandler):
    """Base URL of an HTTP server on 127.0.0.1 (ephemeral port) serving `folder`, for download tests."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def tiny_cube_path(tmp_path_factory):
    """A 64x64 synthetic Hokkaido cube written to zarr once per session (read-only: copy to modify)."""
    path = tmp_path_factory.mktemp("cubes") / "hokkaido.zarr"
    write_datacube(make_datacube("hokkaido", height=64, width=64, seed=0), path)
    return path


@pytest.fixture(scope="session")
def tiny_cube_event():
    return REGION_PRESETS["hokkaido"].event


@pytest.fixture
def hand_cube():
    """A 64x64 cube whose every value is known: log(vv) = t and log(vh) = 10 + t at timestep t.

    Eight daily acquisitions 2020-01-01..08, orbits d,a,d,d,a,d,d,d, event between the 4th and 5th day.
    Landslides fill the top-left quarter's first rows and one pixel of the top-right quarter; the
    bottom-right quarter lies outside the extraction mask; vv is NaN at pixel (5, 5) at every timestep.
    """
    n, size = 8, 64
    t = np.arange(n, dtype=np.float32)[:, None, None]
    ones = np.ones((n, size, size), np.float32)
    vv = np.exp(t) * ones
    vv[:, 5, 5] = np.nan
    vh = np.exp(10.0 + t) * ones
    mask = np.ones((size, size), np.uint8)
    mask[32:, 32:] = 0
    slides = np.zeros((size, size), np.uint8)
    slides[0:4, 0:32] = 1
    slides[10, 40] = 1
    static = {name: (("y", "x"), np.full((size, size), k, np.float32))
              for k, name in enumerate(["dem", "dem_aspect", "dem_curvature", "dem_slope_radians",
                                        "dem_slope_riserun"], start=1)}
    return xr.Dataset(
        {"vv": (("timestep", "y", "x"), vv), "vh": (("timestep", "y", "x"), vh), **static,
         "landslides": (("y", "x"), slides), "extraction_mask": (("y", "x"), mask)},
        coords={"timestep": pd.date_range("2020-01-01", periods=n, freq="D"),
                "sat:orbit_state": ("timestep", np.array(list("daddaddd"))),
                "x": 1000.0 + 10.0 * (np.arange(size) + 0.5),
                "y": 5000.0 - 10.0 * (np.arange(size) + 0.5)},
    )
