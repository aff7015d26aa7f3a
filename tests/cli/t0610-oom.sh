#!/bin/sh
# Out of memory anywhere in build, merge and search of small inputs: a clean
# error (status 1, "out of memory"), never a crash, and the old index kept.
# Every allocation after start-up fails in turn (FIDX_FAIL_ALLOC=N), once and
# from then on (FIDX_FAIL_ALLOC_ALL). Needs a test build (FIDX_TEST_HOOKS)
# without sanitizers, whose allocators the shim would fight.
. "$FIDX_SRC/tests/cli/lib.sh"

if [ "${FIDX_TEST_HOOKS:-OFF}" != ON ] || [ -n "${FIDX_SANITIZE:-}" ] || [ ! -f "${FIDX_SHIM_MEM:-}" ]; then
	echo "ok 1 # skip needs FIDX_TEST_HOOKS=ON, no sanitizers, and the failmem shim"
	echo "1..1"
	exit 0
fi

# sweep NAME TARGET COMMAND...: counts the command's allocations, then
# fails each in turn. A failure must end with status 0 (the allocation was
# one fidx can do without) or 1 with "out of memory" (fidx's message, or
# libgomp's own exit), and leave TARGET (if not "-") as it was.
sweep() {
	name=$1 target=$2
	shift 2
	[ "$target" = - ] || cp keep.fidx "$target"
	LD_PRELOAD="$FIDX_SHIM_MEM" FIDX_FAIL_ALLOC=0 FIDX_COUNT_ALLOC_FILE=count "$@" >/dev/null 2>&1 &&
	total=$(cat count) || return 1
	for mode in once always; do
		n=1 failed=0
		while [ $n -le $total ]; do
			[ "$target" = - ] || cp keep.fidx "$target"
			if [ $mode = always ]; then all=1; else all=; fi
			LD_PRELOAD="$FIDX_SHIM_MEM" FIDX_FAIL_ALLOC=$n FIDX_FAIL_ALLOC_ALL=$all "$@" >out 2>err
			s=$?
			if [ $s != 0 ]; then
				failed=$((failed + 1))
				if [ $s != 1 ] || ! grep -qi "out of memory" err; then
					echo "$name, allocation $n of $total failing ($mode): status $s" >&2
					cat err >&2
					return 1
				fi
				if [ "$target" != - ] && ! cmp -s "$target" keep.fidx; then
					echo "$name, allocation $n failing ($mode): $target changed" >&2
					return 1
				fi
			fi
			n=$((n + 1))
		done
		echo "$name: each of $total allocations failed in turn ($mode): $failed clean errors, the rest survived" >>"$scratch/stats"
	done
	left=$(ls -A | grep -c "\.tmp-") || true
	test "$left" = 0
}

test_expect_success 'setup' '
	printf "id,text,0,1,2,3\n7,seven,1,0,0,0\n8,eight,0,1,0,0\n9,nine,0,0,1,1\n" >in.csv &&
	printf "id,text,0,1,2,3\n10,ten,1,1,0,0\n" >more.csv &&
	fidx build -q -o keep.fidx --id-column id --text-column text in.csv &&
	fidx build -q -o more.fidx --id-column id --text-column text more.csv
'

test_expect_success 'out of memory during a build' '
	sweep build out.fidx fidx-build -q -o out.fidx --id-column id --text-column text in.csv
'

test_expect_success 'out of memory reading float16 .npy, safetensors and Parquet FLOAT16' '
	tail -c +2 "$FIDX_SRC/tests/fuzz/corpus/rows/f16.npy" >h.npy &&
	tail -c +2 "$FIDX_SRC/tests/fuzz/corpus/safetensors/many" >many.safetensors &&
	sweep npy out.fidx fidx-build -q -o out.fidx h.npy &&
	sweep safetensors out.fidx fidx-build -q -o out.fidx --embedding-column emb many.safetensors &&
	sweep parquet out.fidx fidx-build -q -o out.fidx \
		"$FIDX_SRC/tests/parquet/fixtures/hyparquet-list3-float16-snappy-pv2-half.parquet"
'

test_expect_success 'out of memory during a merge' '
	sweep merge out.fidx fidx-merge -q -o out.fidx keep.fidx more.fidx
'

test_expect_success 'out of memory during a search' '
	sweep search - fidx-search --json --id 8 keep.fidx
'

sed "s/^/# /" "$scratch/stats" 2>/dev/null
test_done
