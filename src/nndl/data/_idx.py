"""Read and write IDX files, the format of the original MNIST distribution.

An IDX file starts with a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then one
big-endian uint32 per dimension, then the data in C order, big-endian. Files may be gzipped;
gzip is detected by its own magic bytes, whatever the file is called.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

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


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, raw or gzipped.

    Args:
        path: The IDX file.

    Returns:
        A writable array in native byte order with the shape stored in the header.

    Raises:
        DataError: If the file is missing, not IDX, or shorter or longer than its header says.
    """
    path = Path(path)
    data = _read_bytes(path)
    dtype, shape, offset = _parse_header(path, data)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - offset
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise DataError(
            f"IDX file {path} is {problem}: header {shape} of {dtype.name} promises "
            f"{expected} data bytes, found {found}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


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


def _read_bytes(path: Path) -> bytes:
    """Return the (decompressed) content of ``path``."""
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if data[:2] == _GZIP_MAGIC else data
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataError(f"IDX file {path} is not a complete gzip file: {err}") from err
    except OSError as err:
        raise DataError(f"cannot read IDX file {path}: {err.strerror or err}") from err


def _parse_header(path: Path, data: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    """Return the dtype, shape and data offset stored in the header of ``data``."""
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _DTYPES or data[3] == 0:
        magic = data[:4].hex() or "missing (empty file)"
        codes = ", ".join(f"0x{code:02x}" for code in _DTYPES)
        raise DataError(
            f"{path} is not an IDX file: magic number is {magic}; expected 0000XXNN with "
            f"dtype code XX in {codes} and NN >= 1 dims (e.g. 00000803 for MNIST images)"
        )
    ndim = data[3]
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DataError(
            f"IDX file {path} is truncated: header of {ndim} dims needs {offset} bytes, "
            f"found {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:offset])
    return _DTYPES[data[2]], shape, offset
