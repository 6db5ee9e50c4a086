import gzip
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from ember.datasets import check_integrity, download_resource, download_url, extract_archive
from ember.datasets.download import Resource

PAYLOAD = bytes(range(256)) * 40  # 10 KiB


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /data.bin; honours Range unless the server says not to."""

    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))
        if self.path != "/data.bin":
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and server.ranges:
            start = int(rng.removeprefix("bytes=").split("-")[0])
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.cut is not None:  # die mid-transfer, after `cut` bytes
            self.wfile.write(body[: server.cut])
            self.wfile.flush()
            self.close_connection = True
            server.cut = None
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.requests, httpd.ranges, httpd.cut = [], True, None
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_download_and_skip_when_present(server, tmp_path):
    httpd, base = server
    path = download_url(f"{base}/data.bin", tmp_path, sha256=SHA, timeout=5)
    assert path == tmp_path / "data.bin" and path.read_bytes() == PAYLOAD
    assert check_integrity(path, SHA) and not check_integrity(path, "0" * 64)
    download_url(f"{base}/data.bin", tmp_path, sha256=SHA, timeout=5)
    assert len(httpd.requests) == 1  # the good file was not fetched again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_wrong_checksum_leaves_nothing(server, tmp_path):
    _, base = server
    with pytest.raises(RuntimeError, match=r"checksum mismatch for x\.bin.*expected SHA-256 0{64}"):
        download_url(f"{base}/data.bin", tmp_path, "x.bin", sha256="0" * 64, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_resume_partial(server, tmp_path):
    httpd, base = server
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:3000])
    path = download_url(f"{base}/data.bin", tmp_path, sha256=SHA, timeout=5)
    assert path.read_bytes() == PAYLOAD
    assert httpd.requests == [("/data.bin", "bytes=3000-")]
    assert not (tmp_path / "data.bin.part").exists()


def test_resume_when_server_ignores_range(server, tmp_path):
    httpd, base = server
    httpd.ranges = False
    (tmp_path / "data.bin.part").write_bytes(b"garbage")
    path = download_url(f"{base}/data.bin", tmp_path, sha256=SHA, timeout=5)
    assert path.read_bytes() == PAYLOAD  # started over instead of appending


def test_interrupted_then_resumed(server, tmp_path):
    httpd, base = server
    httpd.cut = 4000
    with pytest.raises(RuntimeError, match=r"interrupted.*resumes"):
        download_url(f"{base}/data.bin", tmp_path, sha256=SHA, timeout=5)
    assert not (tmp_path / "data.bin").exists()
    assert (tmp_path / "data.bin.part").read_bytes() == PAYLOAD[:4000]
    path = download_url(f"{base}/data.bin", tmp_path, sha256=SHA, timeout=5)
    assert path.read_bytes() == PAYLOAD
    assert httpd.requests[-1] == ("/data.bin", "bytes=4000-")


def test_mirrors(server, tmp_path):
    _, base = server
    resource = Resource("data.bin", SHA, (f"{base}/missing.bin", f"{base}/data.bin"))
    assert download_resource(resource, tmp_path, timeout=5).read_bytes() == PAYLOAD
    bad = Resource("data.bin", SHA, (f"{base}/missing.bin", f"{base}/gone.bin"))
    with pytest.raises(RuntimeError, match=r"(?s)from any mirror.*missing\.bin.*404.*gone\.bin"):
        download_resource(bad, tmp_path / "other", timeout=5)


def make_tar(path, files, mode="w:gz"):
    with tarfile.open(path, mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("suffix", [".tar.gz", ".tar", ".zip"])
def test_extract(tmp_path, suffix):
    archive = tmp_path / f"a{suffix}"
    files = {"top/a.txt": b"alpha", "top/sub/b.txt": b"beta"}
    if suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    else:
        make_tar(archive, files, "w:gz" if suffix.endswith("gz") else "w")
    out = tmp_path / "out"
    (out / "top").mkdir(parents=True)
    (out / "top" / "stale.txt").write_text("old")
    extract_archive(archive, out)
    assert (out / "top" / "sub" / "b.txt").read_bytes() == b"beta"
    assert not (out / "top" / "stale.txt").exists()  # replaced as a whole
    assert sorted(p.name for p in out.iterdir()) == ["top"]  # no temporary folder left


def test_extract_gz(tmp_path):
    (tmp_path / "f.idx.gz").write_bytes(gzip.compress(b"payload"))
    extract_archive(tmp_path / "f.idx.gz", remove_finished=True)
    assert (tmp_path / "f.idx").read_bytes() == b"payload"
    assert not (tmp_path / "f.idx.gz").exists()


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt"])
def test_extract_refuses_escape(tmp_path, name):
    archive = tmp_path / "a.tar.gz"
    make_tar(archive, {name: b"x"})
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(archive, out)
    assert list(out.iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_extract_truncated(tmp_path):
    archive = tmp_path / "a.tar.gz"
    make_tar(archive, {"a.bin": bytes(range(256)) * 400})
    raw = archive.read_bytes()
    archive.write_bytes(raw[: len(raw) // 2])
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match=r"a\.tar\.gz: corrupt or truncated archive"):
        extract_archive(archive, out)
    assert list(out.iterdir()) == []
