"""Read and write IDX files, the format of the original MNIST distribution.

An IDX file starts with a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then one
big-endian uint32 per dimension, then the data in C order, big-endian. Files may be gzipped;
gzip is detected by its own magic bytes, whatever the file is called.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from nndl._inputs import check_readable_file
from nndl._io import atomic_path
from nndl.errors import DataError

__all__ = ["read_idx", "write_idx"]

_GZIP_MAGIC = b"\x1f\x8b"
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.str[1:]: code for code, dtype in _DTYPES.items()}


MAX_DIMS = 32
"""The most dimensions nndl reads (numpy holds at most 32 on some versions; MNIST has 3)."""
MAX_DATA_BYTES = 4 << 30
"""The largest IDX payload nndl reads (4 GiB; MNIST's training images are 47 MB)."""


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, raw or gzipped, checking its header before reading the data.

    The data is read (and inflated) only up to the size the header promises, so a small
    gzip file that inflates to gigabytes, or a header with absurd sizes, fails at once.

    Args:
        path: The IDX file (a regular file).

    Returns:
        A writable array in native byte order with the shape stored in the header.

    Raises:
        DataError: If the file is missing, not IDX, or shorter or longer than its header says.
    """
    path = Path(path)
    check_readable_file(path, "IDX file", MAX_DATA_BYTES)
    try:
        with _open(path) as handle:
            dtype, shape = _parse_header(path, handle)
            array = _read_data(path, handle, dtype, shape=shape)
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(f"IDX file {path} is not a complete gzip file: {err}") from None
    except OSError as err:
        raise DataError(f"cannot read IDX file {path}: {err.strerror or err}") from None
    return array.astype(dtype.newbyteorder("="))


def _open(path: Path) -> Any:
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _read_data(path: Path, handle: Any, dtype: np.dtype, *, shape: tuple[int, ...]) -> np.ndarray:
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if expected > MAX_DATA_BYTES:
        raise DataError(
            f"IDX file {path}: header {shape} of {dtype.name} promises {expected:,} bytes, "
            f"more than the {MAX_DATA_BYTES:,} nndl reads"
        )
    buffer = bytearray(expected)
    found = handle.readinto(buffer) or 0
    while found < expected:
        more = handle.readinto(memoryview(buffer)[found:])
        if not more:
            break
        found += more
    if found < expected or handle.read(1):
        problem = "truncated" if found < expected else "longer than its header says"
        raise DataError(
            f"IDX file {path} is {problem}: header {shape} of {dtype.name} promises "
            f"{expected} data bytes" + (f", found {found}" if found < expected else "")
        )
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` as an IDX file atomically, gzipped if ``path`` ends in ``.gz``.

    Args:
        path: Destination file.
        array: Array of uint8, int8, int16, int32, float32 or float64 with 1 to 255 dims.

    Raises:
        DataError: If the dtype or number of dimensions cannot be stored in IDX.
    """
    array = np.asarray(array)
    code = _CODES.get(array.dtype.str[1:])
    if code is None or not 1 <= array.ndim <= 255:
        raise DataError(
            f"cannot write {path} as IDX: got {array.dtype} with {array.ndim} dims; IDX "
            "stores uint8, int8, int16, int32, float32 or float64 with 1 to 255 dims"
        )
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)


def _parse_header(path: Path, handle: Any) -> tuple[np.dtype, tuple[int, ...]]:
    """Return the dtype and shape stored in the header at the start of ``handle``."""
    magic = handle.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _DTYPES or magic[3] == 0:
        shown = magic.hex() or "missing (empty file)"
        codes = ", ".join(f"0x{code:02x}" for code in _DTYPES)
        raise DataError(
            f"{path} is not an IDX file: magic number is {shown}; expected 0000XXNN with "
            f"dtype code XX in {codes} and NN >= 1 dims (e.g. 00000803 for MNIST images)"
        )
    ndim = magic[3]
    if ndim > MAX_DIMS:
        raise DataError(
            f"IDX file {path}: header says {ndim} dimensions; nndl reads 1 to {MAX_DIMS}"
        )
    sizes = handle.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(
            f"IDX file {path} is truncated: header of {ndim} dims needs {4 + 4 * ndim} bytes, "
            f"found {4 + len(sizes)}"
        )
    return _DTYPES[magic[2]], struct.unpack(f">{ndim}I", sizes)
