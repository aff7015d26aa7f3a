#!/bin/sh
# Unattended runs: a killed, interrupted, crashed, full-disk or concurrent
# build or merge never loses or half-writes the last good index.
. "$FIDX_SRC/tests/cli/lib.sh"

# rows N SEED: a pandas-style CSV of N rows x 32 dims.
rows() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		srand(s);
		for (j = 0; j < 32; j++) printf "%s%d", (j ? "," : ""), j; printf "\n";
		for (i = 0; i < n; i++) {
			for (j = 0; j < 32; j++) printf "%s%.8g", (j ? "," : ""), rand() - 0.5;
			printf "\n";
		}
	}'
}

# The target must be, byte for byte, one of the given files, and verify.
one_of() {
	target=$1
	shift
	for f in "$@"; do
		cmp -s "$target" "$f" && fidx info -q "$target" && return 0
	done
	echo "$target is none of: $*" >&2
	return 1
}

no_temp_files() {
	left=$(ls -A | grep -c "\.tmp-") || true
	test "$left" = 0 || { ls -A >&2; return 1; }
}

export SOURCE_DATE_EPOCH=1700000000

test_expect_success 'setup: two different indexes of the same target' '
	rows 30000 1 >a.csv && rows 30000 2 >b.csv &&
	fidx build -q -o A.fidx a.csv && fidx build -q -o B.fidx b.csv &&
	test_must_fail cmp -s A.fidx B.fidx
'


test_expect_success 'a second writer waits for the first, or fails at once with --no-wait' '
	cp A.fidx t.fidx &&
	mkfifo feed &&
	{ fidx build -q -o t.fidx - <feed & } && first=$! &&
	exec 7>feed &&
	head -n 200 b.csv >&7 &&
	n=0 && while [ "$(ls -A | grep -c "^\.t\.fidx\.tmp-")" = 0 ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done &&
	test -e .t.fidx.lock &&
	test_expect_code 7 fidx build --no-wait -o t.fidx a.csv 2>err &&
	test_grep "t.fidx is being written by another fidx" err &&
	{ fidx build -q -o t.fidx a.csv 7>&- & } && second=$! &&
	sleep 0.3 &&
	kill -0 $second &&
	tail -n +201 b.csv >&7 && exec 7>&- &&
	wait $first && wait $second &&
	one_of t.fidx A.fidx && no_temp_files
'

test_expect_success 'temporary files left by a killed run are removed by the next one' '
	: >.t.fidx.tmp-99999-abcdef &&
	fidx build -q -o t.fidx b.csv &&
	one_of t.fidx B.fidx && no_temp_files
'

if [ "${FIDX_TEST_HOOKS:-OFF}" = ON ]; then
test_expect_success 'crash points: before fsync and before rename keep the old index, after it the new' '
	for point in before-fsync before-rename before-dirsync; do
		cp A.fidx c.fidx &&
		test_expect_code 99 env FIDX_TEST_CRASH=$point fidx build -q -o c.fidx b.csv || return 1
		case $point in
		before-dirsync) one_of c.fidx B.fidx ;;
		*) one_of c.fidx A.fidx ;;
		esac || { echo "after $point" >&2; return 1; }
		fidx build -q -o c.fidx a.csv && one_of c.fidx A.fidx && no_temp_files || return 1
	done
'
fi

# Kill a run at a random moment, many times: the target is always the old
# or the new index, and the next run cleans up. Each run draws new moments
# from a seed taken from the clock; FIDX_KILL_SEED (and FIDX_KILL_MS, the
# window they are drawn from, else measured) replays a run's schedule with
# the same awk. A failure names both and the iteration.
kill_seed=${FIDX_KILL_SEED:-$(( $(date +%s%N) / 1000 % 1000000000 ))}
echo "# kill moments: FIDX_KILL_SEED=$kill_seed"
kill_loop() {
	what=$1 loops=$2
	# Kills land anywhere within about one run (milliseconds), a window
	# measured once, then narrowed by a quarter after each run that
	# finished before its kill and widened by an eighth after each killed
	# one: about 70% are killed however fast the machine is against
	# starting sleep and awk (0.71 x ln 9/8 = 0.29 x ln 4/3).
	t0=$(date +%s%N)
	if [ "$what" = build ]; then fidx build -q -o timing.fidx a.csv; else fidx merge -q -o timing.fidx a-1.fidx a-2.fidx; fi
	t1=$(date +%s%N)
	kill_ms=${FIDX_KILL_MS:-$(( (t1 - t0) / 1000000 * 3 / 2 + 5 ))}
	[ $kill_ms -gt 999 ] && kill_ms=999
	replay="FIDX_KILL_SEED=$kill_seed FIDX_KILL_MS=$kill_ms"
	# The seed gives each kill its place in the window (per mille); the
	# window moves with the runs before it, so a replay repeats the places.
	awk -v s="$kill_seed" -v n="$loops" \
		'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%d\n", int(rand() * 1000) }' >moments
	cp A.fidx k.fidx
	i=0 killed=0
	while [ $i -lt $loops ] && read -r place <&8; do
		ms=$((place * kill_ms / 1000))
		if cmp -s k.fidx A.fidx; then src=b new=B.fidx; else src=a new=A.fidx; fi
		if [ "$what" = build ]; then
			fidx build -q -o k.fidx $src.csv 2>/dev/null &
		else
			fidx merge -q -o k.fidx $src-1.fidx $src-2.fidx 2>/dev/null &
		fi
		pid=$!
		sleep "0.$(printf %03d "$ms")"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		if [ $? = 137 ]; then
			killed=$((killed + 1)) kill_ms=$((kill_ms * 9 / 8 + 1))
			[ $kill_ms -gt 999 ] && kill_ms=999
		else
			kill_ms=$((kill_ms * 3 / 4))
			[ $kill_ms -lt 2 ] && kill_ms=2
		fi
		one_of k.fidx A.fidx B.fidx || {
			echo "$what iteration $i (killed after $ms ms) failed; replay: $replay" >&2
			return 1
		}
		i=$((i + 1))
	done 8<moments
	echo "$killed of $loops ${what}s were killed before they finished ($replay)" >>"$scratch/stats"
	{ [ $loops -lt 20 ] || [ $killed -gt $((loops / 10)) ] ||
		{ echo "only $killed of $loops ${what}s were killed; replay: $replay" >&2; return 1; }; } &&
	fidx build -q -o k.fidx a.csv && no_temp_files
}

test_expect_success 'kill -9 at random moments during builds' '
	kill_loop build ${FIDX_KILL_LOOPS:-200}
'

test_expect_success 'kill -9 at random moments during merges' '
	head -n 15001 a.csv >a1.csv && { head -n 1 a.csv; tail -n +15002 a.csv; } >a2.csv &&
	head -n 15001 b.csv >b1.csv && { head -n 1 b.csv; tail -n +15002 b.csv; } >b2.csv &&
	for x in a1 a2 b1 b2; do fidx build -q -o $(echo $x | sed "s/\(.\)\(.\)/\1-\2/").fidx $x.csv || return 1; done &&
	fidx merge -q -o A2.fidx a-1.fidx a-2.fidx && fidx merge -q -o B2.fidx b-1.fidx b-2.fidx &&
	cp A2.fidx A.fidx && cp B2.fidx B.fidx &&
	kill_loop merge ${FIDX_KILL_LOOPS:-200}
'

if [ -n "${FIDX_SHIM:-}" ] && [ -f "$FIDX_SHIM" ]; then
shim() {
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$FIDX_SHIM" "$@"
}

# full_after N WANT ARGS...: `fidx build -q -o d.fidx ARGS` over a copy of
# A.fidx with the disk full after N bytes. Returns 0 when it failed
# cleanly (status 4, A.fidx kept, no temporary file), 2 when it succeeded
# with WANT's bytes, 1 otherwise.
full_after() {
	n=$1 want=$2
	shift 2
	cp A.fidx d.fidx || return 1
	shim env FIDX_FAIL_WRITE_AFTER=$n fidx build -q -o d.fidx "$@" 2>err
	s=$?
	if [ $s = 0 ]; then
		one_of d.fidx "$want" && no_temp_files && return 2
		return 1
	fi
	test $s = 4 && test_grep "No space left on device" err &&
	one_of d.fidx A.fidx && no_temp_files || { echo "after $n bytes: status $s" >&2; return 1; }
}

test_expect_success 'a full disk at every write offset: status 4, the old index intact, no temporary file' '
	printf "id,text,0,1,2,3\n7,seven,1,0,0,0\n8,eight,0,1,0,0\n9,nine,0,0,1,1\n" >small.csv &&
	fidx build -q -o full.fidx --id-column id --text-column text small.csv &&
	n=0 &&
	while :; do
		full_after $n full.fidx --id-column id --text-column text small.csv
		r=$?
		test $r = 0 || break
		n=$((n + 1))
	done &&
	test $r = 2 &&
	echo "a full disk after each of 0..$((n - 1)) bytes: status 4, old index kept; $n bytes succeed" >>"$scratch/stats"
'

# The vectors go around the page cache (O_DIRECT) in chunks, here of 8 KiB,
# written on a thread of their own: a full disk in any of them is the same
# failure as anywhere else.
# From CSV the codes go to a spool; from .npy (its rows told ahead) into
# the file in place: both written on the section's thread.
test_expect_success 'a full disk while the vectors are written around the page cache: status 4, old index kept' '
	rows 3000 3 >m.csv &&
	fidx build -q -o mfull.fidx m.csv &&
	fidx export -q mfull.fidx --npy m.npy && fidx build -q -o mnpy.fidx m.npy &&
	export FIDX_TEST_DIRECT_CHUNK=8192 &&
	for in in m.csv m.npy; do
		want=mfull.fidx && test $in = m.csv || want=mnpy.fidx
		size=$(wc -c <$want) && n=0 && tries=0 &&
		while :; do
			full_after $n $want $in
			r=$?
			test $r = 0 || break
			n=$((n + 7919)) && tries=$((tries + 1))
		done &&
		test $r = 2 && test $tries -gt $((size / 7919 - 2)) &&
		echo "$in: a full disk after $tries offsets up to $n bytes of a $size-byte index written around the page cache: status 4" >>"$scratch/stats" ||
		return 1
	done &&
	unset FIDX_TEST_DIRECT_CHUNK
'

test_expect_success 'short reads and EINTR while the vectors are read back around the page cache' '
	FIDX_TEST_DIRECT_CHUNK=8192 shim env FIDX_SHORT_READS=1 fidx build -q -o msr.fidx m.csv &&
	cmp mfull.fidx msr.fidx
'

test_expect_success 'short reads and EINTR everywhere change nothing' '
	printf "id,text,0,1,2,3\n7,seven,1,0,0,0\n8,\"eight, quoted\",0,1,0,0\n9,nine,0,0,1,1\n" >sr.csv &&
	gzip -c sr.csv >sr.csv.gz &&
	fidx build -q -o sr1.fidx --id-column id --text-column text sr.csv.gz &&
	shim env FIDX_SHORT_READS=1 fidx build -q -o sr2.fidx --id-column id --text-column text sr.csv.gz &&
	cmp sr1.fidx sr2.fidx &&
	fidx search --json -k 2 --id 8 sr1.fidx >want &&
	shim env FIDX_SHORT_READS=1 fidx search --json -k 2 --id 8 sr2.fidx >got &&
	test_cmp want got &&
	shim env FIDX_SHORT_READS=1 fidx merge -q -o sr3.fidx sr2.fidx &&
	shim env FIDX_SHORT_READS=1 fidx info -q sr3.fidx &&
	echo "query" | shim env FIDX_SHORT_READS=1 fidx search --json B.fidx 2>err >/dev/null;
	test_grep "records no embedder" err
'

test_expect_success 'a failed fsync abandons the publish' '
	cp A.fidx f.fidx &&
	test_expect_code 4 shim env FIDX_FAIL_FSYNC=1 fidx build -q -o f.fidx b.csv 2>err &&
	test_grep "fsync failed" err &&
	one_of f.fidx A.fidx && no_temp_files
'
fi

test_expect_success 'searches during rebuilds only ever see the old or the new index' '
	cp A.fidx s.fidx &&
	fidx search --json -k 3 --id 5 A.fidx >wantA && fidx search --json -k 3 --id 5 B.fidx >wantB &&
	test -s wantA && test -s wantB || return 1
	# (On a line of its own: "a && b && { ... } &" would run a and b in the
	# background too.)
	{ i=0; while [ $i -lt 20 ]; do fidx build -q -o s.fidx b.csv; fidx build -q -o s.fidx a.csv; i=$((i + 1)); done; } &
	builder=$! &&
	ok=0 &&
	while kill -0 $builder 2>/dev/null; do
		fidx search --json -k 3 --id 5 s.fidx >got || { echo "search failed" >&2; kill $builder; return 1; }
		{ cmp -s got wantA || cmp -s got wantB; } || { echo "odd answer" >&2; cat got >&2; kill $builder; return 1; }
		ok=$((ok + 1))
	done &&
	wait $builder &&
	echo "$ok searches ran during 40 rebuilds, all answered from the old or the new index" >>"$scratch/stats" &&
	test $ok -gt 0
'

sed "s/^/# /" "$scratch/stats" 2>/dev/null
test_done
