#!/bin/sh
# contrib/slurm/fidx-slurm. First without Slurm: its usage errors, and the
# job scripts it writes, submitted to a stand-in sbatch and then run by hand
# as Slurm would run them. Then on a private Slurm cluster started here
# (munged, slurmctld and slurmd as root, on loopback, every file in the
# scratch folder, stopped by pid whatever happens): the merged index is the
# one a single fidx build gives, the shards searched together answer as the
# merged index does, a failing task keeps the merge job from running and the
# target as it was, and submitting again rebuilds only the failed shard.
. "$FIDX_SRC/tests/cli/lib.sh"

SLURM_SCRIPT=$FIDX_SRC/contrib/slurm/fidx-slurm
slurm() {
	sh "$SLURM_SCRIPT" "$@"
}

# hub FOLDER FILES ROWS SEED [ids]: a Hub-style folder of FILES pandas-style
# CSVs data/train-NNNNN-of-NNNNN.csv of ROWS rows of 16 floats each; with
# "ids", string ids and texts in columns id and title first.
hub() {
	mkdir -p "$1/data" &&
	awk -v dir="$1/data" -v nf="$2" -v n="$3" -v s="$4" -v ids="${5:-}" 'BEGIN {
		srand(s)
		for (f = 0; f < nf; f++) {
			path = sprintf("%s/train-%05d-of-%05d.csv", dir, f, nf)
			printf "%s", (ids ? "id,title," : "") >path
			for (j = 0; j < 16; j++) printf "%s%d", (j ? "," : ""), j >path
			printf "\n" >path
			for (i = 0; i < n; i++) {
				if (ids) printf "item-%d,\"Title %d, from file %d\",", 7 * (f * n + i), f * n + i, f >path
				for (j = 0; j < 16; j++) printf "%s%.7g", (j ? "," : ""), rand() - 0.5 >path
				printf "\n" >path
			}
			close(path)
		}
	}'
}

# same_index A B: the same rows, ids, texts and vectors, bit for bit.
same_index() {
	rm -f a.csv a.jsonl a.npy b.csv b.jsonl b.npy &&
	fidx export -q "$1" --csv a.csv --jsonl a.jsonl --npy a.npy &&
	fidx export -q "$2" --csv b.csv --jsonl b.jsonl --npy b.npy &&
	test_cmp a.csv b.csv && test_cmp a.jsonl b.jsonl && cmp a.npy b.npy
}

# A stand-in sbatch that records its arguments and answers job ids 101,
# "102;cluster" (--parsable's form on a federation), ...; failing the call
# numbered $FAKE_SBATCH_FAIL. scontrol and scancel only record.
fake_slurm() {
	mkdir -p fakebin &&
	cat >fakebin/sbatch <<-'EOF' &&
	#!/bin/sh
	printf 'sbatch' >>"$FAKE_CALLS"; printf ' [%s]' "$@" >>"$FAKE_CALLS"; echo >>"$FAKE_CALLS"
	env | grep -E "^(HF_TOKEN|HUGGING_FACE_HUB_TOKEN|FIDX_API_TOKEN)=" >>"$FAKE_CALLS.env"
	n=$(grep -c '^sbatch' "$FAKE_CALLS")
	[ "$n" != "${FAKE_SBATCH_FAIL:-0}" ] || { echo "sbatch: error: Batch job submission failed" >&2; exit 1; }
	[ "$n" = 2 ] && echo "$((100 + n));cluster" || echo "$((100 + n))"
	EOF
	for c in scontrol scancel; do
		printf '#!/bin/sh\nprintf %s >>"$FAKE_CALLS"; printf " [%%s]" "$@" >>"$FAKE_CALLS"; echo >>"$FAKE_CALLS"\n' \
			"$c" >"fakebin/$c" || return 1
	done &&
	chmod +x fakebin/*
}

test_expect_success 'usage errors: status 2 and what is wrong' '
	hub hub 2 5 1 &&
	test_expect_code 2 slurm -n 2 hub 2>err && test_grep "no output: give -o <index>" err &&
	test_expect_code 2 slurm -o o.fidx hub 2>err && test_grep "give -n <tasks>" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 2>err && test_grep "no input" err &&
	test_expect_code 2 slurm -o o.fidx -n 0 hub 2>err && test_grep "-n expects a whole number from 1" err &&
	test_expect_code 2 slurm -o o.fidx --tasks=x hub 2>err && test_grep "--tasks expects a whole number" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 --bogus hub 2>err && test_grep "unknown option --bogus" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 --follow=yes hub 2>err && test_grep "--follow takes no value" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 hub -p 2>err && test_grep "-p needs a value" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 --update hub 2>err && test_grep "--update does not apply" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 --wait 60 hub 2>err && test_grep "--wait does not apply" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 - 2>err && test_grep "standard input cannot be shared out" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 --texts t.txt hub 2>err && test_grep "--texts with input files" err &&
	test_expect_code 2 slurm -o o.fidx -n 3 --texts a.txt --texts b.txt 2>err &&
	test_grep "each task embeds one texts file, and there are 2" err &&
	test_expect_code 2 slurm -o "$(printf "o\\n.fidx")" -n 2 hub 2>err && test_grep "line break" err &&
	test_expect_code 2 slurm -o o.fidx -n 2 -w "w\\\\x" hub 2>err && test_grep "backslash" err &&
	test $(wc -l <err) -eq 1 &&
	slurm --help >help && test_grep "^usage: fidx-slurm -o <index> -n <tasks>" help &&
	test_must_fail test -e o.fidx.shards
'

test_expect_success 'inputs that do not resolve, and no sbatch: clear errors, nothing written' '
	test_expect_code 4 slurm -o o.fidx -n 2 hub missing.csv 2>err &&
	test_grep "fidx-build: error: .*missing.csv: No such file or directory" err &&
	test_expect_code 3 slurm -o o.fidx -n 2 --split nope hub 2>err &&
	test_grep "no data files for split \"nope\"" err &&
	test_expect_code 4 slurm -o nowhere/o.fidx -n 2 hub 2>err && test_grep "nowhere: no such folder" err &&
	test_expect_code 4 slurm -o o.fidx --texts missing.txt 2>err && test_grep "missing.txt: no such file" err &&
	test_expect_code 1 slurm -o o.fidx -n 2 --fidx ./nofidx hub 2>err && test_grep "nofidx: no such program" err &&
	test_expect_code 2 slurm -o hub -n 2 hub 2>err && test_grep "-o names a folder" err &&
	mkdir tools &&
	for t in sed awk dirname wc mkdir chmod mv rm grep head tail cat hostname; do
		ln -s "$(command -v $t)" tools/$t || return 1
	done &&
	test_expect_code 1 env PATH="$FIDX_BIN:$scratch/tools" /bin/sh "$SLURM_SCRIPT" -o o.fidx -n 2 hub 2>err &&
	test_grep "sbatch not found" err &&
	env PATH="$FIDX_BIN:$scratch/tools" /bin/sh "$SLURM_SCRIPT" --dry-run -o o.fidx -n 2 hub >dry &&
	test_grep "^sbatch --parsable --hold" dry &&
	slurm --dry-run -o o.fidx -n 5 hub >dry 2>err &&
	test_grep "warning: only 2 data file\(s\): 2 task\(s\), not 5" err &&
	test_grep "^sbatch .* .--array=0-1. " dry &&
	test_must_fail test -e o.fidx.shards
'

test_expect_success 'the job scripts, run as Slurm would run them, give what one fidx build gives' '
	hub "it'\''s 100% hub" 8 40 2 && touch -d "1 hour ago" "it'\''s 100% hub"/data/* &&
	mkdir "out dir" && fake_slurm && FAKE_CALLS=$scratch/calls && export FAKE_CALLS &&
	PATH="$scratch/fakebin:$PATH" slurm -o "out dir/all.fidx" -n 3 -J t -p part --mem=2G \
		--sbatch-arg=--qos=low --level 2 --max-running 2 "it'\''s 100% hub" >out &&
	w="$scratch/out dir/all.fidx.shards" &&
	test_grep "^submitted build job 101: 3 task\(s\) over 8 data file\(s\), listed in $w/tasks.txt$" out &&
	test_grep "^  logs: $w/logs/build-101_<task>.log, task 0 to 2$" out &&
	test_grep "^submitted merge job 102, to run once every build task has succeeded: $scratch/out dir/all.fidx$" out &&
	test_grep "^  log: $w/logs/merge-102.log$" out &&
	sed -n 1p calls >call1 && sed -n 2p calls >call2 && sed -n 3p calls >call3 &&
	test_grep "^sbatch \[--parsable\] \[--hold\] \[--job-name=t-build\] \[--array=0-2%2\] \[--chdir=$w\] \[--output=$w/logs/build-%A_%a.log\] \[--partition=part\] \[--mem=2G\] \[--qos=low\] \[$w/build.sh\]$" call1 &&
	test_grep "^sbatch \[--parsable\] \[--job-name=t-merge\] \[--dependency=afterok:101\] \[--kill-on-invalid-dep=yes\] " call2 &&
	test_grep "\[$w/merge.sh\]$" call2 &&
	test "$(cat call3)" = "scontrol [release] [101]" && test $(wc -l <calls) -eq 3 &&
	cut -f 1 "$w/tasks.txt" | tr "\n" " " >tasks && test "$(cat tasks)" = "0 0 1 1 1 2 2 2 " &&
	test_must_fail test -x "$w/tasks.txt" &&
	for k in 0 1 2; do
		(cd / && SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_JOB_ID=101 SLURM_CPUS_PER_TASK=1 "$w/build.sh") >log$k 2>&1 ||
			{ cat log$k; return 1; }
		test_grep "^fidx-slurm: task $k: exit status 0$" log$k || return 1
	done &&
	test_grep "^  $scratch/it.s 100% hub/data/train-00005-of-00008.csv$" log2 &&
	(cd / && "$w/merge.sh") >mlog 2>&1 && test_grep "^fidx-slurm: merge: exit status 0$" mlog &&
	test_grep "wrote $scratch/out dir/all.fidx: 320 rows from 3 indexes" mlog &&
	fidx build -q -o single.fidx "it'\''s 100% hub" &&
	same_index single.fidx "out dir/all.fidx" &&
	fidx info "$w/shard-00000.fidx" >info && test_grep "count: +80$" info &&
	(cd / && SLURM_ARRAY_TASK_ID=1 "$w/build.sh") >log1 2>&1 && test_grep "is up to date" log1 &&
	test_expect_code 2 env SLURM_ARRAY_TASK_ID=3 "$w/build.sh" >log3 2>&1 &&
	test_grep "no such task \(0 to 2\)" log3
'

test_expect_success 'tokens in the environment do not reach sbatch (Slurm would store them with the job)' '
	: >calls && FAKE_CALLS=$scratch/calls && export FAKE_CALLS && rm -f calls.env &&
	printf "one\n" >one.txt &&
	env HF_TOKEN=hf_secret_env FIDX_API_TOKEN=api_secret PATH="$scratch/fakebin:$PATH" \
		/bin/sh "$SLURM_SCRIPT" -o t.fidx --embedder api --texts one.txt >out 2>err &&
	test_grep "warning: HF_TOKEN is not passed to the jobs" err &&
	test_grep "warning: FIDX_API_TOKEN is not passed to the jobs" err &&
	test_cmp /dev/null calls.env && test $(grep -c "^sbatch" calls) -eq 2 &&
	printf "x\n" >tok && HF_TOKEN=hf_secret_env PATH="$scratch/fakebin:$PATH" \
		/bin/sh "$SLURM_SCRIPT" -o t.fidx --embedder api --token-file tok --texts one.txt >out 2>err &&
	test_cmp /dev/null err && test_cmp /dev/null calls.env &&
	test_grep "--token-file. .$scratch/tok." t.fidx.shards/build.sh
'

test_expect_success 'a merge job that cannot be submitted takes the build job with it' '
	: >calls && FAKE_CALLS=$scratch/calls && export FAKE_CALLS &&
	test_expect_code 1 env PATH="$scratch/fakebin:$PATH" FAKE_SBATCH_FAIL=2 \
		/bin/sh "$SLURM_SCRIPT" -o "out dir/all.fidx" -n 3 "it'\''s 100% hub" >out 2>err &&
	test_grep "could not submit the merge job; the build job 101 is cancelled" err &&
	test "$(sed -n 3p calls)" = "scancel [101]" && test_cmp /dev/null out
'

# ---- the real thing: a private Slurm cluster ------------------------------

for b in munged slurmctld slurmd sbatch scontrol scancel sinfo timeout; do
	command -v $b >/dev/null 2>&1 ||
		test_skip_all "no $b: the Slurm tests need slurm-wlm and munge (.ci/setup test installs them)"
done
[ "$(id -u)" = 0 ] || test_skip_all "the private Slurm cluster runs its daemons as root"

TOKEN="hf_slurm$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
start_standin "$TOKEN"
HF=http://127.0.0.1:$STANDIN_PORT/hf-inference/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction
# A stand-in Hub with a dataset of 4 files, and a Hugging Face cache every
# task sees (the jobs get HF_ENDPOINT and HF_HUB_CACHE from the environment).
hub hfrepo 4 30 6 || exit 1
HF_HUB_CACHE=$scratch/hfcache FIDX_TEST_HTTP_WAIT=0.01
export HF_HUB_CACHE FIDX_TEST_HTTP_WAIT
start_hub --page-size 3 --repo o/shards=hfrepo

SLURM_CONF=$scratch/slurm/slurm.conf
export SLURM_CONF
munged_pid='' ctld_pid='' slurmd_pid='' watch_pid=''

# stop PID...: TERM, up to 5 s to go, then KILL.
stop() {
	kill -TERM "$@" 2>/dev/null || :
	n=0
	while [ $n -lt 50 ]; do
		alive=
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -n "$alive" ] || return 0
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "$@" 2>/dev/null || :
}

# Stops the jobs, the Slurm daemons, then munged (which they talk to), each
# by its pid.
stop_cluster() {
	[ -z "$ctld_pid" ] || timeout 5 scancel --user="$(id -un)" >/dev/null 2>&1 || :
	[ -z "$slurmd_pid$ctld_pid" ] || stop $slurmd_pid $ctld_pid
	[ -z "$munged_pid" ] || stop $munged_pid
	munged_pid='' ctld_pid='' slurmd_pid=''
	# In the watchdog, watch_pid is empty: it was set after the fork.
	[ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || :
	watch_pid=''
}
trap 'stop_cluster; kill $_servers 2>/dev/null' EXIT
trap 'exit 130' INT TERM HUP

# The cluster: a munge key and a slurm.conf of its own, free ports, one node
# (this host, 127.0.0.1), every state, spool, log and pid file in here.
start_cluster() {
	s=$scratch/slurm
	{ mkdir -p "$s/state" "$s/spool" "$s/munge" && chmod 700 "$s/munge" &&
	dd if=/dev/urandom of="$s/munge/munge.key" bs=128 count=1 2>/dev/null && chmod 400 "$s/munge/munge.key" &&
	ports=$("$PYTHON" -c "
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(('127.0.0.1', 0))
print(' '.join(str(x.getsockname()[1]) for x in s))") &&
	host=$(hostname -s) && cat >"$SLURM_CONF" <<-EOF
	ClusterName=fidxtest
	SlurmctldHost=$host(127.0.0.1)
	SlurmctldPort=${ports% *}
	SlurmdPort=${ports#* }
	SlurmUser=root
	SlurmdUser=root
	AuthType=auth/munge
	CredType=cred/munge
	AuthInfo=socket=$s/munge/socket
	StateSaveLocation=$s/state
	SlurmdSpoolDir=$s/spool
	SlurmctldPidFile=$s/slurmctld.pid
	SlurmdPidFile=$s/slurmd.pid
	SlurmctldLogFile=$s/slurmctld.log
	SlurmdLogFile=$s/slurmd.log
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_CPU
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	MpiDefault=none
	SwitchType=switch/none
	ReturnToService=2
	# Start jobs at once, not in batches every 3 s: the pipelines are tiny.
	SchedulerParameters=batch_sched_delay=0
	NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc)
	PartitionName=fidx Nodes=$host Default=YES MaxTime=INFINITE State=UP
	EOF
	} || return 1
	# --force: the scratch folder is not open to all, as munged would like.
	munged -F --force --key-file="$s/munge/munge.key" --socket="$s/munge/socket" \
		--pid-file="$s/munge/munged.pid" --seed-file="$s/munge/seed" --log-file="$s/munge/munged.log" \
		</dev/null >"$s/munged.out" 2>&1 7>&- &
	munged_pid=$!
	n=0
	until [ -S "$s/munge/socket" ] || [ $n -ge 600 ]; do sleep 0.1; n=$((n + 1)); done
	slurmctld -D -f "$SLURM_CONF" </dev/null >"$s/slurmctld.out" 2>&1 7>&- &
	ctld_pid=$!
	slurmd -D -f "$SLURM_CONF" </dev/null >"$s/slurmd.out" 2>&1 7>&- &
	slurmd_pid=$!
	# Should this shell be killed (a ctest time-out), the daemons and the
	# stand-in server follow it.
	(
		trap - EXIT
		while kill -0 $$ 2>/dev/null; do sleep 1; done
		kill $_servers 2>/dev/null
		stop_cluster
	) </dev/null >/dev/null 2>&1 7>&- &
	watch_pid=$!
}
start_cluster

# run_pipeline OUT...: fidx-slurm --follow, bounded in time, its output in
# OUT (stdout) and OUT.err.
follow() {
	_o=$1
	shift
	FIDX_SLURM_POLL=0.5 timeout 180 sh "$SLURM_SCRIPT" --follow "$@" >"$_o" 2>"$_o.err"
}

test_expect_success 'the private cluster is up: one idle node' '
	n=0 &&
	until scontrol ping 2>/dev/null | grep -q "is UP" && sinfo -h -o %t 2>/dev/null | grep -q "^idle"; do
		n=$((n + 1)) && [ $n -lt 120 ] || { tail -n 20 slurm/*.out slurm/munge/*.log; return 1; }
		sleep 0.25
	done
'

W="$scratch/out dir/hub.fidx.shards"
test_expect_success 'a Hub folder of 8 CSVs in 4 tasks: the merged index is the single build' '
	hub "hub folder" 8 60 3 && cp "hub folder/data/train-00000-of-00008.csv" "hub folder/test.csv" &&
	start=$(date +%s) &&
	follow run1 -o "out dir/hub.fidx" -n 4 -J t0920 "hub folder" &&
	echo "pipeline: $(($(date +%s) - start)) s" &&
	test_grep "^submitted build job [0-9]+: 4 task\(s\) over 8 data file\(s\)" run1 &&
	test_grep "^build tasks: 4 built, 0 up to date, 0 failed$" run1 &&
	test_grep "^merge job [0-9]+ wrote $scratch/out dir/hub.fidx$" run1 &&
	test_cmp /dev/null run1.err &&
	A=$(sed -n "s/^submitted build job \([0-9]*\):.*/\1/p" run1) &&
	for k in 0 1 2 3; do
		test_grep "^fidx-slurm: task $k: exit status 0$" "$W/logs/build-${A}_$k.log" || return 1
	done &&
	test_grep "^  $scratch/hub folder/data/train-00007-of-00008.csv$" "$W/logs/build-${A}_3.log" &&
	fidx build -q -o single.fidx "hub folder" &&
	same_index single.fidx "out dir/hub.fidx" && cp a.npy single.npy &&
	fidx info "out dir/hub.fidx" >info && test_grep "count: +480$" info && test_grep "ids: +implicit, 0..479" info
'

test_expect_success 'the shards searched together answer as the merged index: ids and scores' '
	awk -F, "NR % 97 == 2" "hub folder/data/train-00002-of-00008.csv" "hub folder/data/train-00006-of-00008.csv" >q.csv &&
	test $(wc -l <q.csv) -ge 2 &&
	set -- && for k in 0 1 2 3; do set -- "$@" -i "$W/shard-0000$k.fidx"; done &&
	fidx search --json -k 10 --no-header --vectors q.csv "$@" >shards.json &&
	fidx search --json -k 10 --no-header --vectors q.csv "out dir/hub.fidx" >merged.json &&
	test_cmp merged.json shards.json &&
	fidx search --tsv -k 5 --id 5 --id 200 --id 479 "$@" >shards.tsv &&
	fidx search --tsv -k 5 --id 5 --id 200 --id 479 "out dir/hub.fidx" >merged.tsv &&
	test_cmp merged.tsv shards.tsv &&
	awk -F "\t" "\$2 == 1 { print \$3 }" merged.tsv >self && printf "5\n200\n479\n" >want && test_cmp want self
'

test_expect_success 'a corrupt file: its task fails, the merge job never runs, the target is as it was' '
	cp "out dir/hub.fidx" before.fidx &&
	for k in 0 1 2 3; do cp "$W/shard-0000$k.fidx" shard$k.before || return 1; done &&
	touch -d "1 minute ago" "$W"/shard-* && touch marker &&
	bad="hub folder/data/train-00005-of-00008.csv" && cp "$bad" good.csv &&
	sed "3s/^[^,]*,/oops,/" good.csv >"$bad" &&
	test_expect_code 3 follow run2 -o "out dir/hub.fidx" -n 4 -J t0920 "hub folder" &&
	cat run2 &&
	A=$(sed -n "s/^submitted build job \([0-9]*\):.*/\1/p" run2) &&
	M=$(sed -n "s/^submitted merge job \([0-9]*\),.*/\1/p" run2) &&
	test_grep "^task 2 failed with status 3: $W/logs/build-${A}_2.log$" run2 &&
	test_grep "^  fidx-build: error: $scratch/$bad:3:1: expected a number, found \"oops\"" run2 &&
	test_grep "^build tasks: 0 built, 3 up to date, 1 failed$" run2 &&
	test_grep "^merge job $M did not run: $scratch/out dir/hub.fidx is as it was$" run2 &&
	test_grep "train-00005-of-00008.csv:3:1: expected a number" "$W/logs/build-${A}_2.log" &&
	test_grep "^2	$scratch/$bad$" "$W/tasks.txt" &&
	test_must_fail test -e "$W/logs/merge-$M.log" &&
	scontrol show job -o "$M" >mjob && test_grep "JobState=CANCELLED Reason=DependencyNeverSatisfied" mjob &&
	cmp before.fidx "out dir/hub.fidx" && fidx info "out dir/hub.fidx" >/dev/null &&
	for k in 0 1 3; do
		test_grep "is up to date" "$W/logs/build-${A}_$k.log" || return 1
	done &&
	for k in 0 1 2 3; do
		cmp shard$k.before "$W/shard-0000$k.fidx" || return 1
	done
'

# Mended with a value of its own: the failed build left the old shard as it
# was, so the file's old bytes would find that shard up to date.
test_expect_success 'the file mended, submitting again rebuilds only the failed shard' '
	sed "3s/^oops,/0.25,/" "hub folder/data/train-00005-of-00008.csv" >mended.csv &&
	test_must_fail cmp -s good.csv mended.csv &&
	cp mended.csv "hub folder/data/train-00005-of-00008.csv" &&
	follow run3 -o "out dir/hub.fidx" -n 4 -J t0920 "hub folder" &&
	cat run3 &&
	test_grep "^build tasks: 1 built, 3 up to date, 0 failed$" run3 &&
	A=$(sed -n "s/^submitted build job \([0-9]*\):.*/\1/p" run3) &&
	test_grep "wrote $W/shard-00002.fidx" "$W/logs/build-${A}_2.log" &&
	for k in 0 1 3; do
		test_grep "shard-0000$k.fidx is up to date: same options, 2 sources unchanged; skipped" "$W/logs/build-${A}_$k.log" &&
		cmp shard$k.before "$W/shard-0000$k.fidx" && test -z "$(find "$W/shard-0000$k.fidx" -newer marker)" || return 1
	done &&
	test -n "$(find "$W/shard-00002.fidx" -newer marker)" &&
	fidx build -q -o mended.fidx "hub folder" &&
	same_index mended.fidx "out dir/hub.fidx" && test_must_fail cmp -s a.npy single.npy

'

test_expect_success 'explicit ids and texts in 3 tasks: kept as they are, searched alike' '
	hub ids 5 30 4 ids &&
	follow run4 -o ids.fidx -n 3 --id-column id --text-column title ids &&
	test_grep "^build tasks: 3 built, 0 up to date, 0 failed$" run4 &&
	fidx build -q -o ids-single.fidx --id-column id --text-column title ids &&
	same_index ids-single.fidx ids.fidx &&
	test_grep "\"id\": \"item-7\", \"text\": \"Title 1, from file 0\"" a.jsonl &&
	fidx search --jsonl -k 4 --id item-7 --id item-1043 ids.fidx >merged.jsonl &&
	fidx search --jsonl -k 4 --id item-7 --id item-1043 -i ids.fidx.shards/shard-00000.fidx \
		-i ids.fidx.shards/shard-00001.fidx -i ids.fidx.shards/shard-00002.fidx >shards.jsonl &&
	test_cmp merged.jsonl shards.jsonl && test $(wc -l <merged.jsonl) -eq 8
'

test_expect_success 'texts through the embedding API, one task a file: an API error fails the tasks; with the token, the single build' '
	write_faqs faqs.txt && head -n 5 faqs.txt >t1.txt && sed -n 6,9p faqs.txt >t2.txt && tail -n +10 faqs.txt >t3.txt &&
	echo "hf_wrong" >wrong && printf "%s\n" "$TOKEN" >token && chmod 600 token &&
	HF_TOKEN=$TOKEN && export HF_TOKEN &&
	test_expect_code 6 follow run5 -o faqs.fidx --embedder api --api-url "$HF" --token-file wrong \
		--no-cache --texts t1.txt --texts t2.txt --texts t3.txt &&
	test_grep "^task 0 failed with status 6:" run5 && test_grep "^task 2 failed with status 6:" run5 &&
	test_grep "^  fidx-build: error: .*t1.txt:1: .*HTTP 401: Invalid credentials" run5 && test_grep "^build tasks: 0 built, 0 up to date, 3 failed$" run5 &&
	test_must_fail test -e faqs.fidx &&
	follow run6 -o faqs.fidx --embedder api --api-url "$HF" --token-file token \
		--cache "$scratch/cache" --texts t1.txt --texts t2.txt --texts t3.txt &&
	test_grep "^build tasks: 3 built, 0 up to date, 0 failed$" run6 &&
	fidx build -q -o faqs-single.fidx --embedder api --api-url "$HF" --token-file token --no-cache --texts faqs.txt &&
	same_index faqs-single.fidx faqs.fidx &&
	fidx search -k 1 --token-file token --api-url "$HF" faqs.fidx "How can Medicare help me?" >hit &&
	test_grep "How can I get help with my Medicare Part A and Part B premiums" hit
'

test_expect_success 'an hf:// dataset in 2 tasks: resolved to one commit, each task downloads its share' '
	hub_ctl "{\"reset_stats\": true}" >/dev/null &&
	follow run7 -o hf.fidx -n 2 hf://datasets/o/shards &&
	test_grep "^build tasks: 2 built, 0 up to date, 0 failed$" run7 &&
	C=$(cat "$HF_HUB_CACHE/datasets--o--shards/refs/main") &&
	printf "%s\n" 0 0 1 1 >t && printf "hf://datasets/o/shards@$C/data/train-0000%s-of-00004.csv\n" 0 1 2 3 >f &&
	paste t f >want && test_cmp want hf.fidx.shards/tasks.txt &&
	A=$(sed -n "s/^submitted build job \([0-9]*\):.*/\1/p" run7) &&
	test_grep "^  hf://datasets/o/shards@$C/data/train-00003-of-00004.csv$" "hf.fidx.shards/logs/build-${A}_1.log" &&
	hub_stat "\" \".join(sorted(e[\"path\"].split(\"?\")[0].split(\"/\")[-1] for e in log if e[\"class\"] == \"file\"))" >got &&
	echo "train-00000-of-00004.csv train-00001-of-00004.csv train-00002-of-00004.csv train-00003-of-00004.csv" >want &&
	test_cmp want got &&
	hub_stat "s[\"by_class\"].get(\"info\", 0)" >n && echo 1 >want && test_cmp want n &&
	fidx build -q -o hf-single.fidx hfrepo && same_index hf-single.fidx hf.fidx &&
	fidx info hf.fidx >info && test_grep "count: +120$" info
'

test_expect_success 'the token is in no job script, log, job environment or Slurm state' '
	test_must_fail grep -rlaF --exclude=token "$TOKEN" "$scratch" >leaks;
	test_cmp /dev/null leaks &&
	M=$(sed -n "s/^submitted merge job \([0-9]*\),.*/\1/p" run6) &&
	env="slurm/state/hash.$((M % 10))/job.$M/environment" &&
	test -s "$env" && grep -aq "SLURM_CONF=$SLURM_CONF" "$env"
'

stop_cluster
test_expect_success 'the daemons are stopped' '
	sleep 0.2 && test_must_fail pgrep -f "$SLURM_CONF" >/dev/null &&
	test_must_fail pgrep -f "$scratch/slurm/munge" >/dev/null
'

test_done
