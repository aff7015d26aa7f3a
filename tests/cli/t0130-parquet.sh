#!/bin/sh
# Parquet inputs end to end: Hub folders of files written by DuckDB and by
# Arrow-based writers build the same index as the same data in CSV; the
# refs/convert/parquet layout; compressed copies; errors name the row.
# The files are tests/parquet/fixtures (see tests/parquet/gen).
. "$FIDX_SRC/tests/cli/lib.sh"

fx=$FIDX_SRC/tests/parquet/fixtures

# build_export NAME INPUT [OPTIONS]: builds NAME.fidx and exports it.
build_export() {
	name=$1 input=$2
	shift 2
	fidx build -q "$@" -o "$name.fidx" "$input" &&
	fidx export -q "$name.fidx" --jsonl "$name.jsonl" --csv "$name.csv"
}

test_expect_success 'setup: the same data as CSV' '
	build_export csv50 "$fx/low-50-8.csv" --id-column id --text-column text &&
	build_export csv2500 "$fx/low-2500-8.csv" --id-column id --text-column text &&
	test_grep "\"id\": \"doc-49\", \"text\": \"text 49 caf" csv50.jsonl
'

for f in duckdb-list3-float-snappy-v1-low duckdb-list3-float-zstd-v1-low duckdb-list3-float-gzip-v1-low \
	pqwasm-list3-float-snappy-pv1-low pqwasm-list3-float-zstd-pv1-low pqwasm-list3-float-gzip-pv1-low \
	hyparquet-list3-float-snappy-pv2-low parquetjs-list2-float-gzip-pv1-low duckdb-wide-float-snappy-v1-low
do
	test_expect_success "a Hub folder of $f builds what the CSV builds" '
		mkdir -p "hub-$f/default/train" &&
		cp "$fx/$f.parquet" "hub-$f/default/train/0000.parquet" &&
		build_export "$f" "hub-$f" &&
		test_cmp csv50.jsonl "$f.jsonl" &&
		test_cmp csv50.csv "$f.csv"
	'
done

for f in duckdb-list3-float-zstd-v1-low-multi duckdb-wide-float-snappy-v2-low-multi \
	pqwasm-list3-float-zstd-pv2-low-multi pqwasm-wide-double-gzip-pv2-low-multi \
	hyparquet-wide-float-zstd-pv2-low-multi parquetjs-repeated-float-gzip-pv2-low-multi
do
	test_expect_success "$f: row groups and pages in order" '
		build_export "$f" "$fx/$f.parquet" &&
		test_cmp csv2500.jsonl "$f.jsonl" &&
		test_cmp csv2500.csv "$f.csv"
	'
done

hostile=$FIDX_SRC/tests/parquet/hostile
test_expect_success 'a footer row count of 0 (parquet-rs 0.3) is read by the row groups, with a warning at -v' '
	fidx build -o zero.fidx "$hostile/zero-rows.parquet" 2>err &&
	echo "fidx-build: wrote zero.fidx: 3 rows from 1 file" >want && test_cmp want err &&
	fidx build -v -o zero.fidx "$hostile/zero-rows.parquet" 2>err &&
	echo "fidx-build: warning: $hostile/zero-rows.parquet: the Parquet footer says 0 rows, its row groups hold 3: read by the row groups (old writers such as parquet-rs 0.3 wrote 0)" >want &&
	grep warning err >got && test_cmp want got &&
	fidx export -q zero.fidx --csv zero.csv && printf "0\n1\n1\n1\n" >want && test_cmp want zero.csv &&
	test_expect_code 3 fidx build -o two.fidx "$hostile/two-rows.parquet" 2>err &&
	echo "fidx-build: error: $hostile/two-rows.parquet: damaged Parquet footer (the row groups hold 3 rows, the file 2)" >want &&
	test_cmp want err
'

test_expect_success 'a YAML config and sharded file names pick Parquet files too' '
	mkdir -p yaml/data &&
	cp "$fx/duckdb-list3-float-snappy-v1-low.parquet" yaml/data/train-00000-of-00001.parquet &&
	cp "$fx/pqwasm-list3-float-zstd-pv1-low.parquet" yaml/data/test-00000-of-00001.parquet &&
	build_export shard yaml --split test &&
	test_cmp csv50.jsonl shard.jsonl &&
	cat >yaml/README.md <<-\EOT &&
	---
	configs:
	- config_name: vectors
	  data_files:
	  - split: train
	    path: "data/test-*.parquet"
	---
	EOT
	build_export conf yaml &&
	test_cmp csv50.jsonl conf.jsonl
'

test_expect_success 'gzip- and zstd-compressed Parquet files read the same' '
	gzip -c "$fx/duckdb-list3-float-snappy-v1-low.parquet" >c.parquet.gz &&
	zstd -q -c "$fx/duckdb-list3-float-snappy-v1-low.parquet" >c.parquet.zst &&
	build_export gz c.parquet.gz &&
	build_export zst c.parquet.zst &&
	test_cmp csv50.jsonl gz.jsonl &&
	test_cmp csv50.jsonl zst.jsonl
'

test_expect_success 'nulls and empty lists are input errors naming the row' '
	test_expect_code 3 fidx build -o n.fidx "$fx/duckdb-list3-float-snappy-v1-low-null-list.parquet" 2>err &&
	test_grep "null-list.parquet: row 2101 \(row group 2, row 53\): the embedding \(column \"embedding\"\) is null" err &&
	test_expect_code 3 fidx build -o n.fidx "$fx/duckdb-wide-float-snappy-v1-low-null-wide.parquet" 2>err &&
	test_grep "row 2500 \(row group 2, row 452\): column \"3\" is null" err &&
	test_expect_code 3 fidx build -o n.fidx "$fx/parquetjs-repeated-float-snappy-pv1-low-emptylist.parquet" 2>err &&
	test_grep "the embedding \(column \"embedding\"\) is empty" err &&
	test_expect_code 3 fidx build -o n.fidx "$fx/pqwasm-list3-float-brotli-pv1-low-unsupported.parquet" 2>err &&
	test_grep "BROTLI compression is not supported" err &&
	test_must_fail test -e n.fidx
'

test_expect_success 'a truncated file is an input error, and the old index stays' '
	cp "$fx/duckdb-list3-float-snappy-v1-low.parquet" t.parquet &&
	fidx build -q -o t.fidx t.parquet &&
	cp t.fidx t.before &&
	head -c 1000 "$fx/duckdb-list3-float-snappy-v1-low.parquet" >t.parquet &&
	test_expect_code 3 fidx build -o t.fidx t.parquet 2>err &&
	test_grep "t.parquet: truncated or damaged Parquet file" err &&
	test_cmp t.before t.fidx
'

# The 50 queries (a batch: BLAS) are the indexed rows themselves, so each
# query's own row ranks first with a score within d * 2^-24 = 5e-7 of 1
# (index/index.h); the last bits are the CPU's BLAS kernel's. The two
# indexes hold the same bits, so their answers are the same bits.
test_expect_success 'Parquet queries search a Parquet-built index as a CSV-built one; --if-changed' '
	q=$fx/duckdb-wide-float-snappy-v1-low.parquet &&
	fidx search --json -k 3 --vectors "$q" csv50.fidx >a.json &&
	fidx search --json -k 3 --vectors "$q" duckdb-list3-float-snappy-v1-low.fidx >b.json &&
	test_cmp a.json b.json &&
	test_top_hit a.json doc-0 1 1e-5 &&
	fidx build --if-changed -o duckdb-list3-float-snappy-v1-low.fidx hub-duckdb-list3-float-snappy-v1-low 2>err &&
	test_grep "up to date" err
'

test_done
