#!/bin/sh
# The two ways fidx searches (index/index.h), forced with FIDX_TEST_SEARCH
# on the same queries: the scan (the default below 20 queries) gives the
# same bits with any number of threads and however the rows are split into
# indexes; BLAS (20 queries and more), with every OpenBLAS kernel this CPU
# can run (OPENBLAS_CORETYPE), agrees with it up to ties and within
# d * 2^-23 (crosscheck.py same). Dimensions 384, and 4 and 2, for which
# FAISS has kernels of their own.
. "$FIDX_SRC/tests/cli/lib.sh"
cc="$FIDX_SRC/tests/cli/crosscheck.py"

if ! "$PYTHON" -c "import numpy, pandas" 2>/dev/null; then
	test_skip_all "python3-numpy and python3-pandas are not installed"
fi

# The OpenBLAS kernels this CPU can run, besides the one OpenBLAS picks.
flags=" $(grep -m 1 "^flags" /proc/cpuinfo | cut -d: -f2) "
has() {
	for f in "$@"; do
		case $flags in *" $f "*) ;; *) return 1 ;; esac
	done
}
cores="default Prescott"
if has avx; then cores="$cores Sandybridge"; fi
if has avx2 fma; then cores="$cores Haswell"; fi
if has avx512f avx512bw avx512dq avx512vl; then cores="$cores SkylakeX"; fi

# search CORE THREADS PATH OUT ARGS...: fidx search --json -k 10, the way
# and the OpenBLAS kernel forced ("-" for the default way).
search() {
	_core=$1 _threads=$2 _path=$3 _out=$4
	shift 4
	if [ "$_core" = default ]; then
		env ${_path#-} fidx search --threads "$_threads" --json -k 10 "$@" >"$_out"
	else
		env OPENBLAS_CORETYPE="$_core" ${_path#-} fidx search --threads "$_threads" --json -k 10 "$@" >"$_out"
	fi
}

test_expect_success 'setup: 2,000 rows of dimension 384, 4 and 2; 30 queries and 10 of the rows' '
	for d in 384 4 2; do
		"$PYTHON" "$cc" make c$d.csv 2000 $d $d &&
		"$PYTHON" "$cc" queries c$d.csv 30 $((d + 1)) q$d.csv &&
		sed -n 2,11p c$d.csv >>q$d.csv &&
		head -n 1001 c$d.csv >h1-$d.csv &&
		{ head -n 1 c$d.csv; tail -n +1002 c$d.csv; } >h2-$d.csv &&
		fidx build -q -o c$d.fidx c$d.csv &&
		fidx build -q -o h1-$d.fidx h1-$d.csv &&
		fidx build -q -o h2-$d.fidx h2-$d.csv || return 1
	done
'

test_expect_success 'the scan: the same bits with 1, 2 or 3 threads, whole or in two indexes' '
	for d in 384 4 2; do
		search default 1 FIDX_TEST_SEARCH=scan scan$d.json --vectors q$d.csv c$d.fidx &&
		for t in 1 2 3; do
			search default $t FIDX_TEST_SEARCH=scan got --vectors q$d.csv c$d.fidx &&
			test_cmp scan$d.json got &&
			search default $t FIDX_TEST_SEARCH=scan got --vectors q$d.csv -i h1-$d.fidx -i h2-$d.fidx &&
			test_cmp scan$d.json got || return 1
		done
	done
'

test_expect_success 'BLAS agrees with the scan up to ties and within d * 2^-23, with every kernel' '
	for d in 384 4 2; do
		search default 2 - unforced.json --vectors q$d.csv c$d.fidx &&
		search default 2 FIDX_TEST_SEARCH=blas blas.json --vectors q$d.csv c$d.fidx &&
		test_cmp unforced.json blas.json &&
		for core in $cores; do
			for t in 1 2; do
				search $core $t FIDX_TEST_SEARCH=blas blas-$d-$core-$t.json --vectors q$d.csv c$d.fidx &&
				out=$("$PYTHON" "$cc" same scan$d.json blas-$d-$core-$t.json $d) &&
				echo "d = $d, OpenBLAS $core kernel, $t threads: $out" >>"$scratch/stats" || return 1
			done
		done &&
		search default 2 FIDX_TEST_SEARCH=blas got --vectors q$d.csv -i h1-$d.fidx -i h2-$d.fidx &&
		"$PYTHON" "$cc" same scan$d.json got $d >/dev/null || return 1
	done
'

# In dimension 2, 2,000 random rows leave neighbours within 1e-6 of a
# row's own direction: there the row only has to be among the hits.
test_expect_success 'a query that is a row finds it first, with a score within 1e-5 of 1, every way' '
	"$PYTHON" - scan*.json blas-*.json <<-\PY
	import json, re, sys
	for path in sys.argv[1:]:
	    d = int(re.match(r"(?:scan|blas-)([0-9]+)", path).group(1))
	    hits = json.load(open(path))
	    for row in range(10):
	        mine = {3, 5} if row in (3, 5) else {row}  # crosscheck.py makes row 5 a copy of row 3
	        top, scores = hits[30 + row][0], {h["corpus_id"]: h["score"] for h in hits[30 + row]}
	        assert abs(top["score"] - 1) <= 1e-5, (path, row, top)
	        assert d == 2 or top["corpus_id"] in mine, (path, row, top)
	        assert any(abs(scores.get(i, 0) - 1) <= 1e-5 for i in mine), (path, row, scores)
	PY
'

sed "s/^/# /" "$scratch/stats" 2>/dev/null
test_done
