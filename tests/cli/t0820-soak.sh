#!/bin/sh
# The scheduled job under fire: FIDX_SOAK_CYCLES (default 100) cycles of
# random edits to a source folder (rows added, changed and deleted, files
# added and removed), each followed by the nightly job
#     fidx build --if-changed --update --delete-missing --keep 2 ...
# killed with SIGKILL at a random moment in about half the cycles. After
# every cycle the target is byte for byte a from-scratch build of the
# sources of the last cycle whose job finished, and searches running all
# along never fail. Then the same with texts embedded through the stand-in
# API server and the cache: only the texts that changed are sent.
. "$FIDX_SRC/tests/cli/lib.sh"
export SOURCE_DATE_EPOCH=1700000000
CYCLES=${FIDX_SOAK_CYCLES:-100}

# edit.py SEED: one random edit of the folder src/ (CSV files id,0..7).
cat >edit.py <<'EOF'
import os, random, sys
rng = random.Random(int(sys.argv[1]))
files = sorted(f for f in os.listdir("src") if f.endswith(".csv"))
def row(i):
    return "%d,%s\n" % (i, ",".join("%.4f" % (rng.random() - 0.5) for _ in range(8)))
def read(f):
    with open("src/" + f) as h:
        return h.readlines()
def write(f, lines):
    with open("src/" + f + ".new", "w") as h:
        h.writelines(lines)
    os.rename("src/" + f + ".new", "src/" + f)
next_id = int(open("next_id").read())
kind = rng.choice(["add", "change", "delete", "add", "change", "newfile", "dropfile"])
if kind == "newfile" or not files:
    name = "part-%05d.csv" % next_id
    write(name, ["id," + ",".join(str(j) for j in range(8)) + "\n"] + [row(next_id + k) for k in range(rng.randint(1, 3000))])
    next_id += 3000
elif kind == "dropfile" and len(files) > 1:
    os.remove("src/" + rng.choice(files))
else:
    if kind == "dropfile":
        kind = "delete"  # the last file stays: delete rows instead
    f = rng.choice(files)
    lines = read(f)
    for _ in range(rng.randint(1, 40)):
        if kind == "add" or len(lines) < 3:
            lines.append(row(next_id))
            next_id += 1
        elif kind == "change":
            k = rng.randrange(1, len(lines))
            lines[k] = row(int(lines[k].split(",")[0]))
        else:
            del lines[rng.randrange(1, len(lines))]
    write(f, lines)
open("next_id", "w").write(str(next_id))
print(kind)
EOF

JOB="fidx-build -q --if-changed --update --delete-missing --keep 2 --id-column id -o target.fidx src"
job() {
	$JOB
}

# The cycles; returns at the first failure.
cycles() {
	kills=0
	c=0
	while [ $c -lt $CYCLES ]; do
		c=$((c + 1))
		"$PYTHON" edit.py $((c * 7919)) >>edits &&
		fidx build -q --id-column id -o expect.fidx src || return 1
		if [ $((c % 2)) -eq 0 ]; then
			# fidx-build itself, so that the kill reaches it.
			$JOB 7>&- &
			pid=$!
			sleep "0.0$(awk -v s=$c "BEGIN { srand(s); printf \"%02d\", int(rand() * 25) }")"
			kill -9 $pid 2>/dev/null && kills=$((kills + 1))
			wait $pid
			if cmp -s target.fidx expect.fidx; then
				cp expect.fidx last.fidx
			else
				cmp target.fidx last.fidx || return 1
			fi
		else
			job && cmp target.fidx expect.fidx && cp expect.fidx last.fidx || return 1
		fi
		fidx info -q target.fidx >/dev/null || return 1
	done
}

test_expect_success 'setup: a folder of three files, the first build' '
	mkdir src && echo 0 >next_id &&
	for s in 1 2 3 4 5 6; do "$PYTHON" edit.py $((s * 1000)) >/dev/null || return 1; done &&
	ls src/*.csv >/dev/null && job && cp target.fidx last.fidx &&
	awk "NR == 2" "$(ls src/*.csv | head -n 1)" | cut -d, -f2- >q.csv
'

test_expect_success "$CYCLES cycles of edits and killed jobs: the target is always the last good build" '
	{ while [ ! -e stop ]; do
		fidx search -q --no-header --vectors q.csv -k 3 target.fidx >/dev/null 2>search.err ||
			echo "search failed: $(cat search.err)" >>search.failures
	done >/dev/null 2>&1 7>&- & } && searcher=$! &&
	cycles; rc=$?; touch stop; wait $searcher; test $rc -eq 0 &&
	echo "# $CYCLES cycles (edits: $(sort edits | uniq -c | tr -s " " | paste -sd, -)), $kills jobs killed before they finished" >figures &&
	test_must_fail test -s search.failures &&
	job && test -z "$(ls -A | grep "^\.target\.fidx\.tmp-")"
'

test_expect_success 'the generations kept are earlier good builds' '
	job && cmp target.fidx expect.fidx &&
	fidx info -q target.fidx.1 && fidx info -q target.fidx.2 &&
	test_must_fail test -e target.fidx.3
'

test_expect_success 'texts through the API and the cache: each cycle sends only what changed' '
	start_standin tok && echo tok >tok &&
	awk "BEGIN { for (i = 0; i < 400; i++) printf \"text number %d about subject %d\\n\", i, i % 17 }" >texts.txt &&
	XDG_CACHE_HOME="$scratch/cache" &&
	export XDG_CACHE_HOME &&
	api="fidx build -q --if-changed --embedder api --token-file tok --api-url http://127.0.0.1:$STANDIN_PORT/embed" &&
	$api --texts texts.txt -o t.fidx &&
	total=400 && changed=0 && c=0 &&
	while [ $c -lt 30 ]; do
		c=$((c + 1)) &&
		n=$(awk -v s=$c "BEGIN { srand(s); print 1 + int(rand() * 5) }") &&
		awk -v s=$c -v n=$n "BEGIN { srand(s * 31) } { if (rand() < n / 400) print \"changed \" s \" \" \$0; else print }" \
			texts.txt >texts.new && mv texts.new texts.txt &&
		changed=$((changed + $(grep -c "^changed $c " texts.txt || true))) &&
		$api --texts texts.txt -o t.fidx && total=$((total + 400)) || return 1
	done &&
	sent=$("$PYTHON" -c "import json, urllib.request as u; s = json.load(u.urlopen(\"http://127.0.0.1:$STANDIN_PORT/_stats\")); print(sum(e[\"inputs\"] for e in s[\"log\"] if e[\"status\"] == 200))") &&
	echo "# 30 cycles of the API job: $sent texts sent to the API for $total indexed ($changed changed, 400 at first)" >>figures &&
	test "$sent" -eq $((400 + changed))
'

cat figures 2>/dev/null
test_done
