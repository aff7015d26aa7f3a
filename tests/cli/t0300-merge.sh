#!/bin/sh
# fidx merge: halves equal the whole, ids, mismatches, writing over an input.
. "$FIDX_SRC/tests/cli/lib.sh"

rows() {
	awk -v n="$1" -v d="$2" -v s="$3" -v o="${4:-0}" 'BEGIN {
		srand(s);
		printf "id"; for (j = 0; j < d; j++) printf ",%d", j; printf "\n";
		for (i = 0; i < n; i++) {
			printf "%d", i + o;
			for (j = 0; j < d; j++) printf ",%.8g", rand() - 0.5;
			printf "\n";
		}
	}'
}

test_expect_success 'merging the indexes of two halves gives the index of the whole' '
	rows 300 32 7 | cut -d, -f2- >whole.csv &&
	head -n 151 whole.csv >h1.csv &&
	{ head -n 1 whole.csv; tail -n +152 whole.csv; } >h2.csv &&
	fidx build -q -o whole.fidx whole.csv &&
	fidx build -q -o h1.fidx h1.csv &&
	fidx build -q -o h2.fidx h2.csv &&
	fidx merge -o merged.fidx h1.fidx h2.fidx 2>err &&
	test_grep "wrote merged.fidx: 300 rows from 2 indexes" err &&
	test "$(codes_where merged.fidx)" = ahead &&
	for id in 0 17 149 150 151 299; do
		fidx search --json -k 10 --id $id whole.fidx >want &&
		fidx search --json -k 10 --id $id merged.fidx >got &&
		test_cmp want got || return 1
	done
'

test_expect_success 'explicit ids are kept; a collision is an error; --dedupe keeps the last' '
	rows 5 4 1 >a.csv && rows 5 4 2 3 >b.csv &&
	fidx build -q -o a.fidx --id-column id a.csv &&
	fidx build -q -o b.fidx --id-column id b.csv &&
	test_expect_code 3 fidx merge -o ab.fidx a.fidx b.fidx 2>err &&
	test_grep "id \"3\" is in both a.fidx and b.fidx \(use --dedupe to keep the last\)" err &&
	test_must_fail test -e ab.fidx &&
	fidx merge --dedupe -o ab.fidx a.fidx b.fidx 2>err &&
	test_grep "8 rows from 2 indexes \(2 replaced by later ones\)" err &&
	test "$(codes_where ab.fidx)" = ahead &&
	fidx info ab.fidx >info && test_grep "ids: +integers, 0..7" info &&
	fidx search --json -k 1 --id 3 ab.fidx >got &&
	fidx search --json -k 1 --id 3 b.fidx >want &&
	test_same_hits 4 want got
'

test_expect_success 'the output may be one of the inputs (nightly increments)' '
	cp a.fidx main.fidx &&
	fidx merge -q --dedupe -o main.fidx main.fidx b.fidx &&
	fidx info main.fidx >info && test_grep "count: +8$" info
'

test_expect_success 'inputs must agree on dimension and embedder' '
	rows 3 5 4 >c.csv &&
	fidx build -q -o c.fidx --id-column id c.csv &&
	test_expect_code 3 fidx merge -o x.fidx a.fidx c.fidx 2>err &&
	test_grep "c.fidx has 5 dimensions, a.fidx has 4" err &&
	cut -d, -f2- a.csv >plain.csv &&
	fidx build -q -o e1.fidx --embedder hash --dim 4 plain.csv &&
	fidx build -q -o e2.fidx plain.csv &&
	test_expect_code 3 fidx merge -o x.fidx e1.fidx e2.fidx 2>err &&
	test_grep "e2.fidx was embedded with \(unknown\)/\(unknown\), e1.fidx with hash/fidx-hash-v1" err
'

test_expect_success 'a damaged or missing input fails the merge and leaves the target alone' '
	cp a.fidx t.fidx && cp a.fidx keep.fidx &&
	cp b.fidx bad.fidx &&
	printf "x" | dd of=bad.fidx bs=1 seek=100 conv=notrunc 2>/dev/null &&
	test_expect_code 5 fidx merge --dedupe -o t.fidx t.fidx bad.fidx 2>err &&
	cmp t.fidx keep.fidx &&
	test_expect_code 4 fidx merge -o t.fidx t.fidx nosuch.fidx &&
	cmp t.fidx keep.fidx
'

test_done
