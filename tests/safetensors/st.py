"""A small safetensors writer for fidx's tests (the safetensors package is
not installed here): the layout of huggingface/safetensors' save_file.

    8 bytes   N, the header's length (little-endian u64)
    N bytes   JSON: {"__metadata__": {str: str}, name: {"dtype": "F16",
              "shape": [rows, dim], "data_offsets": [begin, end]}, ...},
              padded with spaces to a multiple of 8
    the rest  the tensors' bytes, little-endian, C order, back to back

Like save_file, tensors are laid out by dtype size (largest first), then
by name. bfloat16, which numpy lacks, is given as ("BF16", uint16 array of
the top 16 bits of float32 values): see bf16().
"""
import json
import struct

import numpy as np

DTYPES = {"float16": "F16", "float32": "F32", "float64": "F64", "int8": "I8", "uint8": "U8",
          "int16": "I16", "uint16": "U16", "int32": "I32", "int64": "I64", "bool": "BOOL"}


def bf16(x):
    """float32 values as bfloat16, rounded to nearest even: ("BF16", the uint16 bits)."""
    u = np.ascontiguousarray(x, dtype="<f4").view("<u4").astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return ("BF16", u.astype("<u2"))


def bf16_to_f32(bits):
    """bfloat16 bits (uint16) as the float32 values they are."""
    return (np.asarray(bits, dtype=np.uint32) << 16).astype("<u4").view("<f4")


def serialize(tensors, metadata=None, pad=True):
    """tensors: {name: array or (dtype name, array of its bits)}."""
    items = []
    for name, t in tensors.items():
        if isinstance(t, tuple):
            dtype, arr = t
        else:
            arr = np.asarray(t)
            dtype = DTYPES[arr.dtype.name]
        arr = np.ascontiguousarray(arr)
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        items.append((arr.dtype.itemsize, name, dtype, list(arr.shape), data))
    items.sort(key=lambda i: (-i[0], i[1]))
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for _, name, dtype, shape, data in items:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(i[4] for i in items)


def save_file(tensors, path, metadata=None):
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))


def seeds(out, rows_out):
    """The seed corpus of the safetensors fuzz target (tests/fuzz/fuzz_safetensors.c):
    one byte (1: --embedding-column emb, 0: the reader chooses), then the file.
    Also float16 and integer .npy seeds for the rows target (byte 0: .npy)."""
    import gzip
    import os
    import subprocess

    rng = np.random.default_rng(18)
    x = (rng.standard_normal((4, 3)) * 8).astype(np.float32)
    files = {
        "f32": (0, {"emb": x}, None),
        "f16": (0, {"emb": x.astype(np.float16)}, {"format": "np"}),
        "bf16": (1, {"emb": bf16(x)}, None),
        "f64": (1, {"emb": x.astype(np.float64)}, None),
        "i8": (0, {"emb": x.astype(np.int8)}, None),
        "u8": (0, {"emb": np.abs(x).astype(np.uint8) + 1}, None),
        "i16": (1, {"emb": (x * 100).astype(np.int16)}, None),
        "u16": (0, {"emb": (np.abs(x) * 100).astype(np.uint16) + 1}, None),
        "many": (1, {"emb": x.astype(np.float16), "ids": np.arange(4), "other": x, "mask": np.ones(3, dtype=bool)},
                 {"note": "tensors before and after"}),
    }
    for name, (pick, tensors, meta) in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([pick]) + serialize(tensors, meta))
    b = serialize({"emb": x.astype(np.float16)})
    with open(os.path.join(out, "f16.gz"), "wb") as f:
        f.write(b"\0" + gzip.compress(b, mtime=0))
    z = subprocess.run(["zstd", "-q", "-c"], input=b, stdout=subprocess.PIPE, check=True).stdout
    with open(os.path.join(out, "f16.zst"), "wb") as f:
        f.write(b"\0" + z)
    bad = serialize({"emb": x})
    bad = bad.replace(b'"F32"', b'"F33"')
    with open(os.path.join(out, "bad-dtype"), "wb") as f:
        f.write(b"\0" + bad)
    import io
    for name, a in {"f16.npy": x.astype(np.float16), "f16be.npy": x.astype(">f2"), "i8.npy": x.astype(np.int8),
                    "u8.npy": np.abs(x).astype(np.uint8) + 1, "i16f.npy": np.asfortranarray((x * 100).astype(np.int16))}.items():
        buf = io.BytesIO()
        np.save(buf, a)
        with open(os.path.join(rows_out, name), "wb") as f:
            f.write(b"\0" + buf.getvalue())


if __name__ == "__main__":
    import os
    import sys

    if sys.argv[1:] != ["seeds"]:
        sys.exit("usage: st.py seeds    (writes tests/fuzz/corpus/safetensors and .npy seeds of corpus/rows)")
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")
    os.makedirs(os.path.join(corpus, "safetensors"), exist_ok=True)
    seeds(os.path.join(corpus, "safetensors"), os.path.join(corpus, "rows"))
