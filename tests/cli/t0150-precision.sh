#!/bin/sh
# Embeddings as people store them: numpy float16 and integer arrays,
# safetensors files of each dtype fidx reads, Parquet FLOAT16 and INT_8 /
# UINT_8 columns written by real writers. Each builds, bit for bit, the
# index that numpy's own float32 conversion of the same values builds;
# integer rows rank as numpy's cosine over the same integers. Parquet page
# checksums are verified.
. "$FIDX_SRC/tests/cli/lib.sh"

fx=$FIDX_SRC/tests/parquet/fixtures
# apache/parquet-testing's data/ folder, when FIDX_PARQUET_TESTING names a
# checkout of it (files from other writers; not part of fidx's tree).
up=${FIDX_PARQUET_TESTING:-/nonexistent}
PYTHONPATH=$FIDX_SRC/tests/safetensors:$FIDX_SRC/tests/cli${PYTHONPATH:+:$PYTHONPATH}
export PYTHONPATH

"$PYTHON" -c "import numpy, pandas" 2>/dev/null || test_skip_all "python3-numpy and python3-pandas are not installed"

# same INPUT WANT [OPTIONS]: INPUT (built with OPTIONS) holds the vectors
# that WANT, a float32 .npy, holds: the two indexes' vectors are the same bits.
same() {
	input=$1 want=$2
	shift 2
	fidx build -q "$@" -o got.fidx "$input" && fidx export -q got.fidx --npy got.npy &&
	fidx build -q -o want.fidx "$want" && fidx export -q want.fidx --npy want.npy &&
	cmp want.npy got.npy
}

test_expect_success 'setup: float32 rows, and what numpy makes of them in half precision, bfloat16 and integers' '
	"$PYTHON" -c "
import numpy as np, st
rng = np.random.default_rng(18)
x = (rng.standard_normal((300, 48)) * 3).astype(np.float32)
x[:, :4] *= 1e-6               # subnormal in float16
np.save(\"f32.npy\", x)
h = x.astype(np.float16)
np.save(\"h.npy\", h)
np.save(\"hbe.npy\", x.astype(\">f2\"))
np.save(\"hfo.npy\", np.asfortranarray(h))
np.save(\"h.want.npy\", h.astype(np.float32))
assert (np.abs(h[:, :4]) < 2.0 ** -14).all() and (h[:, :4] != 0).any()
b = st.bf16(x)
np.save(\"b.want.npy\", st.bf16_to_f32(b[1]))
d = rng.standard_normal((300, 48)) / 7
np.save(\"d.want.npy\", d.astype(np.float32))
st.save_file({\"emb\": x}, \"f32.safetensors\")
st.save_file({\"emb\": h}, \"f16.safetensors\", {\"format\": \"np\"})
st.save_file({\"emb\": b}, \"bf16.safetensors\")
st.save_file({\"emb\": d}, \"f64.safetensors\")
st.save_file({\"embeddings\": h, \"ids\": np.arange(300), \"centroids\": x[:4]}, \"multi.safetensors\")
" &&
	ls -l f32.npy h.npy f32.safetensors f16.safetensors bf16.safetensors >sizes &&
	cat sizes
'

test_expect_success 'numpy float16: either byte order, Fortran order, compressed, on standard input' '
	same h.npy h.want.npy &&
	same hbe.npy h.want.npy &&
	same hfo.npy h.want.npy &&
	gzip -c h.npy >h.npy.gz && same h.npy.gz h.want.npy &&
	zstd -q -c h.npy >h.npy.zst && same h.npy.zst h.want.npy &&
	same - h.want.npy <h.npy
'

test_expect_success 'safetensors F32, F16, BF16 and F64 build what numpy converts them to' '
	same f32.safetensors f32.npy &&
	same f16.safetensors h.want.npy &&
	same bf16.safetensors b.want.npy &&
	same f64.safetensors d.want.npy &&
	gzip -c bf16.safetensors >b.gz && same b.gz b.want.npy &&
	zstd -q -c f16.safetensors >h.zst && same h.zst h.want.npy &&
	cp f16.safetensors data.bin && same data.bin h.want.npy &&
	same - h.want.npy <f16.safetensors &&
	fidx search --json -k 3 --vectors f16.safetensors got.fidx >a.json &&
	fidx search --json -k 3 --vectors h.want.npy got.fidx >b.json &&
	test_cmp a.json b.json
'

test_expect_success 'safetensors: --embedding-column names the tensor; ids and texts are not there' '
	test_expect_code 3 fidx build -o m.fidx multi.safetensors 2>err &&
	test_grep "multi.safetensors: several 2-D tensors \(\"centroids\", \"embeddings\"\): choose the embedding with --embedding-column" err &&
	same multi.safetensors h.want.npy --embedding-column embeddings &&
	test_expect_code 3 fidx build -o m.fidx --embedding-column ids multi.safetensors 2>err &&
	test_grep "multi.safetensors: tensor \"ids\" is not 2-D \(rows, dimension\): its shape has 1 dimension" err &&
	test_expect_code 3 fidx build -o m.fidx --id-column ids multi.safetensors 2>err &&
	test_grep "multi.safetensors holds only tensors: it has no ids or texts for --id-column or --text-column" err &&
	head -c 100 f16.safetensors >cut.safetensors &&
	test_expect_code 3 fidx build -o m.fidx cut.safetensors 2>err &&
	test_grep "cut.safetensors: the file ends inside the safetensors header \(truncated\)" err &&
	test_must_fail test -e m.fidx
'

test_expect_success 'NaN and infinity in half precision name the row and the column' '
	"$PYTHON" -c "
import numpy as np, st
h = np.ones((5, 4), dtype=np.float16); h[3, 2] = np.inf
np.save(\"inf.npy\", h)
st.save_file({\"emb\": h}, \"inf.safetensors\")
b = st.bf16(np.ones((5, 4), dtype=np.float32)); b[1][1, 3] = 0x7fc0
st.save_file({\"emb\": b}, \"nan.safetensors\")
" &&
	test_expect_code 3 fidx build -o z.fidx inf.npy 2>err &&
	test_grep "inf.npy: row 4, column 3: not a finite number" err &&
	test_expect_code 3 fidx build -o z.fidx inf.safetensors 2>err &&
	test_grep "inf.safetensors: row 4, column 3: not a finite number" err &&
	test_expect_code 3 fidx build -o z.fidx nan.safetensors 2>err &&
	test_grep "nan.safetensors: row 2, column 4: not a finite number" err
'

# rank INPUT INTS QUERIES: an index of INPUT answers the queries (a .npy of
# integers) as numpy's cosine over the integers in INTS (a .npy) does.
rank() {
	fidx build -q -o r.fidx "$1" &&
	fidx search --json -k 10 --vectors "$3" r.fidx >r.json &&
	fidx export -q r.fidx --jsonl r.jsonl &&
	"$PYTHON" -c "
import json, sys, numpy as np
from crosscheck import same_up_to_ties, two_bound
x = np.load(sys.argv[1]).astype(np.float64)
q = np.load(sys.argv[2]).astype(np.float64)
s = (q @ x.T) / np.outer(np.linalg.norm(q, axis=1), np.linalg.norm(x, axis=1))
order = np.lexsort((np.tile(np.arange(len(x)), (len(q), 1)), -s), axis=1)[:, :10]
ids = [json.loads(l).get(\"id\", r) for r, l in enumerate(open(\"r.jsonl\"))]
ref = [[{\"corpus_id\": ids[i], \"score\": float(s[qi, i])} for i in row] for qi, row in enumerate(order)]
# fidx rounds each normalized row to float32, then sums in float32: within
# two float32 computations of the exact cosine (crosscheck.py).
same_up_to_ties(\"numpy\", json.load(open(\"r.json\")), ref, two_bound(x.shape[1]))
" "$2" "$3"
}

test_expect_success 'int8 and uint8 embeddings rank as numpy computes cosine over the integers' '
	"$PYTHON" -c "
import numpy as np, st
x = np.load(\"f32.npy\")
# sentence-transformers quantize_embeddings(precision=\"int8\") style: per
# dimension ranges mapped onto -128..127 (fidx does not undo the offsets)
lo, hi = x.min(axis=0), x.max(axis=0)
i8 = np.clip(np.round((x - lo) / ((hi - lo) / 255) - 128), -128, 127).astype(np.int8)
u8 = (i8.astype(np.int16) + 128).astype(np.uint8)
for name, a in ((\"i8\", i8), (\"u8\", u8)):
    np.save(name + \".npy\", a)
    np.save(name + \".q.npy\", a[::30])
    st.save_file({\"emb\": a}, name + \".safetensors\")
r, c = np.meshgrid(np.arange(50), np.arange(8), indexing=\"ij\")
low = (r * 37 + c * 11) % 101 - 50
np.save(\"low-i8.npy\", low.astype(np.int8))
np.save(\"low-u8.npy\", (low + 50).astype(np.uint8))
np.save(\"low-i8.q.npy\", low[::7].astype(np.int8))
np.save(\"low-u8.q.npy\", (low[::7] + 50).astype(np.uint8))
" &&
	rank i8.npy i8.npy i8.q.npy &&
	rank i8.safetensors i8.npy i8.q.npy &&
	rank u8.npy u8.npy u8.q.npy &&
	rank u8.safetensors u8.npy u8.q.npy &&
	rank "$fx/pqwasm-list3-int8-snappy-pv1-low.parquet" low-i8.npy low-i8.q.npy &&
	rank "$fx/hyparquet-list3-int8-snappy-pv2-low.parquet" low-i8.npy low-i8.q.npy &&
	rank "$fx/pqwasm-wide-int8-snappy-pv2-low-intid.parquet" low-i8.npy low-i8.q.npy &&
	rank "$fx/pqwasm-list3-uint8-zstd-pv2-low.parquet" low-u8.npy low-u8.q.npy &&
	rank "$fx/hyparquet-wide-uint8-zstd-pv2-low.parquet" low-u8.npy low-u8.q.npy
'

test_expect_success 'Parquet FLOAT16, plain, dictionary, BYTE_STREAM_SPLIT and DELTA_BYTE_ARRAY, lists and wide' '
	"$PYTHON" -c "
import numpy as np
i = np.arange(50 * 8)
bits = ((i * 2477 + 11) % 0x7c00).astype(np.uint16)
bits[(i % 3 == 1) & (bits != 0)] |= 0x8000
np.save(\"half.want.npy\", bits.view(np.float16).astype(np.float32).reshape(50, 8))
r, c = np.meshgrid(np.arange(2500), np.arange(8), indexing=\"ij\")
np.save(\"low.want.npy\", (((r * 37 + c * 11) % 101 - 50) / 32).astype(np.float16).astype(np.float32))
" &&
	for f in pqwasm-list3-float16-snappy-pv1-half pqwasm-list3-float16-zstd-pv2-half-nodict \
		pqwasm-wide-float16-snappy-pv1-half pqwasm-wide-float16-gzip-pv2-half-nodict \
		hyparquet-list3-float16-snappy-pv2-half hyparquet-list3-float16-uncompressed-pv2-half-nodict \
		hyparquet-list3-float16-zstd-pv2-half-bss hyparquet-wide-float16-snappy-pv2-half \
		hyparquet-wide-float16-gzip-pv2-half-bss
	do
		same "$fx/$f.parquet" half.want.npy || return 1
	done &&
	same "$fx/half-50-8.csv" half.want.npy --id-column id --text-column text &&
	same "$fx/pqwasm-list3-float16-snappy-pv1-low-multi.parquet" low.want.npy &&
	"$PYTHON" -c "import numpy as np; np.save(\"low50.want.npy\", np.load(\"low.want.npy\")[:50])" &&
	same "$fx/pqwasm-wide-float16-zstd-pv2-low.parquet" low50.want.npy &&
	same "$fx/hyparquet-list3-float16-snappy-pv2-low.parquet" low50.want.npy
'

if [ -f "$up/datapage_v1-uncompressed-checksum.parquet" ]; then
test_expect_success 'Parquet FLOAT16 files from pyarrow: the null first row is named' '
	test_expect_code 3 fidx build -o z.fidx "$up/float16_nonzeros_and_nans.parquet" 2>err &&
	test_grep "float16_nonzeros_and_nans.parquet: row 1 \(row group 1, row 1\): column \"x\" is null" err
'

test_expect_success 'Parquet page checksums: right ones read, a wrong one is a damaged file' '
	fidx build -q -o a.fidx "$up/datapage_v1-uncompressed-checksum.parquet" &&
	fidx build -q -o b.fidx "$up/datapage_v1-snappy-compressed-checksum.parquet" &&
	fidx export -q a.fidx --npy a.npy && fidx export -q b.fidx --npy b.npy && cmp a.npy b.npy &&
	test_expect_code 3 fidx build -o c.fidx "$up/datapage_v1-corrupt-checksum.parquet" 2>err &&
	test_grep "^fidx-build: error: .*datapage_v1-corrupt-checksum.parquet: column \"a\", row group 1, page at byte 4: checksum mismatch: the page.s bytes give CRC-32 0f4f6d0a, its header says bbce3b9d \(the file is damaged\)$" err &&
	test_must_fail test -e c.fidx
'
else
	echo "# skip: apache/parquet-testing's files (set FIDX_PARQUET_TESTING to its data/ folder)"
fi

test_expect_success '--list-inputs -v tells the columns or the array each file is read from, and their types' '
	cp "$fx/pqwasm-wide-int8-snappy-pv2-low-intid.parquet" wide.parquet &&
	cp "$fx/hyparquet-list3-float16-snappy-pv2-half.parquet" list.parquet &&
	fidx build --list-inputs -v wide.parquet list.parquet h.npy >out 2>err &&
	fidx build --list-inputs -v --embedding-column embeddings multi.safetensors >>out 2>>err &&
	printf "%s\n" wide.parquet list.parquet h.npy multi.safetensors >want &&
	test_cmp want out &&
	test_grep "^fidx-build: wide.parquet: Parquet: embedding: 8 columns, \"0\" to \"7\" \(8 INT_8\); id: column \"id\" \(INT64\); no text column$" err &&
	test_grep "^fidx-build: list.parquet: Parquet: embedding: list column \"embedding\" of FLOAT16; id: column \"id\" \(BYTE_ARRAY\); text: column \"text\"$" err &&
	test_grep "^fidx-build: h.npy: numpy .npy: 300 x 48 float16$" err &&
	test_grep "^fidx-build: multi.safetensors: safetensors: tensor \"embeddings\", 300 x 48 F16 \(one of 3 tensors\)$" err &&
	fidx build --list-inputs wide.parquet >out 2>err &&
	echo wide.parquet >want && test_cmp want out && test_cmp /dev/null err
'

test_done
