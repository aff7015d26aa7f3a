#!/bin/sh
# contrib/: the systemd units verify, and the commands of the units and of
# the cron file run as written (paths moved into the scratch folder, the
# Hugging Face endpoint pointed at the stand-in server).
. "$FIDX_SRC/tests/cli/lib.sh"

TOKEN="hf_contrib$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
XDG_CACHE_HOME="$scratch/cache"
export XDG_CACHE_HOME
start_standin "$TOKEN"
HF_INFERENCE_ENDPOINT=http://127.0.0.1:$STANDIN_PORT
export HF_INFERENCE_ENDPOINT

# The job's command with its paths moved here: stdin is the command line.
localize() {
	sed -e "s|/usr/local/bin/fidx|$FIDX_BIN/fidx|g" \
	    -e "s|\${CREDENTIALS_DIRECTORY}/hf-token|$scratch/token|g" \
	    -e "s|/etc/fidx/hf-token|$scratch/token|g" \
	    -e "s|/srv/faqs/faqs.csv|$scratch/faqs.txt|g" \
	    -e "s|/var/lib/fidx/|$scratch/state/|g" \
	    -e "s|/var/log/fidx/|$scratch/log/|g"
}

test_expect_success 'setup' '
	write_faqs faqs.txt && touch -d "1 hour ago" faqs.txt &&
	printf "%s\n" "$TOKEN" >token && mkdir state log
'

if command -v systemd-analyze >/dev/null 2>&1; then
test_expect_success 'the systemd units verify' '
	mkdir units &&
	localize <"$FIDX_SRC/contrib/systemd/fidx-reindex.service" >units/fidx-reindex.service &&
	cp "$FIDX_SRC/contrib/systemd/fidx-reindex.timer" units/ &&
	(cd units && systemd-analyze verify fidx-reindex.service fidx-reindex.timer) >out 2>&1;
	rc=$?; cat out; test $rc -eq 0 && test_cmp /dev/null out
'
fi

test_expect_success 'the service ExecStart builds, then skips' '
	sed -n "/^ExecStart=/,/[^\\\\]$/p" "$FIDX_SRC/contrib/systemd/fidx-reindex.service" |
		sed -e "s/^ExecStart=//" -e "s/\\\\$//" | tr "\n" " " | localize >cmd &&
	test_grep "fidx build --if-changed" cmd &&
	sh cmd 2>log1 && test -s state/faqs.fidx &&
	sh cmd 2>log2 &&
	"$PYTHON" -c "import json; a = json.load(open(\"log1\")); b = json.load(open(\"log2\")); \
assert a[\"outcome\"] == \"ok\" and a[\"rows\"] == 13 and a[\"texts_embedded\"] == 13, a; \
assert b[\"outcome\"] == \"skipped\", b" &&
	fidx search -k 1 --token-file token state/faqs.fidx "How can Medicare help me?" >hit &&
	test_grep "How can I get help with my Medicare Part A and Part B premiums" hit
'

test_expect_success 'the cron line runs as written, as one shell command' '
	rm -f state/faqs.fidx* &&
	grep -v "^#" "$FIDX_SRC/contrib/cron/fidx-reindex" | grep -v "=" | grep . >line &&
	test $(wc -l <line) -eq 1 &&
	awk "{ for (i = 7; i <= NF; i++) printf \"%s%s\", \$i, (i < NF ? \" \" : \"\\n\") }" line | localize >cmd &&
	test "$(awk "{print \$6}" line)" = fidx &&
	sh cmd && sh cmd && test -s state/faqs.fidx &&
	test $(wc -l <log/reindex.log) -eq 2 &&
	tail -n 1 log/reindex.log | grep -q "\"outcome\":\"skipped\""
'

test_expect_success 'the token appears in no log' '
	test_must_fail grep -rlaF --exclude=token "$TOKEN" "$scratch" >leaks;
	test_cmp /dev/null leaks
'

test_done
