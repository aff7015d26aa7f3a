#!/bin/sh
# fidx export and the formats other tools read: FAISS, numpy, pandas, JSON
# Lines, checked with Debian's python3-faiss, numpy and pandas; search
# --jsonl; outputs that would clobber what is not fidx's.
. "$FIDX_SRC/tests/cli/lib.sh"

test_expect_success 'setup: an index with string ids and texts, one with implicit ids' '
	"$PYTHON" -c "
import numpy as np
rng = np.random.default_rng(7)
x = rng.standard_normal((500, 24)).astype(np.float32)
with open(\"v.csv\", \"w\") as f:
    f.write(\"slug,title,\" + \",\".join(map(str, range(24))) + \"\\n\")
    for i, row in enumerate(x):
        f.write(\"item-%d,\\\"Title \\\"\\\"%d\\\"\\\", caf\\u00e9\\\",\" % (i, i) + \",\".join(repr(float(v)) for v in row) + \"\\n\")
with open(\"plain.csv\", \"w\") as f:
    for row in x:
        f.write(\",\".join(repr(float(v)) for v in row) + \"\\n\")
" &&
	fidx build -q --id-column slug --text-column title -o s.fidx v.csv &&
	fidx build -q -o p.fidx plain.csv
'

test_expect_success 'faiss.read_index loads the export and finds what fidx finds' '
	fidx export s.fidx --faiss s.faiss --npy s.npy 2>err &&
	test_grep "exported s.fidx: 500 rows of dimension 24 to 2 files" err &&
	fidx search --json -k 5 --vectors plain.csv p.fidx >fidx.json &&
	"$PYTHON" -c "
import faiss, json, numpy as np
ix = faiss.read_index(\"s.faiss\")
assert ix.ntotal == 500 and ix.d == 24 and ix.metric_type == faiss.METRIC_INNER_PRODUCT
x = np.load(\"s.npy\")
D, I = ix.search(x, 5)
json.dump([sorted(({\"corpus_id\": int(i), \"score\": float(d)} for i, d in zip(I[q], D[q])),
                  key=lambda h: (-h[\"score\"], h[\"corpus_id\"])) for q in range(500)], open(\"faiss.json\", \"w\"))
" &&
	"$PYTHON" "$FIDX_SRC/tests/cli/crosscheck.py" same fidx.json faiss.json 24
'

test_expect_success 'numpy.load and pandas.read_csv give the index vectors bit for bit' '
	fidx export p.fidx --npy p.npy --csv p.csv &&
	fidx export p.fidx --faiss p.faiss &&
	"$PYTHON" -c "
import faiss, numpy as np, pandas as pd
x = np.load(\"p.npy\")
assert x.dtype == np.float32 and x.shape == (500, 24) and x.flags.c_contiguous
df = pd.read_csv(\"p.csv\", float_precision=\"round_trip\")
assert list(df.columns) == [str(i) for i in range(24)]
assert (df.to_numpy(dtype=np.float32) == x).all()
ix = faiss.read_index(\"p.faiss\")
assert (faiss.vector_to_array(ix.codes).view(np.float32).reshape(500, 24) == x).all()
n = np.linalg.norm(x.astype(np.float64), axis=1)
assert abs(n - 1).max() < 1e-6
" &&
	fidx build -q -o again.fidx p.csv && fidx export again.fidx --npy again.npy && cmp p.npy again.npy
'

test_expect_success 'JSON Lines: ids and texts, any bytes valid JSON' '
	fidx export s.fidx --jsonl s.jsonl && fidx export p.fidx --jsonl p.jsonl &&
	"$PYTHON" -c "
import json
s = [json.loads(l) for l in open(\"s.jsonl\", encoding=\"utf-8\")]
assert len(s) == 500 and s[3] == {\"id\": \"item-3\", \"text\": \"Title \\\"3\\\", caf\\u00e9\"}, s[3]
p = [json.loads(l) for l in open(\"p.jsonl\")]
assert p[0] == {\"id\": 0} and p[499] == {\"id\": 499}
" &&
	printf "t\\nok\\n\\377\\376 bad bytes \\001\\n" >odd.txt &&
	fidx build -q --texts odd.txt -o odd.fidx 2>/dev/null || printf "ok\\nbad \\377\\376 bytes\\n" >odd.txt &&
	fidx build -q --texts odd.txt -o odd.fidx && fidx export odd.fidx --jsonl odd.jsonl &&
	"$PYTHON" -c "import json; [json.loads(l) for l in open(\"odd.jsonl\", encoding=\"utf-8\")]" &&
	fidx search --jsonl -k 2 odd.fidx "bad bytes" >hits.jsonl &&
	"$PYTHON" -c "
import json
h = [json.loads(l) for l in open(\"hits.jsonl\", encoding=\"utf-8\")]
assert [x[\"rank\"] for x in h] == [1, 2] and h[0][\"query\"] == 0 and \"\\ufffd\" in h[0][\"text\"], h
"
'

test_expect_success 'search --jsonl: one object per hit, scores that read back exact' '
	fidx search --jsonl -k 3 --id item-7 --id item-9 s.fidx >h.jsonl &&
	fidx search --tsv -k 3 --id item-7 --id item-9 s.fidx >h.tsv &&
	"$PYTHON" -c "
import json
h = [json.loads(l) for l in open(\"h.jsonl\", encoding=\"utf-8\")]
t = [l.rstrip(\"\\n\").split(\"\\t\") for l in open(\"h.tsv\", encoding=\"utf-8\")]
assert len(h) == 6 and [x[\"query\"] for x in h] == [0, 0, 0, 1, 1, 1]
assert [x[\"corpus_id\"] for x in h] == [r[2] for r in t]
assert [repr(x[\"score\"]) for x in h] == [r[3] for r in t]
assert h[0][\"corpus_id\"] == \"item-7\" and h[0][\"text\"] == \"Title \\\"7\\\", caf\\u00e9\"
"
'

test_expect_success 'numpy .npy in: float32 or float64, C or Fortran order, either byte order' '
	"$PYTHON" -c "
import numpy as np
x = np.load(\"p.npy\")
np.save(\"c64.npy\", x.astype(np.float64))
np.save(\"f32.npy\", np.asfortranarray(x))
np.save(\"be.npy\", x.astype(\">f4\"))
np.save(\"ints.npy\", np.arange(6).reshape(3, 2))
np.save(\"flat.npy\", x[0])
y = x.copy(); y[3, 4] = np.inf; np.save(\"inf.npy\", y)
open(\"cut.npy\", \"wb\").write(open(\"p.npy\", \"rb\").read()[:-5])
" &&
	for f in p c64 f32 be; do
		fidx build -q -o n-$f.fidx $f.npy && fidx export -q n-$f.fidx --npy n-$f.npy && cmp p.npy n-$f.npy || return 1
	done &&
	gzip -k p.npy && fidx build -q -o gz.fidx p.npy.gz && fidx export -q gz.fidx --npy gz.npy && cmp p.npy gz.npy &&
	test_expect_code 3 fidx build -o z.fidx ints.npy 2>err && test_grep "holds .<i8., not a type fidx reads \(float16, float32, float64, int8, uint8, int16 or uint16" err &&
	test_expect_code 3 fidx build -o z.fidx flat.npy 2>err && test_grep "flat.npy: the array is not 2-D" err &&
	test_expect_code 3 fidx build -o z.fidx inf.npy 2>err && test_grep "inf.npy: row 4, column 5: not a finite number" err &&
	test_expect_code 3 fidx build -o z.fidx cut.npy 2>err && test_grep "cut.npy: the file ends in row 500 of the 500" err &&
	test_expect_code 3 fidx build --id-column id -o z.fidx p.npy 2>err && test_grep "p.npy holds only vectors" err &&
	mkdir hub && cp p.npy hub/train.npy && fidx build -q -o hub.fidx hub && fidx export -q hub.fidx --npy hub.npy && cmp p.npy hub.npy
'

test_expect_success 'JSON Lines in: embedding, id and text fields, gzip, errors with line and column' '
	"$PYTHON" -c "
import json, numpy as np
x = np.load(\"p.npy\")
with open(\"in.jsonl\", \"w\") as f:
    for i, r in enumerate(x):
        f.write(json.dumps({\"id\": \"doc-%d\" % i, \"text\": \"t%d\" % i, \"embedding\": [float(v) for v in r]}) + \"\\n\")
with open(\"vec.ndjson\", \"w\") as f:
    for i, r in enumerate(x):
        f.write(json.dumps({\"n\": i, \"vec\": [float(v) for v in r]}) + \"\\r\\n\\n\")
open(\"syntax.jsonl\", \"w\").write(\"{\\\"embedding\\\": [1, 2]}\\n{\\\"embedding\\\": [1, 2, oops]}\\n\")
open(\"noid.jsonl\", \"w\").write(\"{\\\"embedding\\\": [1, 2], \\\"id\\\": 3}\\n{\\\"embedding\\\": [1, 2]}\\n\")
open(\"dim.jsonl\", \"w\").write(\"{\\\"embedding\\\": [1, 2]}\\n{\\\"embedding\\\": [1]}\\n\")
" &&
	fidx build -q -o j.fidx in.jsonl && fidx export -q j.fidx --npy j.npy && cmp p.npy j.npy &&
	fidx search --tsv -k 1 --id doc-7 j.fidx >hit && test_grep "^1	1	doc-7	1.0	t7$" hit &&
	fidx build -q -o v.fidx --embedding-column vec --id-column n vec.ndjson &&
	fidx export -q v.fidx --npy v.npy && cmp p.npy v.npy && fidx search --tsv -k 1 --id 499 v.fidx >/dev/null &&
	gzip -k in.jsonl && fidx build -q -o jgz.fidx in.jsonl.gz && fidx export -q jgz.fidx --npy jgz.npy && cmp p.npy jgz.npy &&
	test_expect_code 3 fidx build -o z.fidx syntax.jsonl 2>err && test_grep "syntax.jsonl:2:22: not valid JSON" err &&
	test_expect_code 3 fidx build -o z.fidx noid.jsonl 2>err && test_grep "noid.jsonl:2: no .id. field" err &&
	test_expect_code 3 fidx build -o z.fidx dim.jsonl 2>err && test_grep "dim.jsonl:2: the embedding has 1 values, the first one 2" err
'

if command -v zstd >/dev/null 2>&1; then
test_expect_success 'zstd-compressed inputs: CSV, .npy and JSON Lines, in a Hub folder too' '
	zstd -q p.csv -o z.csv.zst && zstd -q p.npy -o z.npy.zst && zstd -q in.jsonl -o z.jsonl.zst &&
	for f in z.csv.zst z.npy.zst z.jsonl.zst; do
		fidx build -q -o zz.fidx $f && fidx export -q zz.fidx --npy zz.npy && cmp p.npy zz.npy || return 1
	done &&
	mkdir zhub && cp z.npy.zst zhub/train.npy.zst && fidx build -q -o zh.fidx zhub &&
	head -c 100 z.csv.zst >cut.csv.zst && test_expect_code 3 fidx build -o x.fidx cut.csv.zst 2>err &&
	test_grep "cut.csv.zst: truncated zstd data" err
'
fi

test_expect_success 'a FAISS flat index builds back into the same index; other FAISS files are refused' '
	fidx build -q -o back.fidx p.faiss && fidx export -q back.fidx --npy back.npy && cmp p.npy back.npy &&
	"$PYTHON" -c "
import faiss, numpy as np
x = np.load(\"p.npy\")
l2 = faiss.IndexFlatL2(24); l2.add(x); faiss.write_index(l2, \"l2.faiss\")
hnsw = faiss.IndexHNSWFlat(24, 8); hnsw.add(x); faiss.write_index(hnsw, \"hnsw.faiss\")
" &&
	fidx build -q -o l2.fidx l2.faiss && fidx export -q l2.fidx --npy l2.npy && cmp p.npy l2.npy &&
	test_expect_code 3 fidx build -o z.fidx hnsw.faiss 2>err &&
	test_grep "hnsw.faiss: not a FAISS flat index \(IndexFlatIP or IndexFlatL2\): its kind is \"IHNf\"" err &&
	head -c 100 p.faiss >cut.faiss && test_expect_code 3 fidx build -o z.fidx cut.faiss 2>err &&
	test_grep "cut.faiss: the file ends in row" err &&
	cat p.faiss p.faiss >two.faiss && test_expect_code 3 fidx build -o z.fidx two.faiss 2>err &&
	test_grep "bytes after the last of the 500 rows" err
'

test_expect_success 'search --fields picks and orders the columns of --tsv and --jsonl' '
	fidx search --tsv --fields score,id -k 3 --id item-7 --id item-9 s.fidx >f.tsv &&
	cut -f 4,3 h.tsv | awk -F "\t" "{ print \$2 \"\t\" \$1 }" >want && test_cmp want f.tsv &&
	fidx search --jsonl --fields corpus_id,rank -k 1 --id item-7 s.fidx >f.jsonl &&
	echo "{\"corpus_id\": \"item-7\", \"rank\": 1}" >want && test_cmp want f.jsonl &&
	test_expect_code 2 fidx search --fields id --id item-7 s.fidx 2>err && test_grep "goes with --tsv or --jsonl" err &&
	test_expect_code 2 fidx search --tsv --fields id,nope --id item-7 s.fidx 2>err && test_grep "\"nope\" is not one of" err
'

test_expect_success 'an index never replaces a file that is not one, or an input' '
	cp plain.csv keep.csv &&
	test_expect_code 3 fidx build -o keep.csv plain.csv 2>err &&
	test_grep "keep.csv exists and is not a fidx index: give --force to replace it" err &&
	cmp plain.csv keep.csv &&
	test_expect_code 3 fidx merge -o keep.csv p.fidx 2>err && cmp plain.csv keep.csv &&
	test_expect_code 3 fidx build --force -o plain.csv plain.csv 2>err &&
	test_grep "plain.csv is an input: fidx does not write over its inputs" err &&
	cmp plain.csv keep.csv &&
	fidx build -q --force -o keep.csv plain.csv && fidx info -q keep.csv &&
	: >empty.fidx && fidx build -q -o empty.fidx plain.csv &&
	mkdir dir.fidx && test_expect_code 3 fidx build --force -o dir.fidx plain.csv &&
	test_expect_code 3 fidx export p.fidx --npy p.fidx 2>err &&
	test_grep "must not write over the index it reads" err
'

test_done
