#!/usr/bin/env python3
"""Writes the hand-made Parquet files of tests/parquet/hostile/: each one a
file no writer makes, built to reach one check of fidx's reader (see
tests/test_parquet.c, test_hostile, for what each must give).

    python3 tests/parquet/hostile/make.py      # rewrites the files beside it

A small Thrift compact-protocol encoder and just enough of parquet.thrift.
"""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# Thrift compact types.
BYTE, I16, I32, I64, BINARY, LIST, STRUCT, TRUE, FALSE = 3, 4, 5, 6, 8, 9, 12, 1, 2


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def zigzag(n):
    return varint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


def value(t, v):
    if t in (I16, I32, I64):
        return zigzag(v)
    if t == BINARY:
        v = v.encode() if isinstance(v, str) else v
        return varint(len(v)) + v
    if t == LIST:
        et, items = v
        head = bytes([len(items) << 4 | et]) if len(items) < 15 else bytes([0xF0 | et]) + varint(len(items))
        return head + b"".join(value(et, x) for x in items)
    if t == STRUCT:
        return struct_(v)
    return b""  # booleans live in the field header


def struct_(fields, long_ids=()):
    """fields: (id, type, value) in id order. Ids in long_ids are written in
    the long form (type byte, then the id as a zigzag varint)."""
    out, last = bytearray(), 0
    for fid, t, v in fields:
        if t in (TRUE, FALSE):
            t = TRUE if v else FALSE
        if 0 < fid - last <= 15 and fid not in long_ids:
            out.append((fid - last) << 4 | t)
        else:
            out += bytes([t]) + zigzag(fid)
        out += value(t, v)
        last = fid
    return bytes(out) + b"\0"


# parquet.thrift, the parts used here.
FLOAT, BYTE_ARRAY, INT32, FIXED_LEN_BYTE_ARRAY = 4, 6, 1, 7
REQUIRED, OPTIONAL, REPEATED = 0, 1, 2
PLAIN, RLE, DELTA_LENGTH_BYTE_ARRAY, RLE_DICTIONARY = 0, 3, 6, 8
UNCOMPRESSED, SNAPPY, GZIP, ZSTD = 0, 1, 2, 6
DATA_PAGE, DICTIONARY_PAGE, DATA_PAGE_V2 = 0, 2, 3


def elem(name, type=None, rep=None, children=None, converted=None, length=None, logical=None):
    """logical: the id of a LogicalType member without fields (15: FLOAT16)."""
    f = []
    if type is not None:
        f.append((1, I32, type))
    if length is not None:
        f.append((2, I32, length))
    if rep is not None:
        f.append((3, I32, rep))
    f.append((4, BINARY, name))
    if children is not None:
        f.append((5, I32, children))
    if converted is not None:
        f.append((6, I32, converted))
    if logical is not None:
        f.append((10, STRUCT, [(logical, STRUCT, [])]))
    return f


def page(ptype, body, usize=None, nvals=1, enc=PLAIN, v2=None, crc=None):
    """A page header and its body. v2: (nulls, rows, def_len, rep_len,
    compressed). crc: True for the CRC-32 of body, or a value to store."""
    f = [(1, I32, ptype), (2, I32, len(body) if usize is None else usize), (3, I32, len(body))]
    if crc is not None:
        c = zlib.crc32(body) if crc is True else crc
        f.append((4, I32, c - (1 << 32) if c >= 1 << 31 else c))
    if ptype == DATA_PAGE:
        f.append((5, STRUCT, [(1, I32, nvals), (2, I32, enc), (3, I32, RLE), (4, I32, RLE)]))
    elif ptype == DICTIONARY_PAGE:
        f.append((7, STRUCT, [(1, I32, nvals), (2, I32, enc)]))
    else:
        nulls, rows, dl, rl, comp = v2
        f.append((8, STRUCT, [(1, I32, nvals), (2, I32, nulls), (3, I32, rows), (4, I32, enc),
                              (5, I32, dl), (6, I32, rl), (7, TRUE, comp)]))
    return struct_(f) + body


def parquet(schema, columns, rows, footer_long_ids=(), file_rows=None):
    """schema: element field lists, root first. columns: per leaf (type,
    codec, values, bytes, dictionary page length or None), one row group.
    file_rows: the footer's row count, when it is not the row group's."""
    out = bytearray(b"PAR1")
    chunks = []
    for type, codec, nvalues, data, dict_len in columns:
        start = len(out)
        out += data
        meta = [(1, I32, type), (2, LIST, (I32, [PLAIN])), (3, LIST, (BINARY, ["x"])), (4, I32, codec),
                (5, I64, nvalues), (6, I64, len(data)), (7, I64, len(data)),
                (9, I64, start + (dict_len or 0))]
        if dict_len:
            meta.append((11, I64, start))
        chunks.append([(2, I64, start), (3, STRUCT, meta)])
    footer = struct_([(1, I32, 1), (2, LIST, (STRUCT, schema)), (3, I64, rows if file_rows is None else file_rows),
                      (4, LIST, (STRUCT, [[(1, LIST, (STRUCT, chunks)), (2, I64, 0), (3, I64, rows)]]))],
                     long_ids=footer_long_ids)
    return bytes(out) + footer + struct.pack("<I", len(footer)) + b"PAR1"


def rle_run(count, v, bw):
    return varint(count << 1) + v.to_bytes((bw + 7) // 8, "little")


def v1_levels(data):
    return struct.pack("<I", len(data)) + data


def floats(*vals):
    body = b"".join(struct.pack("<f", v) for v in vals)
    return page(DATA_PAGE, body, nvals=len(vals))


def zstd_zeros(n):
    """A zstd frame of n zero bytes, in RLE blocks: 4 bytes per 128 KiB."""
    out = b"\x28\xb5\x2f\xfd" + bytes([0xE0]) + struct.pack("<Q", n)
    while n:
        k = min(n, 131072)
        n -= k
        out += struct.pack("<I", (n == 0) | 1 << 1 | k << 3)[:3] + b"\0"
    return out


def files():
    one_float = [elem("schema", children=1), elem("a", FLOAT, REQUIRED)]
    text_too = [elem("schema", children=2), elem("a", FLOAT, REQUIRED), elem("text", BYTE_ARRAY, OPTIONAL)]
    yield "ok.parquet", parquet(one_float, [(FLOAT, UNCOMPRESSED, 3, floats(1, 2, 3), None)], 3)

    # DELTA_LENGTH_BYTE_ARRAY lengths claiming 2^62 values in 2-byte blocks
    # of width 0: the page holds 1 value, so the header is refused at once.
    body = varint(1 << 20) + varint(1) + varint(1 << 62) + zigzag(0) + b"\0\0" * 100 + b"x"
    yield "delta-count.parquet", parquet(
        [elem("schema", children=2), elem("a", FLOAT, REQUIRED), elem("text", BYTE_ARRAY, REQUIRED)],
        [(FLOAT, UNCOMPRESSED, 1, floats(1), None),
         (BYTE_ARRAY, UNCOMPRESSED, 1, page(DATA_PAGE, body, enc=DELTA_LENGTH_BYTE_ARRAY), None)], 1)

    # A first row of 2^26 values in 30 bytes (RLE levels, width-0 indices).
    n = 1 << 26
    d = struct.pack("<f", 0.5)
    chunk = page(DICTIONARY_PAGE, d, nvals=1)
    dict_len = len(chunk)
    body = v1_levels(rle_run(1, 0, 1) + rle_run(n - 1, 1, 1)) + v1_levels(rle_run(n, 3, 2)) + b"\0" + rle_run(n, 0, 0)
    chunk += page(DATA_PAGE, body, nvals=n, enc=RLE_DICTIONARY)
    yield "long-list.parquet", parquet(
        [elem("schema", children=1), elem("embedding", rep=OPTIONAL, children=1, converted=3),
         elem("list", rep=REPEATED, children=1), elem("element", FLOAT, OPTIONAL)],
        [(FLOAT, UNCOMPRESSED, n, chunk, dict_len)], 1)

    # A field id past i16 in the footer (long form, then a delta on top).
    f = parquet(one_float, [(FLOAT, UNCOMPRESSED, 3, floats(1, 2, 3), None)], 3)
    flen = struct.unpack("<I", f[-8:-4])[0]
    footer = bytes([0x05]) + zigzag(0x7FFFFFFF) + zigzag(0) + bytes([0x15]) + zigzag(0) + f[-8 - flen:-8]
    yield "field-id.parquet", f[:-8 - flen] + footer + struct.pack("<I", len(footer)) + b"PAR1"

    # A converted type out of range: ignored, the column is a plain FLOAT.
    yield "converted.parquet", parquet([elem("schema", children=1), elem("a", FLOAT, REQUIRED, converted=0x7FFFFFFF)],
                                       [(FLOAT, UNCOMPRESSED, 3, floats(1, 2, 3), None)], 3)

    # parquet-java's v2 page of nulls: 0 bytes of values, stored as 0 bytes
    # although the chunk is SNAPPY and is_compressed is true.
    lv = rle_run(1, 0, 1)
    yield "v2-null-page.parquet", parquet(text_too, [
        (FLOAT, UNCOMPRESSED, 1, floats(1), None),
        (BYTE_ARRAY, SNAPPY, 1, page(DATA_PAGE_V2, lv, v2=(1, 1, len(lv), 0, True)), None)], 1)

    # Two columns, each a 64 MiB zstd page of zeros (2 KiB stored) said to
    # hold one value: refused before anything is decompressed.
    z = zstd_zeros(64 << 20)
    yield "zstd-bomb.parquet", parquet(
        [elem("schema", children=2), elem("c0", FLOAT, REQUIRED), elem("c1", FLOAT, REQUIRED)],
        [(FLOAT, ZSTD, 1, page(DATA_PAGE, z, usize=64 << 20), None)] * 2, 1)

    # UINT_32 (converted type 13): 3,000,000,000 stays positive.
    body = struct.pack("<I", 3000000000) + struct.pack("<I", 7)
    yield "uint32.parquet", parquet(
        [elem("schema", children=2), elem("id", INT32, REQUIRED, converted=13), elem("v", INT32, REQUIRED, converted=13)],
        [(INT32, UNCOMPRESSED, 1, page(DATA_PAGE, body[:4]), None),
         (INT32, UNCOMPRESSED, 1, page(DATA_PAGE, body[4:]), None)], 1)

    # parquet-rs 0.3's footer: a row count of 0, the rows in the row group.
    # Read by the row group, as DuckDB reads it; any other disagreement is
    # refused.
    yield "zero-rows.parquet", parquet(one_float, [(FLOAT, UNCOMPRESSED, 3, floats(1, 2, 3), None)], 3, file_rows=0)
    yield "two-rows.parquet", parquet(one_float, [(FLOAT, UNCOMPRESSED, 3, floats(1, 2, 3), None)], 3, file_rows=2)


    # FLOAT16 (FIXED_LEN_BYTE_ARRAY of 2, logical type 15): a NaN in row 2
    # of column b, an infinity after it; then a list column with -inf.
    def halfs(*vals):
        return page(DATA_PAGE, struct.pack("<%de" % len(vals), *vals), nvals=len(vals))
    half = dict(type=FIXED_LEN_BYTE_ARRAY, rep=REQUIRED, length=2, logical=15)
    yield "half-nan.parquet", parquet(
        [elem("schema", children=2), elem("a", **half), elem("b", **half)],
        [(FIXED_LEN_BYTE_ARRAY, UNCOMPRESSED, 3, halfs(1, 2, 3), None),
         (FIXED_LEN_BYTE_ARRAY, UNCOMPRESSED, 3, halfs(0.5, float("nan"), float("inf")), None)], 3)
    levels = v1_levels(rle_run(1, 0, 1) + rle_run(2, 1, 1)) + v1_levels(rle_run(3, 3, 2))
    body = levels + struct.pack("<3e", 2 ** -24, 65504, float("-inf"))
    yield "half-list-inf.parquet", parquet(
        [elem("schema", children=1), elem("embedding", rep=OPTIONAL, children=1, converted=3),
         elem("list", rep=REPEATED, children=1), elem("element", FIXED_LEN_BYTE_ARRAY, OPTIONAL, length=2, logical=15)],
        [(FIXED_LEN_BYTE_ARRAY, UNCOMPRESSED, 3, page(DATA_PAGE, body, nvals=3), None)], 1)

    # Page checksums (PageHeader.crc): the CRC-32 of the page as stored,
    # after its header. A v2 page's covers its levels and its compressed
    # values; the one in crc-bad.parquet is off by one.
    lv = rle_run(2, 1, 1)
    vals = struct.pack("<I", 2) + b"hi" + struct.pack("<I", 5) + b"there"
    body = lv + gzip.compress(vals, mtime=0)
    v2 = page(DATA_PAGE_V2, body, usize=len(lv) + len(vals), nvals=2, v2=(0, 2, len(lv), 0, True), crc=True)
    yield "crc-ok.parquet", parquet(text_too, [
        (FLOAT, UNCOMPRESSED, 2, page(DATA_PAGE, struct.pack("<2f", 1, 2), nvals=2, crc=True), None),
        (BYTE_ARRAY, GZIP, 2, v2, None)], 2)
    yield "crc-bad.parquet", parquet(text_too, [
        (FLOAT, UNCOMPRESSED, 2, page(DATA_PAGE, struct.pack("<2f", 1, 2), nvals=2, crc=True), None),
        (BYTE_ARRAY, GZIP, 2, page(DATA_PAGE_V2, body, usize=len(lv) + len(vals), nvals=2,
                                   v2=(0, 2, len(lv), 0, True), crc=zlib.crc32(body) ^ 1), None)], 2)


if __name__ == "__main__":
    for name, data in files():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")
