# Shell test library for fidx's end-to-end tests, in the style of git's t/.
#
# A test script sources this file, then runs steps:
#   test_expect_success 'what it checks' '
#       cmd1 &&
#       cmd2
#   '
# Every step runs in the script's scratch folder; steps should chain their
# commands with && so that any failure fails the step. Output is TAP.
#
# Helpers:
#   test_must_fail CMD...        CMD must exit non-zero, and not by a signal
#   test_expect_code N CMD...    CMD must exit with status N
#   test_cmp EXPECTED ACTUAL     files must be equal (shows a diff otherwise)
#   test_grep PATTERN FILE       FILE must contain PATTERN (grep -E)
#   test_skip_all REASON         ends the script as skipped (status 77, which
#                                ctest reports as skipped) unless a step failed
#   test_top_hit JSON ID SCORE TOL
#                                the first hit in a search --json output is ID,
#                                with a score within TOL of SCORE
#   test_same_hits DIM WANT GOT  two search --json outputs agree (see below)
#
# Environment: FIDX_BIN (folder of the fidx binaries), FIDX_SRC (source tree),
# FIDX_TEST_KEEP=1 keeps scratch folders. tests/CMakeLists.txt runs the
# scripts that score again with FIDX_TEST_SEARCH=scan or =blas (the way
# fidx searches, index/index.h) and OMP_NUM_THREADS=1 or 2 set.
set -u

: "${FIDX_BIN:?FIDX_BIN must point at the folder of the fidx binaries}"
: "${FIDX_SRC:?FIDX_SRC must point at the source tree}"
PATH="$FIDX_BIN:$PATH"
export PATH LC_ALL=C
# Debian's python3 has the numpy, pandas and faiss packages the checks use.
PYTHON=${FIDX_PYTHON:-$(test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)}
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN SOURCE_DATE_EPOCH

test_count=0
test_failed=0
test_name=$(basename "$0" .sh)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fidx-$test_name.XXXXXX")
cd "$scratch" || exit 1

test_done() {
	echo "1..$test_count"
	cd / || true
	if [ "$test_failed" -eq 0 ] && [ "${FIDX_TEST_KEEP:-0}" != 1 ]; then
		rm -rf "$scratch"
	else
		echo "# scratch folder kept: $scratch"
	fi
	[ "$test_failed" -eq 0 ] || { echo "# $test_failed of $test_count failed"; exit 1; }
	[ -z "${test_skip_reason:-}" ] || exit 77
	exit 0
}

test_skip_all() {
	test_skip_reason=$*
	if [ "$test_count" -eq 0 ]; then
		echo "1..0 # SKIP $test_skip_reason"
		cd / && rm -rf "$scratch"
		exit 77
	fi
	echo "# SKIP the rest: $test_skip_reason"
	test_done
}

test_expect_success() {
	test_count=$((test_count + 1))
	_out=$(cd "$scratch" && eval "$2" 2>&1)
	_rc=$?
	if [ $_rc -eq 0 ]; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		printf '%s\n' "$2" | sed 's/^/#   /'
		printf '%s\n' "$_out" | sed 's/^/# > /'
	fi
}

# Fails unless the command exits with a non-zero status that is not a
# crash: statuses above 125 (signals, exec failures) count as failures.
test_must_fail() {
	"$@"
	_s=$?
	if [ $_s -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	fi
	if [ $_s -gt 125 ]; then
		echo "test_must_fail: command died (status $_s): $*" >&2
		return 1
	fi
	return 0
}

test_expect_code() {
	_want=$1
	shift
	"$@"
	_s=$?
	if [ $_s -ne "$_want" ]; then
		echo "test_expect_code: expected status $_want, got $_s: $*" >&2
		return 1
	fi
	return 0
}

# codes_where INDEX: "ahead" when its codes come before its vectors
# (written in place: the rows were known ahead), else "after" (spooled).
codes_where() {
	"$PYTHON" - "$1" <<-\PY
	import struct, sys
	d = open(sys.argv[1], "rb").read()
	n, toc = struct.unpack_from("<I", d, 36)[0], struct.unpack_from("<Q", d, 40)[0]
	at = {struct.unpack_from("<I", d, toc + 40 * i)[0]: struct.unpack_from("<Q", d, toc + 40 * i + 8)[0]
	      for i in range(n)}
	print("ahead" if at[5] < at[2] else "after")
	PY
}

test_cmp() {
	diff -u "$1" "$2"
}

test_top_hit() {
	"$PYTHON" - "$@" <<-\PY
	import json, sys
	hits = json.load(open(sys.argv[1]))
	top = hits[0][0] if hits and hits[0] else None
	want, score, tol = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
	if top is None or str(top["corpus_id"]) != want or not abs(top["score"] - score) <= tol:
	    sys.exit("test_top_hit: the first hit is %r, not %s with a score within %s of %s" % (top, want, tol, score))
	PY
}

# Scores from the scan (1 to 19 queries, unless FIDX_TEST_SEARCH=blas) are
# the same bits however the rows are split among indexes, shards and
# threads, so that their outputs must be equal byte for byte. BLAS's sgemm
# may round a row differently in a matrix of another size: then the outputs
# must agree up to ties, with scores within DIM * 2^-23 (crosscheck.py same).
test_same_hits() {
	if [ "${FIDX_TEST_SEARCH:-}" = blas ]; then
		"$PYTHON" "$FIDX_SRC/tests/cli/crosscheck.py" same "$2" "$3" "$1" >/dev/null
	else
		test_cmp "$2" "$3"
	fi
}

test_grep() {
	if ! grep -E -e "$1" "$2" >/dev/null; then
		echo "test_grep: '$1' not found in $2:" >&2
		sed 's/^/| /' "$2" >&2
		return 1
	fi
}

# search_same_or_5 WANT ARGS...: fidx search ARGS on a damaged index either
# exits with status 5 or prints exactly WANT (the answer of the undamaged
# index); anything else (a crash, another status, another answer) fails.
search_same_or_5() {
	_want=$1
	shift
	fidx search "$@" >search.out 2>/dev/null
	_s=$?
	if [ $_s -eq 5 ]; then
		return 0
	fi
	if [ $_s -ne 0 ]; then
		echo "search_same_or_5: expected status 0 or 5, got $_s: fidx search $*" >&2
		return 1
	fi
	test_cmp "$_want" search.out
}

# The offline embedder's FAQ texts from the article, one per line.
write_faqs() {
	cat >"$1" <<'FAQS'
How do I get a replacement Medicare card?
What is the monthly premium for Medicare Part B?
How do I terminate my Medicare Part B (medical insurance)?
How do I sign up for Medicare?
Can I sign up for Medicare Part B if I am working and have health insurance through an employer?
How do I sign up for Medicare Part B if I already have Part A?
What are Medicare late enrollment penalties?
What is Medicare and who can get it?
How can I get help with my Medicare Part A and Part B premiums?
What are the different parts of Medicare?
Will my Medicare premiums be higher because of my higher income?
What is TRICARE?
Should I sign up for Medicare Part B if I have Veterans' Benefits?
FAQS
}

# started PID READY_FILE: a server just started in the background is
# stopped when the script exits; waits for its READY line while it runs
# (up to 60 s: a loaded machine may take that long to start Python).
_servers=
started() {
	_servers="$_servers $1"
	# shellcheck disable=SC2086 # the pids, one word each
	trap 'kill $_servers 2>/dev/null' EXIT
	for _ in $(seq 600); do
		grep -q READY "$2" 2>/dev/null && break
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
}

# start_standin TOKEN [OPTION...]: starts the stand-in embedding API server
# (tests/api/standin.py) on 127.0.0.1, requiring TOKEN, stopped when the
# script exits. Sets STANDIN_PORT, and STANDIN_REDIRECT_PORT with
# --redirect-port 0. The token goes through its environment, not argv.
start_standin() {
	_token=$1
	shift
	STANDIN_TOKEN=$_token "$PYTHON" "$FIDX_SRC/tests/api/standin.py" "$@" \
		>"$scratch/standin.ready" 2>"$scratch/standin.err" </dev/null &
	started $! "$scratch/standin.ready"
	STANDIN_PORT=$(awk '/READY/ {print $2}' "$scratch/standin.ready")
	STANDIN_REDIRECT_PORT=$(awk '/READY/ {print $3}' "$scratch/standin.ready")
}

# start_hub [OPTION...]: starts the stand-in Hugging Face Hub
# (tests/hub/standin.py) on 127.0.0.1, stopped when the script exits, with
# $HUB_TOKEN and $HUB_OTHER_TOKEN as its tokens (through its environment).
# Sets HUB (its URL), HUB_CDN_PORT, and exports HF_ENDPOINT.
start_hub() {
	STANDIN_TOKEN=${HUB_TOKEN:-} STANDIN_OTHER_TOKEN=${HUB_OTHER_TOKEN:-} \
		"$PYTHON" "$FIDX_SRC/tests/hub/standin.py" "$@" \
		>"$scratch/hub.ready" 2>"$scratch/hub.err" </dev/null &
	started $! "$scratch/hub.ready"
	HUB=http://127.0.0.1:$(awk '/READY/ {print $2}' "$scratch/hub.ready")
	HUB_CDN_PORT=$(awk '/READY/ {print $3}' "$scratch/hub.ready")
	HF_ENDPOINT=$HUB
	export HF_ENDPOINT
}

# hub_home: HOME, HF_HOME and HF_HUB_CACHE in the scratch folder, the Hub's
# other variables unset, and retries that wait milliseconds (test builds).
hub_home() {
	HOME="$scratch/home"
	HF_HOME="$scratch/hf"
	HF_HUB_CACHE="$scratch/cache"
	FIDX_TEST_HTTP_WAIT=0.01
	export HOME HF_HOME HF_HUB_CACHE FIDX_TEST_HTTP_WAIT
	unset XDG_CACHE_HOME HF_TOKEN_PATH HUGGINGFACE_HUB_CACHE HF_HUB_OFFLINE TRANSFORMERS_OFFLINE HF_ENDPOINT
	mkdir -p "$HOME" "$HF_HOME"
}

# hub_ctl JSON: posts to the stand-in Hub's /_control. hub_stat EXPR:
# prints a Python expression over its /_stats (s) and their log (log).
hub_ctl() {
	"$PYTHON" -c 'import sys, urllib.request as u
print(u.urlopen(u.Request(sys.argv[1] + "/_control", data=sys.argv[2].encode(), method="POST")).read().decode())' \
		"$HUB" "$1"
}
hub_stat() {
	"$PYTHON" -c 'import json, sys, urllib.request as u
s = json.load(u.urlopen(sys.argv[1] + "/_stats")); log = s["log"]
print(eval(sys.argv[2]))' "$HUB" "$1"
}
