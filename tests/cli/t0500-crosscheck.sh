#!/bin/sh
# fidx against independent references: a pandas-written CSV, numpy brute
# force and faiss.IndexFlatIP (Debian's python3-faiss) on the same data.
. "$FIDX_SRC/tests/cli/lib.sh"
cc="$FIDX_SRC/tests/cli/crosscheck.py"

if ! "$PYTHON" -c "import numpy, pandas" 2>/dev/null; then
	echo "ok 1 # skip python3-numpy and python3-pandas are not installed"
	echo "1..1"
	exit 0
fi

test_expect_success 'an index of a pandas CSV answers like brute force and FAISS' '
	"$PYTHON" "$cc" make corpus.csv 3000 384 11 &&
	"$PYTHON" "$cc" queries corpus.csv 200 12 q.csv &&
	fidx build -q -o corpus.fidx corpus.csv &&
	fidx search --json -k 5 --vectors q.csv corpus.fidx >got.json &&
	"$PYTHON" "$cc" check corpus.csv q.csv 5 got.json &&
	fidx search --json -k 50 --vectors q.csv corpus.fidx >got50.json &&
	"$PYTHON" "$cc" check corpus.csv q.csv 50 got50.json
'

# Fewer than 20 queries take the two passes (codes, then the rows that can
# still make the top k); blocks of 16 rows make the second pass selective.
# The first search asks for that way, which the scoring runs may force away.
test_expect_success 'a few queries, through the codes, answer like brute force and FAISS' '
	FIDX_TEST_BLOCK_ROWS=16 fidx build -q -o blocks.fidx corpus.csv &&
	head -n 20 q.csv >q19.csv &&
	FIDX_TEST_SEARCH=scan fidx search -v --json -k 5 --vectors q19.csv blocks.fidx >got.json 2>err &&
	test_grep "codes of 3000 rows scanned" err &&
	"$PYTHON" "$cc" check corpus.csv q19.csv 5 got.json &&
	fidx search --json -k 50 --vectors q19.csv blocks.fidx >got50.json &&
	"$PYTHON" "$cc" check corpus.csv q19.csv 50 got50.json &&
	head -n 2 q.csv >q1.csv &&
	fidx search --json -k 3000 --vectors q1.csv blocks.fidx >all.json &&
	"$PYTHON" "$cc" check corpus.csv q1.csv 3000 all.json
'

test_expect_success 'a k beyond the corpus returns the whole corpus in order' '
	"$PYTHON" "$cc" make small.csv 40 16 3 &&
	"$PYTHON" "$cc" queries small.csv 10 4 sq.csv &&
	fidx build -q -o small.fidx small.csv &&
	fidx search --json -k 1000 --vectors sq.csv small.fidx >got.json &&
	"$PYTHON" "$cc" check small.csv sq.csv 40 got.json
'

test_expect_success 'merged halves answer like the whole' '
	head -n 1501 corpus.csv >h1.csv &&
	{ head -n 1 corpus.csv; tail -n +1502 corpus.csv; } >h2.csv &&
	fidx build -q -o h1.fidx h1.csv &&
	fidx build -q -o h2.fidx h2.csv &&
	fidx merge -q -o m.fidx h1.fidx h2.fidx &&
	fidx search --json -k 5 --vectors q.csv m.fidx >m.json &&
	"$PYTHON" "$cc" check corpus.csv q.csv 5 m.json
'

test_done
