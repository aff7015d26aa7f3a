#!/bin/sh
# Input formats are told by their first bytes, the name only a hint
# (io/readers/reader.h): misnamed and unnamed files build as what they are,
# formats fidx does not read are named in the refusal, and --format and
# --help list the formats from the readers' registry.
. "$FIDX_SRC/tests/cli/lib.sh"

fx=$FIDX_SRC/tests/parquet/fixtures

test_expect_success 'setup: one set of rows as CSV, TSV, .npy, JSON Lines and Parquet' '
	cp "$fx/low-50-8.csv" rows.csv &&
	"$PYTHON" -c "
import json, sys
import numpy as np, pandas as pd
d = pd.read_csv(\"rows.csv\")
v = d[[str(i) for i in range(8)]].to_numpy(dtype=np.float32)
np.save(\"rows.npy\", v)
pd.DataFrame(v).to_csv(\"plain.csv\", index=False)
with open(\"rows.jsonl\", \"w\") as f:
    for row in v.tolist():
        f.write(json.dumps({\"embedding\": row}) + \"\\n\")
" &&
	tr , "	" <plain.csv >plain.tsv &&
	cp "$fx/duckdb-list3-float-snappy-v1-low.parquet" rows.parquet &&
	fidx build -q -o want.fidx plain.csv &&
	fidx export -q want.fidx --csv want.csv
'

# same INDEX: INDEX holds the vectors of want.fidx.
same() {
	fidx export -q "$1" --csv got.csv && test_cmp want.csv got.csv
}

test_expect_success 'a Parquet file without its suffix, or named .csv, reads as Parquet' '
	cp rows.parquet part-0 && cp rows.parquet looks.csv &&
	fidx build -q -o p0.fidx part-0 && same p0.fidx &&
	fidx build -q -o p1.fidx looks.csv && same p1.fidx &&
	fidx build -q -o p2.fidx - <rows.parquet && same p2.fidx
'

test_expect_success 'a .npy file named x.bin, compressed or not, or on standard input' '
	cp rows.npy x.bin && gzip -c rows.npy >x.bin.gz && zstd -q -c rows.npy >x.zst &&
	fidx build -q -o n0.fidx x.bin && same n0.fidx &&
	fidx build -q -o n1.fidx x.bin.gz && same n1.fidx &&
	fidx build -q -o n2.fidx x.zst && same n2.fidx &&
	fidx build -q -o n3.fidx - <rows.npy && same n3.fidx
'

test_expect_success 'one file whose header gives its rows has its codes written ahead of the vectors' '
	test "$(codes_where n0.fidx)" = ahead && test "$(codes_where n3.fidx)" = ahead &&
	test "$(codes_where p0.fidx)" = ahead &&
	test "$(codes_where want.fidx)" = after &&
	fidx build -q -o two.fidx rows.npy rows.npy && test "$(codes_where two.fidx)" = after &&
	fidx export -q two.fidx --csv two.csv && sed 1d want.csv >rows.body &&
	{ cat want.csv && cat rows.body; } >want2.csv && test_cmp want2.csv two.csv
'

test_expect_success 'TSV and JSON Lines on standard input, by their first line' '
	fidx build -q -o t.fidx - <plain.tsv && same t.fidx &&
	fidx build -q -o j.fidx - <rows.jsonl && same j.fidx &&
	gzip -c rows.jsonl >rows.data.gz &&
	fidx build -q -o jz.fidx rows.data.gz && same jz.fidx
'

test_expect_success '--format decides when the bytes and the name do not' '
	cp plain.tsv tabs.csv &&
	test_expect_code 3 fidx build -q -o f.fidx tabs.csv 2>err &&
	fidx build -q --format tsv -o f.fidx tabs.csv && same f.fidx &&
	test_expect_code 2 fidx build --format arrow -o f.fidx tabs.csv 2>err &&
	test_grep "^fidx-build: error: --format expects csv, tsv, npy, faiss, jsonl, parquet or safetensors, not \"arrow\"" err &&
	fidx build --help >help &&
	test_grep "^ {29}csv, tsv, npy, faiss, jsonl, parquet or safetensors$" help &&
	fidx search --help >help &&
	test_grep "^ {29}csv, tsv, npy, faiss, jsonl, parquet or safetensors$" help
'

test_expect_success 'a format fidx does not read is named, by its bytes or its name' '
	printf "ARROW1\0\0rest of an Arrow file" >data.bin &&
	test_expect_code 3 fidx build -o a.fidx data.bin 2>err &&
	test_grep "^fidx-build: error: data.bin: Arrow files are not supported \(fidx reads .csv, .tsv, .npy, .faiss, .jsonl, .parquet and .safetensors, optionally .gz or .zst\)$" err &&
	cp rows.jsonl rows.json &&
	test_expect_code 3 fidx build -o a.fidx rows.json 2>err &&
	test_grep "rows.json: JSON files are not supported" err &&
	test_must_fail test -e a.fidx
'

test_expect_success 'search --vectors takes the same formats' '
	"$PYTHON" -c "import numpy as np; np.save(\"q.npy\", np.load(\"rows.npy\")[:3])" &&
	cp q.npy q.bin &&
	head -n 4 plain.csv >q.csv &&
	fidx search --json -k 2 --vectors q.csv want.fidx >a.json &&
	fidx search --json -k 2 --vectors q.bin want.fidx >b.json &&
	fidx search --json -k 2 --vectors - want.fidx <q.npy >c.json &&
	test_cmp a.json b.json && test_cmp a.json c.json &&
	fidx search -k 1 --vectors q.csv want.fidx >a.txt &&
	test_grep "^query: vector at line 2$" a.txt &&
	fidx search -k 1 --vectors q.bin want.fidx >b.txt &&
	test_grep "^query: vector at row 1$" b.txt
'

test_expect_success 'texts come from text, CSV or TSV files, not from other formats' '
	test_expect_code 3 fidx build -o tx.fidx --texts rows.parquet 2>err &&
	test_grep "rows.parquet: texts are read from text files \(one per line\), CSV or TSV, not from Parquet files" err
'

test_done
