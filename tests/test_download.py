"""fetch_archive against a local HTTP server: success, corrupted archive, server errors and drops."""

import hashlib
import shutil

import pytest
from conftest import QuietHandler, serve_folder

from landslides.download import fetch_archive, zenodo_url
from landslides.errors import InputError
from landslides.sar.validate import open_datacube


class Handler(QuietHandler):
    """Serves the folder; /drop.zip announces 1000 bytes and closes after 10. Counts requests per path."""

    hits: dict[str, int] = {}

    def do_GET(self):
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        if self.path == "/drop.zip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_cube_path):
    """(base URL, folder) of a server on an ephemeral port whose folder holds cube.zip and bad.zip."""
    folder = tmp_path_factory.mktemp("served")
    shutil.make_archive(str(folder / "cube"), "zip", root_dir=tiny_cube_path.parent,
                        base_dir=tiny_cube_path.name)
    (folder / "bad.zip").write_bytes((folder / "cube.zip").read_bytes()[:-100])
    with serve_folder(folder, Handler) as base:
        yield base, folder


def sha256(path):
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder):
    return [p.name for p in folder.iterdir()]


def test_zenodo_url():
    assert zenodo_url(7248056, "hokkaido_japan.zip") == \
        "https://zenodo.org/records/7248056/files/hokkaido_japan.zip?download=1"


def test_success_gives_a_valid_cube(served, tmp_path, tiny_cube_event):
    base, folder = served
    dest = tmp_path / "out" / "hokkaido.zarr"
    md5 = "md5:" + hashlib.md5((folder / "cube.zip").read_bytes()).hexdigest()
    fetch_archive(f"{base}/cube.zip", dest, checksum=md5, validate=open_datacube, backoff=0)
    open_datacube(dest, event_date=tiny_cube_event)
    assert leftovers(dest.parent) == ["hokkaido.zarr"]
    # Fetching again replaces the old copy in one move.
    fetch_archive(f"{base}/cube.zip", dest, checksum=sha256(folder / "cube.zip"), member="hokkaido.zarr",
                  backoff=0)
    assert leftovers(dest.parent) == ["hokkaido.zarr"]
    fetch_archive(f"{base}/cube.zip", dest, checksum=None, backoff=0)  # unverified, but allowed
    open_datacube(dest)


def test_checksum_mismatch(served, tmp_path):
    base, folder = served
    expected = sha256(folder / "cube.zip")
    Handler.hits.pop("/bad.zip", None)
    with pytest.raises(InputError, match=r"bad.zip.*mismatch.*expected sha256:\w+, got sha256:\w+") as err:
        fetch_archive(f"{base}/bad.zip", tmp_path / "cube.zarr", checksum=expected, retries=2, backoff=0)
    assert expected in str(err.value)
    assert Handler.hits["/bad.zip"] == 2
    assert leftovers(tmp_path) == []


def test_truncated_zip_with_matching_checksum(served, tmp_path):
    base, folder = served
    with pytest.raises(InputError, match="bad.zip.*not a valid zip"):
        fetch_archive(f"{base}/bad.zip", tmp_path / "cube.zarr", checksum=sha256(folder / "bad.zip"))
    assert leftovers(tmp_path) == []


def test_not_found_and_dropped_connection_are_retried(served, tmp_path):
    base, folder = served
    checksum = sha256(folder / "cube.zip")
    for path in ("/missing.zip", "/drop.zip"):
        Handler.hits.pop(path, None)
        with pytest.raises(InputError, match=f"{path}.*3 attempts"):
            fetch_archive(base + path, tmp_path / "cube.zarr", checksum=checksum, retries=3, backoff=0)
        assert Handler.hits[path] == 3
    assert leftovers(tmp_path) == []


def test_validation_failure_leaves_nothing(served, tmp_path):
    base, folder = served

    def reject(path):
        raise InputError(f"{path}: rejected")

    with pytest.raises(InputError, match="rejected"):
        fetch_archive(f"{base}/cube.zip", tmp_path / "cube.zarr", checksum=sha256(folder / "cube.zip"),
                      validate=reject, backoff=0)
    assert leftovers(tmp_path) == []


def test_unreachable_server(tmp_path):
    with pytest.raises(InputError, match="127.0.0.1:9"):
        fetch_archive("http://127.0.0.1:9/x.zip", tmp_path / "x", checksum="md5:00", retries=2, backoff=0,
                      timeout=2)
    with pytest.raises(InputError, match="not 'md5"):
        fetch_archive("http://127.0.0.1:9/x.zip", tmp_path / "x", checksum="crc:00")
    assert leftovers(tmp_path) == []


def test_zenodo_checksum_from_a_record_api(served):
    """A config that pins no checksum takes the one the record publishes (a JSON file served locally)."""
    import json

    from landslides.download import zenodo_checksum

    base, folder = served
    (folder / "api").mkdir(exist_ok=True)
    record = {"files": [{"key": "cube.zip", "checksum": "md5:" + hashlib.md5((folder / "cube.zip").read_bytes())
                         .hexdigest()}]}
    (folder / "api" / "7248056").write_text(json.dumps(record))
    checksum = zenodo_checksum(7248056, "cube.zip", api=f"{base}/api")
    assert checksum == record["files"][0]["checksum"]
    with pytest.raises(InputError, match="no file named 'other.zip'"):
        zenodo_checksum(7248056, "other.zip", api=f"{base}/api")
