#!/bin/sh
# Scheduled jobs: --wait for a busy target, --keep generations.
. "$FIDX_SRC/tests/cli/lib.sh"
export SOURCE_DATE_EPOCH=1700000000 # indexes of the same rows are byte-identical

rows() {
	awk -v n="$1" -v s="$2" 'BEGIN { srand(s);
		for (i = 0; i < n; i++) { printf "%.6f", rand() - 0.5; for (j = 1; j < 8; j++) printf ",%.6f", rand() - 0.5; printf "\n" } }'
}

test_expect_success 'setup' '
	rows 50 1 >v1.csv && rows 50 2 >v2.csv && rows 50 3 >v3.csv && rows 50 4 >v4.csv &&
	for i in 1 2 3 4; do fidx build -q -o want$i.fidx v$i.csv || return 1; done
'

test_expect_success 'the shared options keep their own meaning (--threads is not --level)' '
	fidx build -q --threads 16 --level 2 -o th.fidx v1.csv &&
	fidx merge -q --threads 13 -o thm.fidx th.fidx &&
	test_expect_code 2 fidx build --level 13 -o th.fidx v1.csv 2>err && test_grep "level" err
'

test_expect_success 'progress: rows, rate and share done with --progress; none with --no-progress or -q' '
	awk "BEGIN { srand(3); for (i = 0; i < 40000; i++) { printf \"%.5f\", rand(); for (j = 1; j < 8; j++) printf \",%.5f\", rand(); print \"\" } }" >big.csv &&
	fidx build --progress -o big.fidx big.csv 2>err &&
	test_grep "fidx-build: [0-9]+ rows" err && test_grep "[0-9]+%" err &&
	fidx merge --progress -o big2.fidx big.fidx big.fidx 2>err && test_grep "fidx-merge: [0-9]+ rows" err &&
	fidx build --no-progress -o big.fidx big.csv 2>err && test_must_fail grep -q " rows," err &&
	fidx build -q --progress -o big.fidx big.csv 2>err && test_grep "rows" err &&
	fidx build --progress --log-format json -o big.fidx big.csv 2>err && test $(wc -l <err) -eq 1
'

test_expect_success '--keep 2: the newest is the target, the previous two are .1 and .2' '
	fidx build -q --keep 2 -o t.fidx v1.csv &&
	cmp want1.fidx t.fidx && test_must_fail test -e t.fidx.1 &&
	fidx build -q --keep 2 -o t.fidx v2.csv &&
	cmp want2.fidx t.fidx && cmp want1.fidx t.fidx.1 && test_must_fail test -e t.fidx.2 &&
	fidx build -q --keep 2 -o t.fidx v3.csv &&
	cmp want3.fidx t.fidx && cmp want2.fidx t.fidx.1 && cmp want1.fidx t.fidx.2 &&
	fidx build -q --keep 2 -o t.fidx v4.csv &&
	cmp want4.fidx t.fidx && cmp want3.fidx t.fidx.1 && cmp want2.fidx t.fidx.2 &&
	test_must_fail test -e t.fidx.3 &&
	fidx merge -q -o merged1.fidx want1.fidx &&
	fidx merge -q --keep 1 -o t.fidx want1.fidx &&
	cmp merged1.fidx t.fidx && cmp want4.fidx t.fidx.1 && cmp want2.fidx t.fidx.2
'

test_expect_success 'rolling back is a copy; a failed build rotates nothing' '
	cp t.fidx.1 t.fidx && cmp want4.fidx t.fidx &&
	printf "1,2\n" >bad.csv &&
	test_expect_code 3 fidx build -q --keep 2 -o t.fidx v1.csv bad.csv &&
	cmp want4.fidx t.fidx && cmp want4.fidx t.fidx.1 && cmp want2.fidx t.fidx.2
'

# The bound on the elapsed time only has to tell --wait 1 from a wait many
# times longer, so it leaves a slow or busy machine a wide margin.
test_expect_success '--wait gives up after the time given, with status 7' '
	mkfifo feed &&
	{ fidx build -q -o w.fidx - <feed & } && first=$! &&
	exec 7>feed &&
	head -n 10 v1.csv >&7 &&
	n=0 && while [ "$(ls -A | grep -c "^\.w\.fidx\.tmp-")" = 0 ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done &&
	start=$(date +%s) &&
	test_expect_code 7 fidx build --wait 1 -o w.fidx v2.csv 2>err 7>&- &&
	test_grep "w.fidx is still being written by another fidx after 1 s" err &&
	test $(($(date +%s) - start)) -lt 30 &&
	{ fidx build -q --wait 30 -o w.fidx v2.csv 7>&- & } && second=$! &&
	tail -n +11 v1.csv >&7 && exec 7>&- &&
	wait $first && wait $second &&
	cmp want2.fidx w.fidx
'

test_expect_success '--if-changed: same options and files: skipped, the index untouched' '
	cp v1.csv s.csv && touch -d "1 hour ago" s.csv &&
	fidx build --if-changed -o s.fidx s.csv 2>err && test_grep "wrote s.fidx: 50 rows" err &&
	cp s.fidx s0.fidx && touch -d "2 hours ago" s.fidx &&
	fidx build --if-changed -o s.fidx s.csv 2>err &&
	test_grep "s.fidx is up to date: same options, 1 source unchanged; skipped" err &&
	cmp s0.fidx s.fidx && test -n "$(find s.fidx -mmin +100)"
'

test_expect_success '--if-changed: new contents, new options or new files: rebuilt' '
	cp v2.csv s.csv &&
	fidx build --if-changed -o s.fidx s.csv 2>err && test_grep "wrote s.fidx" err &&
	fidx build --if-changed --level 5 -o s.fidx s.csv 2>err && test_grep "wrote s.fidx" err &&
	fidx build --if-changed --level 5 -o s.fidx s.csv 2>err && test_grep "up to date" err &&
	mkdir -p hub && cp v1.csv hub/train.csv &&
	fidx build --if-changed -o h.fidx hub 2>err && test_grep "wrote h.fidx: 50 rows from 1 file" err &&
	fidx build --if-changed -o h.fidx hub 2>err && test_grep "up to date" err &&
	cp v2.csv hub/train-2.csv &&
	fidx build --if-changed -o h.fidx hub 2>err && test_grep "wrote h.fidx: 100 rows from 2 files" err &&
	fidx build --if-changed -o i.fidx - <v1.csv 2>err && test_grep "wrote" err &&
	fidx build --if-changed -o i.fidx - <v1.csv 2>err && test_grep "wrote" err
'

test_expect_success '--if-changed: a file touched but not changed is digested: up to date' '
	touch s.csv && fidx build --if-changed --level 5 -o s.fidx s.csv 2>err && test_grep "up to date" err
'

test_expect_success '--if-changed without SOURCE_DATE_EPOCH: same size and time is trusted (a stat, no read)' '
	cp v3.csv m.csv && touch -d "1 hour ago" m.csv &&
	env -u SOURCE_DATE_EPOCH fidx build --if-changed -o m.fidx m.csv 2>err && test_grep "wrote" err &&
	cp m.csv m.saved && touch -r m.csv m.saved &&
	sed "1s/^./9/" m.saved >m.csv && touch -r m.saved m.csv && test_must_fail cmp -s m.saved m.csv &&
	env -u SOURCE_DATE_EPOCH fidx build --if-changed -o m.fidx m.csv 2>err && test_grep "up to date" err &&
	touch m.csv &&
	env -u SOURCE_DATE_EPOCH fidx build --if-changed -o m.fidx m.csv 2>err && test_grep "wrote" err
'

test_expect_success '--update: ids found again are replaced, new ones added, the others kept' '
	printf "id,0,1,2\na,1,0,0\nb,0,1,0\nc,0,0,1\n" >u1.csv &&
	printf "id,0,1,2\nb,0,1,0\nc,0,1,1\nd,1,1,1\n" >u2.csv &&
	fidx build -q --id-column id -o u.fidx u1.csv &&
	fidx build --update --id-column id -o u.fidx u2.csv 2>err &&
	test_grep "updated u.fidx: 4 rows from 1 file: 1 added, 1 replaced, 1 unchanged, 1 kept from before" err &&
	fidx search --tsv -k 4 --id b u.fidx | cut -f 3 >ids && printf "b\nc\nd\na\n" >want && test_cmp want ids
'

test_expect_success 'two --update runs at once: the second waits and updates what the first wrote' '
	printf "id,0,1,2\na,1,0,0\nb,0,1,0\n" >c0.csv &&
	printf "id,0,1,2\nc,0,0,1\n" >c1.csv &&
	printf "id,0,1,2\nd,1,1,1\n" >c2.csv &&
	fidx build -q --id-column id -o c.fidx c0.csv &&
	mkfifo cfeed &&
	{ fidx build -q --update --id-column id -o c.fidx - <cfeed & } && first=$! &&
	exec 8>cfeed &&
	n=0 && while [ "$(ls -A | grep -c "^\.c\.fidx\.tmp-")" = 0 ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done &&
	{ fidx build -q --update --id-column id -o c.fidx c2.csv 8>&- & } && second=$! &&
	sleep 0.3 && kill -0 $second &&
	cat c1.csv >&8 && exec 8>&- &&
	wait $first && wait $second &&
	fidx export -q c.fidx --jsonl c.jsonl &&
	test "$(grep -c "\"id\"" c.jsonl)" = 4 &&
	for id in a b c d; do test_grep "\"id\": \"$id\"" c.jsonl || return 1; done
'

test_expect_success '--update --delete-missing gives what a fresh build gives, byte for byte' '
	fidx build --update --delete-missing --id-column id -o u.fidx u2.csv 2>err &&
	test_grep "3 rows from 1 file: 0 added, 0 replaced, 3 unchanged, 1 deleted" err &&
	fidx build -q --id-column id -o fresh.fidx u2.csv && cmp fresh.fidx u.fidx &&
	fidx build -q -o n.fidx v1.csv &&
	fidx build --update --delete-missing -o n.fidx v2.csv 2>err &&
	test_grep "50 rows from 1 file: 0 added, 50 replaced, 0 unchanged, 0 deleted" err &&
	cmp want2.fidx n.fidx
'

test_expect_success '--update needs ids to keep rows; --delete-missing needs --update' '
	test_expect_code 3 fidx build --update -o n.fidx v1.csv 2>err &&
	test_grep "n.fidx has no ids \(its rows are numbered\), so --update cannot tell" err &&
	cmp want2.fidx n.fidx &&
	test_expect_code 2 fidx build --delete-missing -o n.fidx v1.csv 2>err &&
	test_grep "delete-missing goes with --update" err &&
	fidx build --update -o new.fidx v3.csv 2>err && test_grep "50 added" err && cmp want3.fidx new.fidx
'

test_expect_success '--update with the index first and no -o: did you mean -o <index> --update' '
	test_expect_code 2 fidx build --update --id-column id u.fidx u2.csv 2>err &&
	printf "%s\n" "fidx-build: error: no output: give -o <index>; did you mean \`-o u.fidx --update\`?" >want &&
	test_cmp want err &&
	test_expect_code 2 fidx build --update u1.csv u2.csv 2>err &&
	echo "fidx-build: error: no output: give -o <index> (see '"'fidx-build --help'"')" >want &&
	test_cmp want err &&
	test_expect_code 2 fidx build u.fidx u2.csv 2>err &&
	test_cmp want err
'

test_expect_success '--log-format json: one line per run, built, skipped or failed' '
	cp v1.csv j.csv && touch -d "1 hour ago" j.csv &&
	fidx build --log-format json --if-changed -o j.fidx j.csv 2>log1 &&
	fidx build --log-format json --if-changed -o j.fidx j.csv 2>log2 &&
	test_expect_code 4 fidx build --log-format json -o j.fidx j.csv missing.csv 2>log3 &&
	fidx merge --log-format json -o jm.fidx j.fidx j.fidx 2>log4 &&
	test_expect_code 2 fidx build --log-format xml -o j.fidx j.csv 2>err &&
	test_grep "log-format expects text or json" err &&
	"$PYTHON" - <<-\EOF
	import json, os
	logs = [open("log%d" % i).read().splitlines() for i in range(1, 5)]
	assert all(len(l) == 1 for l in logs), logs
	a, b, c, d = (json.loads(l[0]) for l in logs)
	assert a["outcome"] == "ok" and a["exit"] == 0 and a["rows"] == 50 and a["files"] == 1, a
	assert a["bytes"] == os.path.getsize("j.fidx") and a["command"] == "fidx-build", a
	assert a["start"] <= a["end"] and a["seconds"] >= 0, a
	assert b["outcome"] == "skipped" and b["exit"] == 0 and "bytes" not in b, b
	assert c["outcome"] == "failed" and c["exit"] == 4, c
	assert c["error"] == "missing.csv: No such file or directory" and "bytes" not in c, c
	assert d["command"] == "fidx-merge" and d["rows"] == 100 and d["inputs"] == 2, d
	EOF
'

test_done
