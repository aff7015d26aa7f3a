#!/bin/sh
# fidx build hf://datasets/..., end to end against the stand-in Hub
# (tests/hub/standin.py): the files chosen as for local folders, the shared
# Hugging Face cache file by file, request counts (--if-changed costs one),
# offline builds, every error and fault, and the token nowhere but the Hub.
. "$FIDX_SRC/tests/cli/lib.sh"

fx=$FIDX_SRC/tests/parquet/fixtures
TOKEN="hf_fidxhub$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
OTHER="hf_fidxother$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
hub_home

# The repositories: the article's dataset, a sharded layout with LFS files
# (*.gz, *.npy), private, gated, a Parquet export branch, ids on a branch
# whose name has a slash.
mkdir -p repo/med repo/layout/data repo/layout/.hidden repo/layout/other repo/small repo/parq repo/conv/default/train \
	repo/items repo/items2 &&
cp "$FIDX_SRC"/datasets/medicare-faqs/* repo/med/ &&
printf '0,1,2\n0.5,1,0\n' >repo/layout/data/train-00000-of-00002.csv &&
printf '0,1,2\n0,1,0.25\n1,2,3\n' >repo/layout/data/train-00001-of-00002.csv &&
printf '0,1,2\n9,9,9\n' | gzip -n >repo/layout/data/test-00000-of-00001.csv.gz &&
printf '0,1,2\n7,7,7\n' >repo/layout/.hidden/x.csv &&
printf '0,1,2\n1,0,0\n' >repo/small/data.csv &&
cp "$fx/low-50-8.csv" repo/parq/main.csv &&
cp "$fx/duckdb-list3-float-snappy-v1-low.parquet" repo/conv/default/train/0000.parquet &&
printf 'id,0,1\na,1,0\nb,0,1\n' >repo/items/items.csv &&
printf 'id,0,1\na,1,1\nc,0,1\n' >repo/items2/items.csv &&
fidx build -q -o small.fidx repo/small/data.csv && fidx export -q small.fidx --npy repo/layout/other/v.npy ||
	exit 1

HUB_TOKEN=$TOKEN HUB_OTHER_TOKEN=$OTHER
start_hub --page-size 2 --log "$scratch/hub.log" --repo o/med=repo/med --repo o/layout=repo/layout \
	--repo o/private=repo/small,private --repo o/gated=repo/small,gated --repo o/parq=repo/parq \
	--repo o/parq@refs/convert/parquet=repo/conv --repo o/items=repo/items \
	--repo o/items@feature/x=repo/items2
unset HUB_TOKEN HUB_OTHER_TOKEN
reset() { hub_ctl '{"reset_stats": true, "faults": []}' >/dev/null; }
faults() { hub_ctl "{\"reset_stats\": true, \"faults\": $1}" >/dev/null; }
requests() { hub_stat 's["requests"] + s["cdn"]["requests"]'; }
commit_of() { hub_stat "[e for e in log if e['class'] == 'info'][0]['path']" >/dev/null; }
# The files the Hub served (its /resolve/ paths), sorted.
served() { hub_stat '"\n".join(sorted(e["path"].split("/resolve/")[1].split("?")[0] for e in log if e["class"] in ("resolve", "file") and "/resolve/" in e["path"]))'; }

test_expect_success 'the stand-in Hub is up' '
	test -n "$HUB_CDN_PORT" && hub_stat "s[\"requests\"]" >n && echo 0 >want && test_cmp want n
'

test_expect_success 'hf://datasets/o/med builds what the local folder builds, recorded by commit' '
	reset &&
	fidx build -o local.fidx repo/med 2>err &&
	fidx build -o med.fidx hf://datasets/o/med 2>err &&
	test_grep "wrote med.fidx: 13 rows from 1 file" err &&
	test_grep "the Hub: 7 requests, 2 files downloaded \(21.4 kB\), 0 from the cache" err &&
	fidx export -q local.fidx --csv local.csv && fidx export -q med.fidx --csv med.csv && test_cmp local.csv med.csv &&
	COMMIT=$(cat "$HF_HUB_CACHE/datasets--o--med/refs/main") &&
	fidx info med.fidx >info &&
	test_grep "^    hf://datasets/o/med@$COMMIT/embeddings.csv  19748 bytes, 13 rows, sha256 " info &&
	echo "$COMMIT" >med.commit
'
COMMIT=$(cat med.commit 2>/dev/null)

test_expect_success 'the requests of a first build: info, two tree pages, README.md and the data file' '
	hub_stat "\"\\n\".join(e[\"method\"] + \" \" + e[\"path\"].split(\"?\")[0] + \" \" + str(e[\"status\"]) for e in log)" >got &&
	cat >want <<-EOF &&
	GET /api/datasets/o/med/revision/main 200
	GET /api/datasets/o/med/tree/$COMMIT 200
	GET /api/datasets/o/med/tree/$COMMIT 200
	GET /datasets/o/med/resolve/$COMMIT/README.md 307
	GET /api/resolve-cache/datasets/o/med/$COMMIT/README.md 200
	GET /datasets/o/med/resolve/$COMMIT/embeddings.csv 307
	GET /api/resolve-cache/datasets/o/med/$COMMIT/embeddings.csv 200
	EOF
	test_cmp want got
'

test_expect_success 'the cache is huggingface_hub'"'"'s layout, file by file' '
	(cd "$HF_HUB_CACHE" && find . -printf "%y %P %l\n" | sort) >got &&
	readme=$(git hash-object repo/med/README.md) && emb=$(git hash-object repo/med/embeddings.csv) &&
	cat >want.unsorted <<-EOF &&
	d  
	f CACHEDIR.TAG 
	d .locks 
	d .locks/datasets--o--med 
	f .locks/datasets--o--med/$readme.lock 
	f .locks/datasets--o--med/$emb.lock 
	d datasets--o--med 
	d datasets--o--med/blobs 
	f datasets--o--med/blobs/$readme 
	f datasets--o--med/blobs/$emb 
	d datasets--o--med/refs 
	f datasets--o--med/refs/main 
	d datasets--o--med/snapshots 
	d datasets--o--med/snapshots/$COMMIT 
	l datasets--o--med/snapshots/$COMMIT/README.md ../../blobs/$readme
	l datasets--o--med/snapshots/$COMMIT/embeddings.csv ../../blobs/$emb
	d datasets--o--med/trees 
	f datasets--o--med/trees/$COMMIT.json 
	EOF
	sort want.unsorted >want &&
	test_cmp want got &&
	cmp repo/med/embeddings.csv "$HF_HUB_CACHE/datasets--o--med/snapshots/$COMMIT/embeddings.csv" &&
	cmp repo/med/README.md "$HF_HUB_CACHE/datasets--o--med/blobs/$readme" &&
	printf %s "$COMMIT" >want && test_cmp want "$HF_HUB_CACHE/datasets--o--med/refs/main" &&
	"$PYTHON" -c "import json, sys; t = json.load(open(sys.argv[1])); assert t[\"format_version\"] == 1 and sorted(t[\"files\"]) == [\".gitattributes\", \"README.md\", \"embeddings.csv\", \"faqs.csv\"] and t[\"files\"][\"embeddings.csv\"] == {\"size\": 19748, \"blob_id\": sys.argv[2]}, t" \
		"$HF_HUB_CACHE/datasets--o--med/trees/$COMMIT.json" "$emb" &&
	head -n 1 "$HF_HUB_CACHE/CACHEDIR.TAG" >got && echo "Signature: 8a477f597d28d172789f06886806bc55" >want && test_cmp want got
'

test_expect_success '--if-changed with the commit unchanged: exactly one request, nothing downloaded' '
	reset &&
	fidx build --if-changed --log-format json -o med.fidx hf://datasets/o/med 2>log &&
	requests >n && echo 1 >want && test_cmp want n &&
	hub_stat "log[0][\"path\"]" >path && echo /api/datasets/o/med/revision/main >want && test_cmp want path &&
	"$PYTHON" -c "import json; r = json.load(open(\"log\")); assert r[\"outcome\"] == \"skipped\" and r[\"hub_requests\"] == 1 and r[\"hub_bytes\"] == 0 and r[\"hub_downloaded\"] == 0, r"
'

test_expect_success 'a build again: the listing and the files from the cache, one request' '
	reset &&
	fidx build -o med2.fidx hf://datasets/o/med 2>err &&
	test_grep "the Hub: 1 request, 0 files downloaded \(0 bytes\), 2 from the cache" err &&
	requests >n && echo 1 >want && test_cmp want n
'

test_expect_success 'after one file changed upstream: only that file is downloaded' '
	fidx build -q -o layout.fidx hf://datasets/o/layout &&
	printf "0,1,2\n0,1,0.5\n1,2,3\n" >shard1.csv &&
	hub_ctl "{\"commit\": {\"repo\": \"o/layout\", \"files\": {\"data/train-00001-of-00002.csv\": \"$(base64 -w0 shard1.csv)\"}}}" >/dev/null &&
	reset &&
	fidx build --if-changed --log-format json -o layout.fidx hf://datasets/o/layout 2>log &&
	"$PYTHON" -c "import json; r = json.load(open(\"log\")); assert r[\"outcome\"] == \"ok\" and r[\"hub_downloaded\"] == 1 and r[\"hub_cached\"] == 1 and r[\"hub_bytes\"] == 20, r" &&
	served >got && new=$(cat "$HF_HUB_CACHE/datasets--o--layout/refs/main") &&
	echo "$new/data/train-00001-of-00002.csv" >want &&
	test_cmp want got &&
	fidx export -q layout.fidx --csv got.csv &&
	printf "0,1,2\n0.5,1,0\n0,1,0.5\n1,2,3\n" >rows.csv &&
	fidx build -q -o want.fidx rows.csv && fidx export -q want.fidx --csv want.csv && test_cmp want.csv got.csv
'

test_expect_success 'download progress: bytes, rate and time left (shown on a terminal, or with --progress)' '
	rm -rf "$HF_HUB_CACHE/datasets--o--med/blobs" &&
	fidx build --progress -o p.fidx hf://datasets/o/med 2>err &&
	test_grep "downloading hf://datasets/o/med@$COMMIT/embeddings.csv: 19.7 kB of 19.7 kB" err &&
	rm -rf "$HF_HUB_CACHE/datasets--o--med/blobs" &&
	fidx build -o p.fidx hf://datasets/o/med 2>err && test_grep "2 files downloaded" err &&
	test_must_fail grep downloading err
'

test_expect_success 'offline: from the cache alone, no request; a missing file named' '
	reset &&
	HF_HUB_OFFLINE=1 fidx build -o off.fidx hf://datasets/o/med 2>err &&
	HF_HUB_OFFLINE=yes fidx build -q -o off2.fidx "hf://datasets/o/med@$COMMIT" &&
	fidx export -q off.fidx --csv off.csv && test_cmp med.csv off.csv &&
	requests >n && echo 0 >want && test_cmp want n &&
	test_expect_code 4 env HF_HUB_OFFLINE=1 fidx build -o x.fidx hf://datasets/o/med --config faqs 2>err &&
	test_grep "error: hf://datasets/o/med@$COMMIT/faqs.csv: not in the Hugging Face cache \($HF_HUB_CACHE\) and HF_HUB_OFFLINE is set" err &&
	test_expect_code 4 env HF_HUB_OFFLINE=1 fidx build -o x.fidx hf://datasets/o/med@v2 2>err &&
	test_grep "hf://datasets/o/med@v2: not in the Hugging Face cache .* has no refs/v2\) and HF_HUB_OFFLINE is set" err &&
	requests >n && echo 0 >want && test_cmp want n
'

test_expect_success 'offline without trees/<commit>.json: the snapshot lists the files' '
	mv "$HF_HUB_CACHE/datasets--o--med/trees" trees.saved &&
	HF_HUB_OFFLINE=1 fidx build -q -o off3.fidx hf://datasets/o/med &&
	mv trees.saved "$HF_HUB_CACHE/datasets--o--med/trees" &&
	fidx export -q off3.fidx --csv off3.csv && test_cmp med.csv off3.csv
'

test_expect_success '--list-inputs names each file by commit and downloads no data file' '
	reset &&
	fidx build --list-inputs hf://datasets/o/med --config faqs >got &&
	echo "hf://datasets/o/med@$COMMIT/faqs.csv" >want && test_cmp want got &&
	served >got && test_must_fail grep faqs.csv got &&
	fidx build --list-inputs hf://datasets/o/layout --split test >got &&
	layout=$(cat "$HF_HUB_CACHE/datasets--o--layout/refs/main") &&
	echo "hf://datasets/o/layout@$layout/data/test-00000-of-00001.csv.gz" >want && test_cmp want got
'

test_expect_success 'a listed file builds on its own, as fidx-slurm tasks do' '
	fidx build -q -o one.fidx "hf://datasets/o/med@$COMMIT/embeddings.csv" &&
	fidx export -q one.fidx --csv one.csv && test_cmp med.csv one.csv
'

test_expect_success 'LFS files come from the CDN, without the token; splits and hidden files as local' '
	reset &&
	HF_TOKEN=$TOKEN fidx build -q -o test.fidx hf://datasets/o/layout --split test &&
	hub_stat "s[\"cdn\"]" >cdn && echo "{'"'"'requests'"'"': 1, '"'"'auth'"'"': 0}" >want && test_cmp want cdn &&
	hub_stat "[e[\"auth\"] for e in log if e[\"listener\"] == \"main\"]" >auth &&
	test_must_fail grep False auth &&
	gzip -dc repo/layout/data/test-00000-of-00001.csv.gz >t.csv && fidx build -q -o t.fidx t.csv &&
	fidx export -q t.fidx --csv want.csv && fidx export -q test.fidx --csv got.csv && test_cmp want.csv got.csv &&
	fidx build -q --list-inputs hf://datasets/o/layout >got &&
	test_must_fail grep hidden got &&
	test_expect_code 3 fidx build -o x.fidx hf://datasets/o/layout --split validation 2>err &&
	test_grep "hf://datasets/o/layout@[0-9a-f]{40}: no data files for split \"validation\" \(available splits: train, test\)" err
'

test_expect_success 'a path: a file, a folder, a glob' '
	layout=$(cat "$HF_HUB_CACHE/datasets--o--layout/refs/main") &&
	fidx build --list-inputs hf://datasets/o/layout/other/v.npy >got &&
	echo "hf://datasets/o/layout@$layout/other/v.npy" >want && test_cmp want got &&
	fidx build -q -o npy.fidx hf://datasets/o/layout/other/v.npy &&
	fidx export -q npy.fidx --csv got.csv && fidx export -q small.fidx --csv want.csv && test_cmp want.csv got.csv &&
	fidx build --list-inputs hf://datasets/o/layout/data >got &&
	printf "hf://datasets/o/layout@$layout/data/%s\n" train-00000-of-00002.csv train-00001-of-00002.csv >want &&
	test_cmp want got &&
	fidx build --list-inputs "hf://datasets/o/layout/data/*.csv*" >got &&
	printf "hf://datasets/o/layout@$layout/data/%s\n" test-00000-of-00001.csv.gz train-00000-of-00002.csv \
		train-00001-of-00002.csv >want &&
	test_cmp want got &&
	fidx build --list-inputs "hf://datasets/o/layout/**/*.npy" >got &&
	echo "hf://datasets/o/layout@$layout/other/v.npy" >want && test_cmp want got
'

test_expect_success 'search --vectors: query vectors from the Hub' '
	fidx search -k 2 --vectors repo/layout/data/test-00000-of-00001.csv.gz layout.fidx >want &&
	fidx search -k 2 --vectors hf://datasets/o/layout/data/test-00000-of-00001.csv.gz layout.fidx >got &&
	test_cmp want got &&
	fidx search -k 2 --vectors "hf://datasets/o/layout/data/test-*" layout.fidx >got &&
	test_cmp want got &&
	test_expect_code 3 fidx search --vectors hf://datasets/o/layout/nope.csv layout.fidx 2>err &&
	test_grep "^fidx-search: error: hf://datasets/o/layout@[0-9a-f]{40}/nope.csv: no such file or folder in the dataset$" err
'

test_expect_success 'revisions: refs/convert/parquet as written and percent-encoded, a branch with a slash' '
	fidx build -q -o conv.fidx "hf://datasets/o/parq@refs/convert/parquet" &&
	fidx build -q -o conv2.fidx "hf://datasets/o/parq@refs%2Fconvert%2Fparquet/default/train/0000.parquet" &&
	fidx build -q -o local-conv.fidx "$fx/duckdb-list3-float-snappy-v1-low.parquet" &&
	fidx export -q conv.fidx --jsonl a.jsonl && fidx export -q conv2.fidx --jsonl b.jsonl &&
	fidx export -q local-conv.fidx --jsonl want.jsonl && test_cmp want.jsonl a.jsonl && test_cmp want.jsonl b.jsonl &&
	test -f "$HF_HUB_CACHE/datasets--o--parq/refs/refs/convert/parquet" &&
	fidx build -q -o feat.fidx --id-column id "hf://datasets/o/items@feature%2Fx" &&
	fidx export -q feat.fidx --jsonl got.jsonl &&
	printf "{\"id\": \"a\"}\n{\"id\": \"c\"}\n" >want.jsonl && test_cmp want.jsonl got.jsonl &&
	test -f "$HF_HUB_CACHE/datasets--o--items/refs/feature/x"
'

test_expect_success '--update from the Hub: the changed rows replaced, the new added' '
	fidx build -q -o items.fidx --id-column id hf://datasets/o/items &&
	hub_ctl "{\"commit\": {\"repo\": \"o/items\", \"files\": {\"items.csv\": \"$(base64 -w0 repo/items2/items.csv)\"}}}" >/dev/null &&
	fidx build --update -o items.fidx --id-column id hf://datasets/o/items 2>err &&
	test_grep "updated items.fidx: 3 rows from 1 file: 1 added, 1 replaced, 0 unchanged, 1 kept from before" err
'

test_expect_success 'errors: no such dataset, revision, file; private and gated without access' '
	test_expect_code 8 fidx build -o x.fidx hf://datasets/o/nothing 2>err &&
	test_grep "^fidx-build: error: hf://datasets/o/nothing: no such dataset on $HUB, or it is private or gated and needs a token: set HF_TOKEN \(or log in\) if you may read it \(the Hub says: Invalid username or password.\)$" err &&
	HF_TOKEN=$OTHER test_expect_code 3 fidx build -o x.fidx hf://datasets/o/nothing 2>err &&
	test_grep "hf://datasets/o/nothing: no such dataset on $HUB, or it is private and your token cannot read it" err &&
	test_expect_code 8 fidx build -o x.fidx hf://datasets/o/private 2>err &&
	test_grep "hf://datasets/o/private: no such dataset .* needs a token" err &&
	HF_TOKEN=$OTHER test_expect_code 3 fidx build -o x.fidx hf://datasets/o/private 2>err &&
	HF_TOKEN=$TOKEN fidx build -q -o private.fidx hf://datasets/o/private &&
	test_expect_code 8 fidx build -o x.fidx hf://datasets/o/gated 2>err &&
	test_grep "hf://datasets/o/gated@[0-9a-f]{40}/data.csv: the dataset is gated: ask for access on $HUB/datasets/o/gated, then set HF_TOKEN" err &&
	HF_TOKEN=$OTHER test_expect_code 8 fidx build -o x.fidx hf://datasets/o/gated 2>err &&
	test_grep "the dataset is gated and your token.s account has no access to it yet: ask for it on $HUB/datasets/o/gated \(the Hub says: Access to dataset o/gated is restricted" err &&
	HF_TOKEN=$TOKEN fidx build -q -o gated.fidx hf://datasets/o/gated &&
	test_expect_code 3 fidx build -o x.fidx hf://datasets/o/med@v9 2>err &&
	test_grep "^fidx-build: error: hf://datasets/o/med@v9: the dataset has no revision \"v9\" \(the Hub says: Invalid rev id: v9\)$" err &&
	test_expect_code 3 fidx build -o x.fidx hf://datasets/o/med/nope.csv 2>err &&
	test_grep "^fidx-build: error: hf://datasets/o/med@$COMMIT/nope.csv: no such file or folder in the dataset$" err &&
	test_expect_code 3 fidx build -o x.fidx "hf://datasets/o/med/*.tsv" 2>err &&
	test_grep "hf://datasets/o/med@$COMMIT/\*.tsv: no file of the dataset matches" err &&
	HF_TOKEN=hf_not_a_token test_expect_code 8 fidx build -o x.fidx hf://datasets/o/med 2>err &&
	test_grep "hf://datasets/o/med: the Hub refuses the token \(from HF_TOKEN or the Hugging Face token file\): it is invalid or expired" err &&
	test_expect_code 3 fidx build -o x.fidx hf://models/o/med 2>err &&
	test_grep "\"hf://models/o/med\": fidx reads datasets, not other kinds of repositories \(expected hf://datasets/OWNER/NAME\[@REVISION\]\[/PATH\]\)" err &&
	test_expect_code 3 fidx build -o x.fidx hf://datasets/o/med/../x 2>err &&
	test_expect_code 3 fidx build -o x.fidx hf://datasets/o/med --config nope 2>err &&
	test_grep "no config named \"nope\"" err
'

test_expect_success 'the token file is read too, and the token goes nowhere but the Hub' '
	printf "%s\n" "$TOKEN" >"$HF_HOME/token" &&
	reset &&
	fidx build -v -o private2.fidx hf://datasets/o/private 2>err &&
	rm "$HF_HOME/token" &&
	hub_stat "s[\"cdn\"][\"auth\"]" >n && echo 0 >want && test_cmp want n &&
	test_must_fail grep -r -F "$TOKEN" "$HF_HUB_CACHE" err hub.log . --exclude=hub.ready
'

test_expect_success 'faults: 5xx and 429 are retried, a dropped connection too' '
	faults "[[\"e503\", 2, \"api\"], [\"ratelimit\", 1, \"resolve\", 0], [\"drop\", 1, \"file\"]]" &&
	rm -rf "$HF_HUB_CACHE" &&
	fidx build -v -o r.fidx hf://datasets/o/med 2>err &&
	test_grep "HTTP 503, retrying" err && test_grep "HTTP 429, retrying" err &&
	fidx export -q r.fidx --csv r.csv && test_cmp med.csv r.csv
'

test_expect_success 'faults: rate limited beyond the retries' '
	faults "[[\"ratelimit\", null, \"info\", 3]]" &&
	test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err &&
	test_grep "^fidx-build: error: hf://datasets/o/med: rate limited by the Hub, still after the retries: try again in 3 s, or with a token \(HF_TOKEN\), which has a higher limit \(the Hub says: You have been rate-limited" err &&
	hub_stat "s[\"by_class\"][\"info\"]" >n && echo 6 >want && test_cmp want n
'

test_expect_success 'faults: a cut download resumes with Range, also when the resumed answer is whole' '
	faults "[[\"cut\", 1, \"file\"]]" &&
	rm -rf "$HF_HUB_CACHE" &&
	fidx build -v -o cut.fidx hf://datasets/o/med 2>err &&
	test_grep "README.md: cut after [0-9]+ of 1657 bytes, resuming" err &&
	hub_stat "[e[\"range\"] for e in log if e[\"range\"]]" >got && echo "['"'"'bytes=828-'"'"', '"'"'bytes=828-'"'"']" >want && test_cmp want got &&
	fidx export -q cut.fidx --csv cut.csv && test_cmp med.csv cut.csv &&
	faults "[[\"cut\", 1, \"cdn\"], [\"ignorerange\", 1, \"cdn\"]]" &&
	fidx build -v -q -o lfs.fidx hf://datasets/o/layout/data/test-00000-of-00001.csv.gz 2>err &&
	fidx export -q lfs.fidx --csv got.csv && fidx export -q t.fidx --csv want.csv && test_cmp want.csv got.csv
'

test_expect_success 'faults: wrong bytes, more bytes than listed: refused, nothing enters the cache' '
	for f in corrupt long; do
		faults "[[\"$f\", null, \"file\"]]" &&
		rm -rf "$HF_HUB_CACHE" &&
		test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err || return 1
		find "$HF_HUB_CACHE" -path "*blobs/*" >blobs && test_cmp /dev/null blobs || return 1
	done &&
	test_grep "README.md: the Hub sent more than the 1657 bytes its listing gives the file: refused, nothing kept" err &&
	faults "[[\"corrupt\", null, \"file\"]]" &&
	test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err &&
	test_grep "README.md: the downloaded bytes do not match the Hub.s listing \(git blob id [0-9a-f]{40}, expected $(git hash-object repo/med/README.md)\): refused, nothing kept" err &&
	faults "[[\"corrupt\", null, \"cdn\"]]" &&
	test_expect_code 6 fidx build -o x.fidx hf://datasets/o/layout/other/v.npy 2>err &&
	test_grep "v.npy: the downloaded bytes do not match the Hub.s listing \(SHA-256 " err
'

test_expect_success 'a hostile listing: paths leaving the repository, huge sizes, bad JSON, a foreign next page' '
	for p in "../evil.csv" "/tmp/evil.csv" "a/../../evil.csv" "evil\u0001.csv" "a//evil.csv"; do
		faults "[[\"evilpath\", null, \"tree\", \"$p\"]]" &&
		rm -rf "$HF_HUB_CACHE" &&
		test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err &&
		test_grep "^fidx-build: error: hf://datasets/o/med@$COMMIT: the Hub.s answer is not what fidx expects: (an absolute path|an empty, \".\" or \"..\" component in a path|a control character in a path)" err || return 1
		find "$scratch" -name "*evil*" >found && test_cmp /dev/null found || return 1
		test ! -e /tmp/evil.csv || return 1
	done &&
	test ! -e "$HF_HUB_CACHE/datasets--o--med/snapshots" &&
	faults "[[\"hugesize\", null, \"tree\"]]" &&
	test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err &&
	test_grep "no size, or not a whole number below 2\^53" err &&
	faults "[[\"badjson\", null, \"tree\"]]" &&
	test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err &&
	test_grep "not a JSON array of files" err &&
	faults "[[\"badjson\", null, \"info\"]]" &&
	test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err &&
	test_grep "^fidx-build: error: hf://datasets/o/med: the Hub.s answer is not what fidx expects: not a JSON object$" err &&
	faults "[[\"nextother\", null, \"tree\"]]" &&
	HF_TOKEN=$TOKEN test_expect_code 6 fidx build -o x.fidx hf://datasets/o/med 2>err &&
	test_grep "hf://datasets/o/med@$COMMIT: the Hub.s next page of files is not on $HUB: refused" err &&
	hub_stat "s[\"cdn\"][\"requests\"]" >n && echo 0 >want && test_cmp want n
'

test_expect_success 'concurrent builds share one cache: each blob once, nothing left half-written' '
	reset &&
	rm -rf "$HF_HUB_CACHE" &&
	{ fidx build -q -o c1.fidx hf://datasets/o/layout & fidx build -q -o c2.fidx hf://datasets/o/layout & \
	  fidx build -q -o c3.fidx hf://datasets/o/layout --split test & wait; } &&
	fidx export -q c1.fidx --csv c1.csv && fidx export -q c2.fidx --csv c2.csv && test_cmp c1.csv c2.csv &&
	fidx export -q c3.fidx --csv c3.csv && fidx export -q t.fidx --csv want.csv && test_cmp want.csv c3.csv &&
	find "$HF_HUB_CACHE" -name "*.incomplete" -o -name "*.tmp" >left && test_cmp /dev/null left &&
	hub_stat "sorted(e[\"path\"].split(\"?\")[0] for e in log if e[\"class\"] in (\"file\", \"cdnfile\"))" >got &&
	"$PYTHON" -c "import ast, sys; p = ast.literal_eval(open(\"got\").read()); assert len(p) == len(set(p)) == 3, p"
'

test_done
