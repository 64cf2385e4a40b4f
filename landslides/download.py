"""Download a zip archive, check it, unpack it and move one entry of it into place, atomically.

Used for the SAR datacubes and the Landslide4Sense archives on Zenodo. On any failure nothing is left
behind: all work happens in a temporary directory next to the destination, removed at the end.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from landslides.errors import InputError
from landslides.files import replace_path

BLOCK = 1 << 20  # bytes per read while streaming
# Errors worth another try: the network, the server (urllib's HTTPError is an OSError too), a body cut
# short. A 404 is retried as well: Zenodo answers 404 for a while during maintenance.
TRANSIENT = (OSError, http.client.HTTPException)


def zenodo_url(record: int, filename: str) -> str:
    """Download address of a file of a Zenodo record."""
    return f"https://zenodo.org/records/{record}/files/{filename}?download=1"


def zenodo_checksum(record: int, filename: str, *, api: str = "https://zenodo.org/api/records",
                    timeout: float = 60) -> str:
    """The checksum ("md5:<hex>") that Zenodo publishes for a file of a record, for configs that pin none."""
    url = f"{api}/{record}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            files = json.load(response).get("files", [])
    except (OSError, ValueError, http.client.HTTPException) as err:
        raise InputError(f"{url}: cannot read the record's file checksums ({err})") from err
    for entry in files:
        if entry.get("key") == filename and entry.get("checksum"):
            return entry["checksum"]
    raise InputError(f"{url}: record {record} lists no file named {filename!r}")


def fetch_archive(url: str, dest: str | Path, *, checksum: str | None, retries: int = 3, timeout: float = 60,
                  validate: Callable[[Path], None] | None = None, member: str | None = None,
                  backoff: float = 2.0) -> Path:
    """Download the zip at `url`, verify `checksum` ("md5:<hex>" or "sha256:<hex>"), unpack it and move
    the kept entry to `dest`. A checksum of None skips the verification, with a warning.

    The kept entry is `member` (a top-level name in the zip) if given; otherwise the zip's single
    top-level entry, or its single `*.zarr` entry, or the unpacked root itself when the zip holds a zarr
    store's contents directly. `validate` is called on the entry before it is moved. Network errors and
    checksum mismatches are retried up to `retries` attempts in all, waiting backoff x 2^k seconds.
    """
    dest = Path(dest)
    algorithm, expected = _parse_checksum(checksum, url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        archive = work / "archive.zip"
        _download_verified(url, archive, algorithm, expected, retries=retries, timeout=timeout,
                           backoff=backoff)
        unpacked = _unzip(archive, work / "unpacked", url)
        archive.unlink()
        entry = _select_entry(unpacked, member, url)
        if validate is not None:
            try:
                validate(entry)
            except InputError as err:
                # The message names the unpacked copy, which is deleted below: name the archive instead.
                inside = str(err).replace(str(unpacked), archive_name(url))
                raise InputError(f"download {url}: {inside}") from err
        replace_path(entry, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def archive_name(url: str) -> str:
    """The file name of a download address (its path's last part, without the query)."""
    return Path(urllib.parse.urlparse(url).path).name or url


def _parse_checksum(checksum: str | None, url: str) -> tuple[str, str | None]:
    if checksum is None:
        print(f"warning: download {url}: no checksum given, the archive is not verified", file=sys.stderr)
        return "sha256", None
    algorithm, _, digest = checksum.partition(":")
    algorithm = algorithm.strip().lower()
    if algorithm not in ("md5", "sha256") or not digest.strip():
        raise InputError(f"download {url}: checksum {checksum!r} is not 'md5:<hex>' or 'sha256:<hex>'")
    return algorithm, digest.strip().lower()


def _download_verified(url: str, target: Path, algorithm: str, expected: str | None, *, retries: int,
                       timeout: float, backoff: float) -> None:
    """Download until a copy with the expected digest arrives or the attempts run out."""
    failure = "no attempt made"
    for attempt in range(max(retries, 1)):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            actual = _stream(url, target, algorithm, timeout)
        except TRANSIENT as err:
            failure = f"{type(err).__name__}: {' '.join(str(err).split())}"
            continue
        if expected is None or actual == expected:
            return
        failure = f"checksum mismatch, expected {algorithm}:{expected}, got {algorithm}:{actual}"
    target.unlink(missing_ok=True)
    raise InputError(f"download {url}: failed after {max(retries, 1)} attempts ({failure})")


def _stream(url: str, target: Path, algorithm: str, timeout: float) -> str:
    """Stream `url` into `target`, returning its hex digest; a body shorter than announced is an error."""
    digest = hashlib.new(algorithm)
    request = urllib.request.Request(url, headers={"User-Agent": "landslides-workflow"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(target, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        with tqdm(total=total, unit="B", unit_scale=True, desc=Path(target).name, disable=total is None,
                  leave=False) as progress:
            while block := response.read(BLOCK):
                out.write(block)
                digest.update(block)
                received += len(block)
                progress.update(len(block))
    if total is not None and received != total:
        raise http.client.IncompleteRead(b"", total - received)
    return digest.hexdigest()


# What zipfile raises for damaged member data: a bad CRC, a cut or garbled deflate stream (zlib.error,
# EOFError), an unsupported compression method or an encrypted member.
CORRUPT_MEMBER = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def _unzip(archive: Path, into: Path, url: str) -> Path:
    """Extract the zip, refusing entries that would land outside `into`; a damaged member names itself."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as err:
        raise InputError(f"download {url}: not a valid zip archive ({err})") from err
    with zf:
        for name in zf.namelist():
            if name.startswith(("/", "\\")) or ".." in Path(name).parts:
                raise InputError(f"download {url}: archive entry {name!r} points outside the archive")
        for info in zf.infolist():
            try:
                zf.extract(info, into)
            except CORRUPT_MEMBER as err:
                kind = type(err).__name__ if type(err).__module__ == "builtins" else \
                    f"{type(err).__module__}.{type(err).__name__}"  # zlib.error, zipfile.BadZipFile
                text = " ".join(str(err).split())
                raise InputError(f"download {url}: archive member {info.filename!r} is corrupt "
                                 f"({kind}: {text})") from err
    return into


def _select_entry(unpacked: Path, member: str | None, url: str) -> Path:
    """The unpacked file or folder to keep."""
    entries = sorted(p for p in unpacked.iterdir() if p.name != "__MACOSX")
    if member is not None:
        chosen = unpacked / member
        if not chosen.exists():
            names = ", ".join(p.name for p in entries)
            raise InputError(f"download {url}: archive has no top-level entry {member!r} (it has: {names})")
        return chosen
    if len(entries) == 1:
        return entries[0]
    zarrs = [p for p in entries if p.suffix == ".zarr"]
    if len(zarrs) == 1:
        return zarrs[0]
    if any((unpacked / f).exists() for f in (".zgroup", "zarr.json")):
        return unpacked  # the zip holds a zarr store's contents without a wrapping folder
    names = ", ".join(p.name for p in entries) or "nothing"
    raise InputError(f"download {url}: cannot tell which entry to keep (archive has: {names})")
