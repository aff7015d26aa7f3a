#!/bin/sh
# Ten million rows stream through a build in bounded memory (vectors and
# texts go to the output and a scratch file as they come; nothing grows with
# the row count but the output). FIDX_SCALE_ROWS changes the count.
. "$FIDX_SRC/tests/cli/lib.sh"
rows=${FIDX_SCALE_ROWS:-10000000}

# Rows repeat with a period of 8,633; the last one is unlike any other.
gen() {
	awk -v n="$1" 'BEGIN {
		print "0,1,2,3"
		for (i = 0; i < n - 1; i++) printf "%d,%d,1,0.5\n", i % 97, i % 89 + 1
		print "-1,2,-3,4"
	}'
}

# Each thread holds a few blocks in flight (about 6 MiB), so the bound is
# for a fixed --threads, not the machine's core count.
test_expect_success "$rows rows from standard input, in bounded memory" '
	gen $rows | /usr/bin/time -f "%M" -o rss fidx build -q --threads 2 -o big.fidx - &&
	fidx info big.fidx >info &&
	test_grep "count: +$rows$" info &&
	kb=$(tail -n 1 rss) &&
	echo "peak RSS $kb KiB for $rows rows ($(( rows * 16 / 1048576 )) MiB of vectors)" >"$scratch/stats" &&
	test "$kb" -lt 131072
'

test_expect_success 'the last row is there, and finds itself first' '
	fidx search --tsv -k 1 --id $((rows - 1)) big.fidx >hit &&
	awk -F "	" -v id=$((rows - 1)) "\$3 == id && \$4 > 1 - 1e-6 && \$4 < 1 + 1e-6 { ok = 1 } END { exit !ok }" hit ||
		{ cat hit; return 1; }
'

sed "s/^/# /" "$scratch/stats" 2>/dev/null
test_done
