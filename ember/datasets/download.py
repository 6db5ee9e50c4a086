"""Downloads and archives: mirror lists, SHA-256 checks, resumable and atomic.

A download goes to ``<file>.part`` beside its destination; an interrupted one resumes from
there with an HTTP ``Range`` request (or starts over when the server ignores it). Only a file
whose SHA-256 matches is renamed into place, so ``root`` never holds a half-written or wrong
file under its real name. Archives are extracted into a temporary folder inside the
destination and then renamed into place, refusing members that would land outside it.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Resource",
    "check_integrity",
    "download_and_extract",
    "download_resource",
    "download_url",
    "extract_archive",
    "sha256sum",
]

CHUNK = 1 << 20


@dataclass(frozen=True)
class Resource:
    """A file to fetch: its name, its SHA-256, and the mirrors that serve it (tried in order)."""

    filename: str
    sha256: str
    urls: tuple[str, ...]


def sha256sum(path: str | os.PathLike) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def check_integrity(path: str | os.PathLike, sha256: str | None = None) -> bool:
    """Return whether the file exists and (when given) its SHA-256 matches."""
    if not os.path.isfile(path):
        return False
    return sha256 is None or sha256sum(path) == sha256.lower()


def _fsync_replace(tmp: Path, dest: Path) -> None:
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)


def _receive(response: Any, part: Path, url: str, resume: bool) -> None:
    """Append (or write) the response body to part; raise if the transfer stops short."""
    length = response.headers.get("Content-Length")
    with response, open(part, "ab" if resume else "wb") as f:
        start, error = f.tell(), None
        try:
            for block in iter(lambda: response.read(CHUNK), b""):
                f.write(block)
        except (http.client.IncompleteRead, TimeoutError, ConnectionError) as err:
            error = repr(err)
        received = f.tell() - start
    if error is None and length is not None and received < int(length):
        error = f"{received} of {length} bytes received"
    if error is not None:
        raise RuntimeError(
            f"download of {url} was interrupted ({error}); the bytes received are kept in "
            f"{part} and the next call resumes from there"
        )


def download_url(
    url: str,
    root: str | os.PathLike,
    filename: str | None = None,
    sha256: str | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` into ``root/filename`` unless a file with the right SHA-256 is there.

    Resumes a previous partial download (``filename.part``) with an HTTP Range request. On a
    checksum mismatch the partial file is deleted and a RuntimeError names the file and both
    hashes; nothing is left under the destination name. Returns the destination path.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    dest = root / (filename or os.path.basename(url.split("?")[0]))
    if check_integrity(dest, sha256):
        return dest
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "ember"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not have:  # 416: the .part already holds the whole file
            raise
    else:
        _receive(response, part, url, resume=bool(have) and response.status == 206)
    if sha256 is not None:
        actual = sha256sum(part)
        if actual != sha256.lower():
            part.unlink()
            raise RuntimeError(
                f"checksum mismatch for {dest.name} downloaded from {url}: expected SHA-256 "
                f"{sha256.lower()}, got {actual}; the file was deleted"
            )
    _fsync_replace(part, dest)
    return dest


def download_resource(resource: Resource, root: str | os.PathLike, timeout: float = 30.0) -> Path:
    """Download a Resource from the first mirror that works; raise with every mirror's error."""
    errors = []
    for url in resource.urls:
        try:
            return download_url(url, root, resource.filename, resource.sha256, timeout)
        except (OSError, RuntimeError, http.client.HTTPException) as err:
            errors.append(f"  {url}: {err}")
    raise RuntimeError(
        f"could not download {resource.filename} from any mirror:\n" + "\n".join(errors)
    )


def _check_member(name: str, dest: Path) -> None:
    target = (dest / name).resolve()
    if os.path.isabs(name) or not target.is_relative_to(dest.resolve()):
        raise RuntimeError(f"archive member {name!r} would be written outside {dest}")


def _extract_tar(archive: Path, tmp: Path) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            _check_member(member.name, tmp)
            if not (member.isfile() or member.isdir()):
                raise RuntimeError(f"{archive}: refusing link or device member {member.name!r}")
        if hasattr(tarfile, "data_filter"):  # Python 3.12+ (and 3.11.4+): the safe filter
            tar.extractall(tmp, members=members, filter="data")
        else:
            tar.extractall(tmp, members=members)


def _extract_zip(archive: Path, tmp: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            _check_member(name, tmp)
        zf.extractall(tmp)


def extract_archive(
    from_path: str | os.PathLike,
    to_path: str | os.PathLike | None = None,
    remove_finished: bool = False,
) -> Path:
    """Extract a .tar(.gz/.bz2/.xz), .tgz, .zip or .gz file into ``to_path``; return it.

    Members are written to a temporary folder inside ``to_path`` first and renamed into place
    only once the whole archive has been read, so an interrupted or corrupt archive leaves
    nothing behind; a member that already exists is replaced. Absolute paths, ``..`` and links
    are refused.
    """
    archive = Path(from_path)
    dest = Path(to_path) if to_path is not None else archive.parent
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        try:
            if zipfile.is_zipfile(archive):
                _extract_zip(archive, tmp)
            elif archive.suffix == ".gz" and not archive.name.endswith((".tar.gz", ".tgz")):
                with gzip.open(archive, "rb") as src, open(tmp / archive.stem, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
            else:
                _extract_tar(archive, tmp)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, gzip.BadGzipFile) as err:
            raise RuntimeError(f"{archive}: corrupt or truncated archive ({err})") from None
        for item in tmp.iterdir():
            target = dest / item.name
            if target.is_dir() and not item.is_dir():
                raise RuntimeError(f"{archive}: {item.name} would replace a folder in {dest}")
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if remove_finished:
        archive.unlink()
    return dest


def download_and_extract(
    resources: Sequence[Resource], root: str | os.PathLike, timeout: float = 30.0
) -> None:
    """Download each resource into ``root`` and extract the archives among them."""
    for resource in resources:
        path = download_resource(resource, root, timeout)
        if path.name.endswith((".tar.gz", ".tgz", ".tar", ".zip")):
            extract_archive(path, root)
