#!/bin/sh
# fidx build: inputs, layouts, and every error path.
. "$FIDX_SRC/tests/cli/lib.sh"

# rows ROWS DIM SEED: a pandas-style CSV (header 0..DIM-1) of small floats.
rows() {
	awk -v n="$1" -v d="$2" -v s="$3" 'BEGIN {
		srand(s);
		for (j = 0; j < d; j++) printf "%s%d", (j ? "," : ""), j; printf "\n";
		for (i = 0; i < n; i++) {
			for (j = 0; j < d; j++) printf "%s%.8g", (j ? "," : ""), rand() - 0.5;
			printf "\n";
		}
	}'
}

test_expect_success 'builds from a pandas-style CSV' '
	rows 50 16 1 >e.csv &&
	fidx build -o e.fidx e.csv 2>err &&
	test_grep "^fidx-build: wrote e.fidx: 50 rows from 1 file$" err &&
	fidx info e.fidx >info &&
	test_grep "dimension: +16$" info &&
	test_grep "count: +50$" info &&
	test_grep "ids: +implicit, 0..49" info
'

test_expect_success 'header-less, TSV, gzip and standard input give the same vectors' '
	tail -n +2 e.csv >nohead.csv &&
	tr , "	" <e.csv >e.tsv &&
	gzip -c e.csv >e.csv.gz &&
	fidx build -q -o a.fidx nohead.csv &&
	fidx build -q -o b.fidx e.tsv &&
	fidx build -q -o c.fidx e.csv.gz &&
	fidx build -q -o d.fidx - <e.csv &&
	fidx search --json --id 3 e.fidx >want &&
	for f in a b c d; do
		fidx search --json --id 3 $f.fidx >got && test_cmp want got || return 1
	done
'

# The exact score holds on every CPU and either search path: the row
# (0,1,0) has one non-zero component, so the inner product is the query's
# second component however the additions are ordered, and that component
# is fidx's own normalization (double, a fixed order, no FMA contraction).
test_expect_success 'id and text columns, and a list-valued embedding column' '
	printf "slug,title,0,1,2\nfaq-a,First,1,0,0\nfaq-b,\"Second, with a comma\",0,1,0\nfaq-c,Third,0,0,1\n" >m.csv &&
	fidx build -q -o m.fidx --id-column slug --text-column title m.csv &&
	printf "0,1,0.1\n" | fidx search --tsv --vectors - m.fidx >out &&
	printf "1\t1\tfaq-b\t0.9950371980667114\tSecond, with a comma\n" >want.tsv &&
	head -n 1 out >got.tsv && test_cmp want.tsv got.tsv &&
	printf "id,emb\n10,\"[1, 0, 0]\"\n20,\"[0, 1, 0]\"\n" >l.csv &&
	fidx build -q -o l.fidx --id-column id --embedding-column emb l.csv &&
	fidx info l.fidx >info && test_grep "ids: +integers, 10..20" info
'

test_expect_success 'texts from a file, zipped with the rows' '
	printf "0,1\n1,0\n0,1\n" >t.csv &&
	printf "alpha\nbeta\n" >t.txt &&
	fidx build -q -o t.fidx --texts t.txt t.csv &&
	fidx search --id 1 -k 1 t.fidx >out &&
	test_grep "beta" out &&
	printf "alpha\n" >short.txt &&
	test_expect_code 3 fidx build -o x.fidx --texts short.txt t.csv 2>err &&
	test_grep "short.txt has 1 texts but the inputs have more rows \(the next is at t.csv:3\)" err &&
	printf "a\nb\nc\n" >long.txt &&
	test_expect_code 3 fidx build -o x.fidx --texts long.txt t.csv 2>err &&
	test_grep "long.txt has more texts than the inputs have rows \(2\)" err
'

test_expect_success 'bad input is reported with file, line and column' '
	printf "0,1,2\n0.1,0.2,0.3\n0.1,abc,0.3\n" >bad.csv &&
	test_expect_code 3 fidx build -o x.fidx bad.csv 2>err &&
	echo "fidx-build: error: bad.csv:3:2: expected a number, found \"abc\" (not a number)" >want &&
	test_cmp want err &&
	printf "0,1\n0.1,nan\n" >nan.csv &&
	test_expect_code 3 fidx build -o x.fidx nan.csv 2>err &&
	test_grep "nan.csv:2:2: expected a number, found \"nan\" \(not a finite number\)" err &&
	printf "0,1\n0,0\n" >zero.csv &&
	test_expect_code 3 fidx build -o x.fidx zero.csv 2>err &&
	test_grep "zero.csv:2: the vector is all zeros and cannot be normalized" err &&
	printf "0,1\n1,2\n3\n" >ragged.csv &&
	test_expect_code 3 fidx build -o x.fidx ragged.csv 2>err &&
	test_grep "ragged.csv:3: expected 2 fields, found 1" err &&
	printf "0,1,2\n" >empty.csv &&
	test_expect_code 3 fidx build -o x.fidx empty.csv 2>err &&
	test_grep "empty.csv: no rows" err &&
	printf "0,1\n1,\"2\n" >quote.csv &&
	test_expect_code 3 fidx build -o x.fidx quote.csv 2>err &&
	test_grep "quote.csv:2:2: quoted field not closed" err &&
	test_must_fail test -e x.fidx
'

test_expect_success 'inputs must share one dimension; ids must be unique' '
	rows 3 4 2 >d4.csv && rows 3 5 3 >d5.csv &&
	test_expect_code 3 fidx build -o x.fidx d4.csv d5.csv 2>err &&
	test_grep "d5.csv:2: the row has 5 dimensions, earlier rows have 4" err &&
	printf "id,0,1\n7,1,0\n8,0,1\n7,1,1\n" >dup.csv &&
	test_expect_code 3 fidx build -o x.fidx --id-column id dup.csv 2>err &&
	test_grep "dup.csv:4: duplicate id \"7\" \(first seen at dup.csv:2\)" err
'

test_expect_success 'missing files are I/O errors; unsupported formats are named' '
	test_expect_code 4 fidx build -o x.fidx nosuch.csv 2>err &&
	test_grep "nosuch.csv: No such file or directory" err &&
	: >data.arrow &&
	test_expect_code 3 fidx build -o x.fidx data.arrow 2>err &&
	test_grep "data.arrow: Arrow files are not supported" err &&
	: >empty.parquet &&
	test_expect_code 3 fidx build -o x.fidx empty.parquet 2>err &&
	test_grep "empty.parquet: not a Parquet file \(it does not start with PAR1\)" err
'

test_expect_success 'an output folder that is missing or a file: build, merge and export name the output' '
	test_expect_code 4 fidx build -o nosuch/dir/x.fidx e.csv 2>err &&
	echo "fidx-build: error: cannot write nosuch/dir/x.fidx: the folder nosuch/dir does not exist" >want &&
	test_cmp want err &&
	test_expect_code 4 fidx merge -o nosuch/dir/x.fidx e.fidx 2>err &&
	echo "fidx-merge: error: cannot write nosuch/dir/x.fidx: the folder nosuch/dir does not exist" >want &&
	test_cmp want err &&
	test_expect_code 4 fidx export e.fidx --csv nosuch/x.csv 2>err &&
	echo "fidx-export: error: cannot write nosuch/x.csv: the folder nosuch does not exist" >want &&
	test_cmp want err &&
	test_expect_code 4 fidx build -o e.csv/x.fidx e.csv 2>err &&
	echo "fidx-build: error: cannot write e.csv/x.fidx: e.csv is not a folder" >want &&
	test_cmp want err &&
	test_must_fail test -e nosuch
'

# A folder that is not writable stops no one running as root: as root, the
# steps below run the command as nobody (setpriv), else as the user. A
# read-only file system is a tmpfs mounted read-only in a mount namespace
# of its own (unshare), so nothing outside the test sees it.
chmod 755 "$scratch"
if [ "$(id -u)" != 0 ]; then
	as_user=
elif setpriv --reuid=65534 --regid=65534 --clear-groups fidx --version >/dev/null 2>&1 &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$scratch/e.csv"; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
	as_user=none
fi
if [ "$as_user" != none ]; then
test_expect_success 'an output folder that is not writable: build, merge and export say so' '
	mkdir locked && chmod 555 locked &&
	test_expect_code 4 $as_user fidx build -o locked/x.fidx e.csv 2>err &&
	echo "fidx-build: error: cannot write locked/x.fidx: the folder locked is not writable" >want &&
	test_cmp want err &&
	(cd locked && test_expect_code 4 $as_user fidx build -o x.fidx ../e.csv) 2>err &&
	echo "fidx-build: error: cannot write x.fidx: the current folder is not writable" >want &&
	test_cmp want err &&
	chmod 755 locked && touch locked/.x.fidx.lock && chmod 666 locked/.x.fidx.lock && chmod 555 locked &&
	test_expect_code 4 $as_user fidx merge -o locked/x.fidx e.fidx 2>err &&
	echo "fidx-merge: error: cannot write locked/x.fidx: the folder locked is not writable" >want &&
	test_cmp want err &&
	test_expect_code 4 $as_user fidx export e.fidx --npy locked/x.npy 2>err &&
	echo "fidx-export: error: cannot write locked/x.npy: the folder locked is not writable" >want &&
	test_cmp want err &&
	test "$(ls -A locked)" = .x.fidx.lock
'
else
	echo "# skipped: a folder that is not writable (running as root, and setpriv cannot run fidx as nobody)"
fi
if mkdir rofs && unshare -rm sh -c "mount -t tmpfs -o ro tmpfs rofs" 2>/dev/null; then
test_expect_success 'an output folder on a read-only file system: the message says so' '
	unshare -rm sh -c "mount -t tmpfs -o ro tmpfs rofs && exec fidx build -o rofs/x.fidx e.csv" 2>err;
	test $? = 4 &&
	echo "fidx-build: error: cannot write rofs/x.fidx: the folder rofs is on a read-only file system" >want &&
	test_cmp want err
'
else
	echo "# skipped: a read-only file system (unshare -rm cannot mount a tmpfs here)"
fi

test_expect_success 'a failed build leaves the previous index byte-identical and no temporary file' '
	cp e.fidx keep.fidx &&
	test_expect_code 3 fidx build -o e.fidx bad.csv 2>err &&
	cmp e.fidx keep.fidx &&
	test "$(ls -A | grep -c "tmp")" = 0
'

test_expect_success 'an interrupted build removes its temporary file' '
	cp e.fidx keep.fidx &&
	mkfifo feed &&
	{ fidx build -q -o e.fidx - <feed 2>/dev/null & } &&
	pid=$! &&
	exec 7>feed &&
	head -n 3 e.csv >&7 &&
	n=0 &&
	while [ "$(ls -A | grep -c "\.e\.fidx\.tmp")" = 0 ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done &&
	test "$(ls -A | grep -c "\.e\.fidx\.tmp")" = 1 &&
	kill -TERM $pid &&
	{ wait $pid; test $? -gt 128; } &&
	exec 7>&- &&
	test "$(ls -A | grep -c "tmp")" = 0 &&
	cmp e.fidx keep.fidx
'

# Byte-identical on every machine: parsing is exact (strtof's result in
# any locale), normalization is fidx's own double arithmetic in a fixed
# order, blocks are compressed independently of the thread that does it,
# and nothing else depends on the CPU or the core count.
test_expect_success 'the same inputs give a byte-identical index, with any number of threads' '
	SOURCE_DATE_EPOCH=1700000000 fidx build -q -o r1.fidx e.csv &&
	SOURCE_DATE_EPOCH=1700000000 fidx build -q -o r2.fidx e.csv &&
	cmp r1.fidx r2.fidx &&
	rows 30000 16 4 >big.csv &&
	SOURCE_DATE_EPOCH=1700000000 fidx build -q --threads 1 -o t1.fidx big.csv &&
	SOURCE_DATE_EPOCH=1700000000 fidx build -q --threads 3 -o t3.fidx big.csv &&
	cmp t1.fidx t3.fidx &&
	SOURCE_DATE_EPOCH=1700000000 fidx merge -q --threads 1 -o m1.fidx t1.fidx r1.fidx &&
	SOURCE_DATE_EPOCH=1700000000 fidx merge -q --threads 3 -o m3.fidx t1.fidx r1.fidx &&
	cmp m1.fidx m3.fidx
'

test_expect_success 'a Hub-style folder builds through its dataset card' '
	mkdir -p hub/data &&
	rows 4 8 5 >hub/data/train.csv &&
	rows 2 8 6 >hub/data/test.csv &&
	fidx build -q -o h.fidx hub &&
	fidx info h.fidx >info && test_grep "count: +4$" info &&
	fidx build -q -o h2.fidx --split test hub &&
	fidx info h2.fidx >info && test_grep "count: +2$" info
'

test_expect_success '--list-inputs: the files a build reads, in its order; building them gives the same index' '
	mkdir -p "list me/data" &&
	rows 3 8 11 >"list me/data/train-00001-of-00002.csv" &&
	rows 2 8 12 >"list me/data/train-00000-of-00002.csv" &&
	rows 2 8 13 >"list me/data/test-00000-of-00001.csv" &&
	rows 1 8 14 >"plain one.csv" &&
	fidx build --list-inputs "list me" "plain one.csv" hub >got &&
	printf "%s\n" "list me/data/train-00000-of-00002.csv" "list me/data/train-00001-of-00002.csv" \
		"plain one.csv" hub/data/train.csv >want &&
	test_cmp want got &&
	fidx build --list-inputs --split test "list me" >got &&
	echo "list me/data/test-00000-of-00001.csv" >want && test_cmp want got &&
	fidx build -q -o folder.fidx "list me" "plain one.csv" &&
	fidx build --list-inputs "list me" "plain one.csv" >listed &&
	set -- && while IFS= read -r f; do set -- "$@" "$f"; done <listed &&
	test $# -eq 3 && fidx build -q -o files.fidx "$@" &&
	fidx export -q folder.fidx --csv folder.csv --jsonl folder.jsonl &&
	fidx export -q files.fidx --csv files.csv --jsonl files.jsonl &&
	test_cmp folder.csv files.csv && test_cmp folder.jsonl files.jsonl &&
	test $(wc -l <files.csv) -eq 7
'

test_expect_success '--list-inputs: what a build would refuse is refused, nothing is built' '
	test_expect_code 4 fidx build --list-inputs hub missing.csv >out 2>err &&
	test_grep "missing.csv: No such file or directory" err && test_cmp /dev/null out &&
	test_expect_code 3 fidx build --list-inputs --split nope hub 2>err &&
	test_grep "no data files for split \"nope\"" err &&
	mkdir -p arrow/data && : >arrow/data/train.arrow &&
	test_expect_code 3 fidx build --list-inputs arrow 2>err &&
	test_grep "train.arrow: Arrow files are not supported" err &&
	test_expect_code 3 fidx build --list-inputs - 2>err &&
	test_grep "standard input is not a file to list" err &&
	rows 1 8 15 >"$(printf "two\nlines.csv")" &&
	test_expect_code 3 fidx build --list-inputs "$(printf "two\nlines.csv")" >out 2>err &&
	test_grep "a file name with a line break" err && test_cmp /dev/null out &&
	test $(wc -l <err) -eq 1 &&
	test_expect_code 2 fidx build --list-inputs 2>err &&
	test_grep "give some" err &&
	test_expect_code 4 fidx build --list-inputs hub >/dev/full 2>err &&
	test_must_fail test -e x.fidx
'

test_expect_success 'texts alone are embedded with the offline embedder' '
	write_faqs faqs.txt &&
	fidx build -q -o f.fidx --texts faqs.txt &&
	fidx info f.fidx >info &&
	test_grep "embedder: +hash" info &&
	test_grep "model: +fidx-hash-v1" info &&
	test_grep "dimension: +384" info &&
	printf "hello\n\nworld\n" >blank.txt &&
	test_expect_code 3 fidx build -o x.fidx --texts blank.txt 2>err &&
	test_grep "blank.txt:2: the text has no words to embed" err
'

# The offline embedder's bits are the same on every IEEE machine
# (io/embedders/embed_hash.c: double arithmetic in a fixed order, no libm
# call but sqrt, no FMA contraction), and CSV numbers are printed as the
# shortest text that reads back exactly (glibc's printf and strtof round
# exactly): a golden file holds on every x86-64 CPU.
test_expect_success '--save-embeddings remakes the dataset CSV byte for byte' '
	fidx build -q -o s.fidx --texts "$FIDX_SRC/datasets/medicare-faqs/faqs.csv" --save-embeddings s.csv &&
	cmp s.csv "$FIDX_SRC/datasets/medicare-faqs/embeddings.csv"
'

test_expect_success 'usage errors' '
	test_expect_code 2 fidx build e.csv 2>err &&
	test_grep "no output: give -o <index>" err &&
	test_expect_code 2 fidx build -o x.fidx 2>err &&
	test_grep "no input" err &&
	test_expect_code 2 fidx build -o x.fidx --level 13 e.csv 2>err &&
	test_grep "--level expects a whole number from 1 to 12" err &&
	test_expect_code 3 fidx build -o x.fidx --embedder bert --texts faqs.txt 2>err &&
	test_grep "unknown embedder \"bert\"" err
'

test_done
