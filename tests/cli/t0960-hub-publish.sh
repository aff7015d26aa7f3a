#!/bin/sh
# fidx export --hub, end to end against the stand-in Hub
# (tests/hub/standin.py): the Medicare FAQ index published and built back
# gives the same index and the same top-5; ids and texts round-trip; LFS
# (single and multipart) without the token on the CDN; one commit, never
# retried; nothing committed when nothing changed; the errors.
. "$FIDX_SRC/tests/cli/lib.sh"

ds=$FIDX_SRC/datasets/medicare-faqs
TOKEN="hf_fidxpub$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
OTHER="hf_fidxother$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
hub_home
mkdir -p repo/dev
printf '0,1\n1,0\n' >repo/dev/x.csv
HUB_TOKEN=$TOKEN HUB_OTHER_TOKEN=$OTHER
start_hub --log "$scratch/hub.log" --repo me/existing=repo/dev --repo me/existing@dev=repo/dev
unset HUB_TOKEN HUB_OTHER_TOKEN
reset() { hub_ctl "{\"reset_stats\": true, \"faults\": [], \"lfs_patterns\": [], \"multipart_chunk\": 0}" >/dev/null; }
count() { hub_stat "s[\"by_class\"].get(\"$1\", 0)"; }
pub() { HF_TOKEN=$TOKEN fidx export "$@"; }
# same A B: the two indexes hold the same vectors (bit for bit), ids and texts.
same() {
	fidx export -q "$1" --npy "$1.npy" --jsonl "$1.jsonl" && fidx export -q "$2" --npy "$2.npy" --jsonl "$2.jsonl" &&
	cmp "$1.npy" "$2.npy" && test_cmp "$1.jsonl" "$2.jsonl"
}

test_expect_success 'setup: the article'"'"'s index, vectors from its CSV, texts from its FAQs' '
	fidx build -q -o faqs.fidx --embedder hash --texts "$ds/faqs.csv" "$ds/embeddings.csv" &&
	fidx search -k 5 faqs.fidx "How can Medicare help me?" >want.top5
'

test_expect_success 'without a token: refused before any request' '
	reset &&
	test_expect_code 8 fidx export --hub hf://datasets/me/faqs faqs.fidx 2>err &&
	test_grep "^fidx-export: error: publishing on the Hub needs a token with write access: set HF_TOKEN, log in with huggingface-cli \(it writes \\\$HF_HOME/token\), or give --token-file$" err &&
	hub_stat "s[\"requests\"]" >n && echo 0 >want && test_cmp want n
'

test_expect_success 'published: the dataset made, one commit, its URL printed' '
	reset &&
	pub --hub hf://datasets/me/faqs -m "Medicare FAQs, embedded" faqs.fidx >url 2>err &&
	test_grep "^made the dataset hf://datasets/me/faqs$|made the dataset hf://datasets/me/faqs" err &&
	test_grep "published faqs.fidx to hf://datasets/me/faqs: 13 rows of dimension 384, 2 files sent, commit [0-9a-f]{40}" err &&
	test_grep "^$HUB/datasets/me/faqs/commit/[0-9a-f]{40}$" url &&
	hub_stat "[e[\"class\"] + \" \" + e[\"path\"].split(\"?\")[0] for e in log]" >got &&
	echo "['"'"'create /api/repos/create'"'"', '"'"'info /api/datasets/me/faqs/revision/main'"'"', '"'"'preupload /api/datasets/me/faqs/preupload/main'"'"', '"'"'commit /api/datasets/me/faqs/commit/main'"'"']" >want &&
	test_cmp want got
'

test_expect_success 'built back from the Hub: the same index, the same top-5' '
	fidx build -q -o back.fidx --embedder hash hf://datasets/me/faqs &&
	same faqs.fidx back.fidx &&
	fidx search -k 5 back.fidx "How can Medicare help me?" >got.top5 &&
	test_cmp want.top5 got.top5 &&
	snap=$(ls -d "$HF_HUB_CACHE"/datasets--me--faqs/snapshots/*) &&
	head -n 1 "$snap/embeddings.csv" >head && seq -s, 0 383 | sed "s/\$/,text/" >want && test_cmp want head &&
	fidx export -q faqs.fidx --csv plain.csv &&
	cut -d, -f1-384 "$snap/embeddings.csv" | head -n 2 | tail -n 1 >a && head -n 2 plain.csv | tail -n 1 >b && test_cmp b a
'

test_expect_success 'the card: configs for datasets.load_dataset, and what the data is' '
	snap=$(ls -d "$HF_HUB_CACHE"/datasets--me--faqs/snapshots/*) &&
	head -n 10 "$snap/README.md" >got &&
	printf -- "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: embeddings.csv\ntags:\n- embeddings\n- fidx\n---\n" >want &&
	test_cmp want got &&
	test_grep "^13 embeddings of dimension 384, made with fidx-hash-v1 \(fidx.s offline hash embedder: lexical, not a neural model\), published with fidx [0-9.]+\.$" "$snap/README.md" &&
	test_grep "load_dataset\(\"me/faqs\", split=\"train\"\)" "$snap/README.md" &&
	test_grep "^fidx build -o faqs.fidx --embedder hash --model fidx-hash-v1 hf://datasets/me/faqs$" "$snap/README.md" &&
	mkdir -p card && cp "$snap/README.md" "$snap/embeddings.csv" card/ &&
	fidx build --list-inputs card >got && echo card/embeddings.csv >want && test_cmp want got
'

test_expect_success 'published again unchanged: nothing is committed' '
	reset &&
	pub --hub hf://datasets/me/faqs faqs.fidx >url 2>err &&
	test_grep "hf://datasets/me/faqs holds this index already \(13 rows of dimension 384\): nothing to commit" err &&
	test_cmp /dev/null url &&
	count commit >n && echo 0 >want && test_cmp want n
'

test_expect_success 'ids and texts that need quoting come back as they were' '
	printf "%s\n" "id,text,0,1,2" "q-1,\"Hello, world\",1,0,0" "q-2,\"She said \"\"hi\"\"\",0,1,0" \
		"q-3,\"two" "lines\",0,0,1" "q-4,,1,1,1" >items.csv &&
	fidx build -q -o items.fidx --id-column id --text-column text items.csv &&
	pub -q --hub hf://datasets/me/items items.fidx >/dev/null &&
	fidx build -q -o items-back.fidx hf://datasets/me/items &&
	same items.fidx items-back.fidx &&
	test_grep "\"text\": \"two\\\\nlines\"" items-back.fidx.jsonl &&
	fidx info items-back.fidx >info && test_grep "ids: +strings" info
'

test_expect_success 'an LFS file: the batch, a PUT to the CDN without the token, an lfsFile line' '
	reset &&
	hub_ctl "{\"lfs_patterns\": [\"*.csv\"]}" >/dev/null &&
	pub -v --hub hf://datasets/me/lfs faqs.fidx >url 2>err &&
	test_grep "embeddings.csv: uploading [0-9]+ bytes to LFS" err &&
	count batch >n && echo 1 >want && test_cmp want n &&
	hub_stat "s[\"cdn\"]" >cdn && echo "{'"'"'requests'"'"': 1, '"'"'auth'"'"': 0}" >want && test_cmp want cdn &&
	fidx build -q -o lfs-back.fidx --embedder hash hf://datasets/me/lfs &&
	same faqs.fidx lfs-back.fidx
'

test_expect_success 'a multipart LFS upload: the parts, then the completion' '
	reset &&
	hub_ctl "{\"lfs_patterns\": [\"*.csv\"], \"multipart_chunk\": 8000}" >/dev/null &&
	fidx build -q -o vectors.fidx "$ds/embeddings.csv" &&
	pub -q --hub hf://datasets/me/parts vectors.fidx >/dev/null &&
	hub_stat "[e[\"path\"].split(\"/\")[1] + \" \" + e[\"method\"] for e in log if e[\"listener\"] == \"cdn\"]" >got &&
	"$PYTHON" -c "import ast; p = ast.literal_eval(open(\"got\").read()); assert p[-1] == \"complete POST\" and len(p) >= 3 and set(p[:-1]) == {\"part PUT\"}, p" &&
	hub_stat "s[\"cdn\"][\"auth\"]" >n && echo 0 >want && test_cmp want n &&
	fidx build -q -o parts-back.fidx hf://datasets/me/parts &&
	same vectors.fidx parts-back.fidx
'

test_expect_success 'to a branch; a branch that does not exist' '
	pub -q --hub hf://datasets/me/existing@dev faqs.fidx >url &&
	test_grep "/datasets/me/existing/commit/" url &&
	fidx build -q -o dev.fidx --embedder hash hf://datasets/me/existing@dev && same faqs.fidx dev.fidx &&
	fidx build -q -o main.fidx hf://datasets/me/existing && fidx info main.fidx >info && test_grep "count: +1$" info &&
	test_expect_code 3 pub --hub hf://datasets/me/existing@nope faqs.fidx 2>err &&
	test_grep "^fidx-export: error: hf://datasets/me/existing: no branch \"nope\" to publish to: make it on the Hub first$" err
'

test_expect_success 'the commit is sent once: not retried after a 503, nor after a lost answer' '
	reset &&
	hub_ctl "{\"faults\": [[\"e503\", 1, \"preupload\"], [\"e503\", null, \"commit\"]]}" >/dev/null &&
	test_expect_code 6 pub --hub hf://datasets/me/again faqs.fidx 2>err &&
	test_grep "hf://datasets/me/again: the Hub failed \(the Hub says: Internal Error" err &&
	count preupload >n && echo 2 >want && test_cmp want n &&
	count commit >n && echo 1 >want && test_cmp want n &&
	reset &&
	hub_ctl "{\"faults\": [[\"drop\", null, \"commit\"]]}" >/dev/null &&
	test_expect_code 6 pub --hub hf://datasets/me/again faqs.fidx 2>err &&
	test_grep "^fidx-export: error: hf://datasets/me/again: the commit request failed, and whether it was made is not known: look at $HUB/datasets/me/again/commits/main before publishing again \(what is there already is not sent again\): " err &&
	count commit >n && echo 1 >want && test_cmp want n &&
	reset &&
	pub -q --hub hf://datasets/me/again faqs.fidx >url && test -s url
'

test_expect_success '--private: the dataset needs the token to be read' '
	pub -q --private --hub hf://datasets/me/secret faqs.fidx >/dev/null &&
	test_expect_code 8 fidx build -o x.fidx hf://datasets/me/secret 2>err &&
	HF_TOKEN=$TOKEN fidx build -q -o secret.fidx hf://datasets/me/secret &&
	same faqs.fidx secret.fidx
'

test_expect_success 'errors: a token refused, one that may not write, a URL that is no dataset or branch' '
	HF_TOKEN=hf_bad test_expect_code 8 fidx export --hub hf://datasets/me/x faqs.fidx 2>err &&
	test_grep "hf://datasets/me/x: the Hub refuses the token \(from HF_TOKEN or the Hugging Face token file\): it is invalid or expired" err &&
	HF_TOKEN=$OTHER test_expect_code 8 fidx export --hub hf://datasets/me/faqs faqs.fidx 2>err &&
	test_grep "hf://datasets/me/faqs: the Hub refuses access \(the Hub says: You don.t have the rights to write to me/faqs\)" err &&
	test_expect_code 3 pub --hub hf://datasets/me/faqs/data faqs.fidx 2>err &&
	test_grep "publish to a dataset, or a branch of it: hf://datasets/OWNER/NAME\[@BRANCH\]" err &&
	test_expect_code 3 pub --hub "hf://datasets/me/faqs@refs/convert/parquet" faqs.fidx 2>err &&
	test_expect_code 3 pub --hub hf://models/me/faqs faqs.fidx 2>err &&
	test_expect_code 2 fidx export -m x faqs.fidx --csv x.csv 2>err &&
	test_grep "go with --hub" err &&
	test_expect_code 4 pub --hub hf://datasets/me/faqs nothing.fidx 2>err
'

test_expect_success 'a token file, and the token in no file, log or request to the CDN' '
	printf "%s\n" "$TOKEN" >tok &&
	fidx export -v --token-file tok --hub hf://datasets/me/faqs2 faqs.fidx >url 2>err &&
	test -s url &&
	hub_stat "s[\"cdn\"][\"auth\"]" >n && echo 0 >want && test_cmp want n &&
	test_must_fail grep -r -F "$TOKEN" . "$HF_HUB_CACHE" --exclude=tok --exclude=hub.ready
'

test_done
