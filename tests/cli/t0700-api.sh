#!/bin/sh
# fidx build/search --embedder api, end to end against tests/api/standin.py:
# the three protocols, the token, retries and failures, the cache, and that
# the token appears nowhere.
. "$FIDX_SRC/tests/cli/lib.sh"

# A fresh random token; HOME and the caches live in the scratch folder.
TOKEN="hf_fidxtest$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
HOME="$scratch/home"
XDG_CACHE_HOME="$scratch/xdg"
export HOME XDG_CACHE_HOME
unset HF_HOME HF_TOKEN_PATH FIDX_API_TOKEN
mkdir -p "$HOME" && umask 077 && printf '%s\n' "$TOKEN" >"$scratch/token" && umask 022

start_standin "$TOKEN" --redirect-port 0 --log "$scratch/standin.log"
PORT=$STANDIN_PORT
BASE=http://127.0.0.1:$PORT
HF=$BASE/hf-inference/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction
TEI=$BASE/embed
OAI=$BASE/v1/embeddings

# ctl JSON: posts to the stand-in's /_control. stat EXPR: prints a Python
# expression over its /_stats (s) and log entries (log).
ctl() {
	"$PYTHON" -c 'import sys, urllib.request as u
u.urlopen(u.Request(sys.argv[1] + "/_control", data=sys.argv[2].encode(), method="POST")).read()' "$BASE" "$1"
}
stat() {
	"$PYTHON" -c 'import json, sys, urllib.request as u
s = json.load(u.urlopen(sys.argv[1] + "/_stats")); log = s["log"]
print(eval(sys.argv[2]))' "$BASE" "$1"
}
# The number of texts the stand-in embedded (answered 200) since the last reset.
sent() { stat 'sum(e["inputs"] for e in log if e["status"] == 200 and e["listener"] == "main")'; }
reset() { ctl '{"faults": "", "latency_ms": 0, "reset_stats": true}'; }
api() { fidx build --embedder api --no-cache --token-file "$scratch/token" "$@"; }

texts() {
	awk -v n="$1" -v s="${2:-0}" 'BEGIN { for (i = 0; i < n; i++)
		printf "text %d about topic %d and word%d\n", i, (i * 7 + s) % 13, (i + s) % 29 }'
}

test_expect_success 'the stand-in is up' '
	test -n "$PORT" && stat "s[\"requests\"]" >n && echo 0 >want && test_cmp want n
'

test_expect_success 'hf: the texts are embedded through the API, bit for bit the offline vectors' '
	write_faqs faqs.txt &&
	fidx build -q -o hash.fidx --embedder hash --texts faqs.txt --save-embeddings hash.csv &&
	api -o faqs.fidx --api-url "$HF" --texts faqs.txt --save-embeddings hf.csv 2>err &&
	test_grep "wrote faqs.fidx: 13 rows" err &&
	test_cmp hash.csv hf.csv &&
	seq -s, 0 383 >want && head -n 1 hf.csv >got && test_cmp want got &&
	fidx info faqs.fidx >info &&
	test_grep "embedder: +api" info && test_grep "model: +sentence-transformers/all-MiniLM-L6-v2" info &&
	test_grep "endpoint: +$HF \(hf\)" info
'

test_expect_success 'search embeds a text query through the recorded endpoint, without options' '
	reset &&
	fidx search -k 5 hash.fidx "How can Medicare help me?" >want &&
	HF_TOKEN=$TOKEN fidx search -k 5 faqs.fidx "How can Medicare help me?" >got &&
	test_cmp want got &&
	stat "s[\"requests\"]" >n && echo 1 >one && test_cmp one n &&
	HF_TOKEN=$TOKEN fidx search --json -k 2 faqs.fidx "How can Medicare help me?" >json &&
	"$PYTHON" -c "import json, sys; r = json.load(open(\"json\")); assert len(r) == 1 and [h[\"corpus_id\"] for h in r[0]] == [8, 3], r"
'

test_expect_success 'tei and openai: inferred from the URL, same vectors; openai placed by index' '
	FIDX_API_TOKEN=$TOKEN fidx build -q --no-cache -o tei.fidx --embedder api --api-url "$TEI" \
		--texts faqs.txt --save-embeddings tei.csv &&
	test_cmp hash.csv tei.csv &&
	fidx info tei.fidx >info && test_grep "model: +fidx/hash$" info &&
	FIDX_API_TOKEN=$TOKEN fidx build -q --no-cache -o oai.fidx --embedder api --api-url "$OAI" \
		--batch 5 --texts faqs.txt --save-embeddings oai.csv &&
	test_cmp hash.csv oai.csv &&
	fidx info oai.fidx >info && test_grep "endpoint: +$OAI \(openai\)" info &&
	api -q -o oai2.fidx --api-url "$OAI" --api-format openai --texts faqs.txt --save-embeddings oai2.csv &&
	test_cmp hash.csv oai2.csv &&
	test_expect_code 3 api -o x.fidx --api-url "$HF" --model BAAI/bge-small-en-v1.5 --texts faqs.txt 2>err &&
	test_grep "model BAAI/bge-small-en-v1.5 and the API URL.s model sentence-transformers/all-MiniLM-L6-v2 differ" err &&
	test_expect_code 2 api -o x.fidx --api-format grpc --texts faqs.txt 2>err &&
	test_grep "api-format expects hf, tei or openai" err
'

test_expect_success 'the token: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, HF_TOKEN_PATH, HF_HOME, the default file' '
	common="-q --no-cache --embedder api --api-url $HF --texts faqs.txt" &&
	HF_TOKEN=$TOKEN fidx build $common -o t1.fidx &&
	HUGGING_FACE_HUB_TOKEN=$TOKEN fidx build $common -o t2.fidx &&
	HF_TOKEN_PATH="$scratch/token" fidx build $common -o t3.fidx &&
	mkdir -p hfhome && cp "$scratch/token" hfhome/token &&
	HF_HOME="$scratch/hfhome" fidx build $common -o t4.fidx &&
	mkdir -p "$HOME/.cache/huggingface" && cp "$scratch/token" "$HOME/.cache/huggingface/token" &&
	XDG_CACHE_HOME= fidx build $common -o t5.fidx &&
	rm "$HOME/.cache/huggingface/token" &&
	for i in 1 2 3 4 5; do fidx search -k 1 --id 0 t$i.fidx >/dev/null || return 1; done
'

test_expect_success 'no token or a wrong one: 401 at once, exit 6, the message says where tokens come from' '
	reset &&
	test_expect_code 6 fidx build --no-cache -o none.fidx --embedder api --api-url "$HF" --texts faqs.txt 2>err &&
	test_grep "HTTP 401" err && test_grep "check the token" err &&
	echo hf_wrongtoken >wrong &&
	test_expect_code 6 api -o none.fidx --api-url "$HF" --token-file wrong --texts faqs.txt 2>err2 &&
	test_grep "HTTP 401" err2 &&
	! grep -q hf_wrongtoken err2 &&
	test_must_fail test -e none.fidx &&
	stat "s[\"by_status\"]" >st && echo "{'"'"'401'"'"': 2}" >want && test_cmp want st
'

test_expect_success 'the default Hugging Face API and no token anywhere: said before any request, status 3' '
	reset &&
	printf "%s\n" "no API token, and the Hugging Face Inference API needs one: looked in HF_TOKEN, HUGGING_FACE_HUB_TOKEN and $XDG_CACHE_HOME/huggingface/token; run \`huggingface-cli login\`, set HF_TOKEN, or give --token-file <file>" >msg &&
	sed "s/^/fidx-build: error: /" msg >want &&
	test_expect_code 3 env -u HF_INFERENCE_ENDPOINT -u HF_HUB_OFFLINE \
		fidx build --no-cache --retries 0 -o none.fidx --embedder api --texts faqs.txt 2>err &&
	test_cmp want err &&
	test_must_fail test -e none.fidx &&
	fidx build -q -o vec.fidx --embedder api "$FIDX_SRC/datasets/medicare-faqs/embeddings.csv" &&
	fidx info vec.fidx >info && test_grep "endpoint: +https://router.huggingface.co/" info &&
	sed "s/^/fidx-search: error: /" msg >want &&
	test_expect_code 3 env -u HF_INFERENCE_ENDPOINT fidx search --no-cache --retries 0 vec.fidx "How can Medicare help me?" 2>err &&
	test_cmp want err &&
	stat "s[\"requests\"]" >n && echo 0 >want && test_cmp want n &&
	: a query in the cache needs no request, so no token &&
	env -u HF_INFERENCE_ENDPOINT fidx search -k 1 vec.fidx "How can Medicare help me?" >hit &&
	test_grep "^ +1 +8 " hit
'

test_expect_success 'a token that is not one word is refused without being shown' '
	printf "hf_abc def\n" >spaced &&
	test_expect_code 3 api -o x.fidx --api-url "$HF" --token-file spaced --texts faqs.txt 2>err &&
	test_grep "token from spaced has a space" err && ! grep -q hf_abc err &&
	test_expect_code 3 api -o x.fidx --api-url "$HF" --token-file missing --texts faqs.txt 2>err &&
	test_grep "token file missing: No such file" err
'

test_expect_success 'only http and https; no user name or password in the URL' '
	test_expect_code 3 api -o x.fidx --api-url "ftp://127.0.0.1:$PORT/embed" --texts faqs.txt 2>err &&
	test_grep "must start with http:// or https://" err &&
	test_expect_code 3 api -o x.fidx --api-url "http://me:pa55word@127.0.0.1:$PORT/embed" --texts faqs.txt 2>err &&
	test_grep "user name or password" err && ! grep -q pa55word err &&
	HF_HUB_OFFLINE=1 test_expect_code 3 fidx build --embedder api -o x.fidx --texts faqs.txt 2>err &&
	test_grep "HF_HUB_OFFLINE is set" err
'

test_expect_success 'loading (503 estimated_time), 429 with and without Retry-After, 500: retried, survived' '
	reset &&
	ctl "{\"faults\": \"loading:1@0.2,ratelimit:1@1,ratelimit:1,error500:2\"}" &&
	api -v -o retried.fidx --api-url "$HF" --texts faqs.txt --batch 4 --save-embeddings retried.csv 2>err &&
	test_cmp hash.csv retried.csv &&
	test_grep "HTTP 503 \(Model .* is currently loading\), retrying in 1.0 s" err &&
	test_grep "HTTP 429 .*retrying in 1.0 s" err &&
	test_grep "HTTP 500 .*retrying" err &&
	test_grep "13 texts embedded in [0-9]+ requests \(5 retries\), 0 from the cache; [0-9.]+ s, [0-9]+ texts/s" err &&
	stat "sorted(s[\"by_status\"].items())" >st &&
	echo "[('"'"'200'"'"', 4), ('"'"'429'"'"', 2), ('"'"'500'"'"', 2), ('"'"'503'"'"', 1)]" >want && test_cmp want st
'

test_expect_success 'retries are bounded: --retries 2 is three attempts, then exit 6; the old index stays' '
	reset && cp faqs.fidx before.fidx &&
	ctl "{\"faults\": \"error500:*\"}" &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt --retries 2 2>err &&
	test_grep "faqs.txt:1: .*HTTP 500 after 3 attempts: Internal Server Error \(injected\)" err &&
	stat "s[\"requests\"]" >n && echo 3 >want && test_cmp want n &&
	cmp before.fidx faqs.fidx
'

test_expect_success 'a Retry-After longer than a minute is not waited for' '
	reset && ctl "{\"faults\": \"ratelimit:1@3600\"}" &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt 2>err &&
	test_grep "HTTP 429, and the server asks to wait 3600 s" err &&
	cmp before.fidx faqs.fidx
'

test_expect_success '413: the batch is halved and sent again' '
	reset && ctl "{\"faults\": \"pass:1,toolarge:2\"}" &&
	api -v -o halved.fidx --api-url "$TEI" --texts faqs.txt --batch 8 --save-embeddings halved.csv 2>err &&
	test_cmp hash.csv halved.csv &&
	test_grep "HTTP 413, splitting the batch" err
'

# Each bad answer: exit 6, a message naming the file and line where the
# batch starts and what was wrong, and the previous index untouched.
bad_answer() {
	reset && ctl "{\"faults\": \"pass:2,$1:1\"}" &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt --batch 4 --retries 1 \
		--concurrency 1 2>err &&
	test_grep "^fidx-build: error: faqs.txt:6: $HF: a batch of 4 texts: $2" err &&
	cmp before.fidx faqs.fidx
}

test_expect_success 'bad answers are errors naming the batch: wrong dimension, wrong count, NaN' '
	bad_answer wrongdim "vector 1 has 383 dimensions, expected 384" &&
	bad_answer wrongcount "the response has 3 vectors for 4 texts" &&
	bad_answer nonfinite "the response is not JSON \\(\\[\\[NaN, "
'

test_expect_success 'bad answers: not JSON, an HTML page, token-level output' '
	bad_answer badjson "the response is not JSON \\(\\[\\[0.125, -0.5, 0.25, oops\\)" &&
	bad_answer html "the response is not JSON \\(an HTML page\\)" &&
	bad_answer tokenlevel "the model returns one vector per token, not one per text"
'

test_expect_success 'a truncated answer is retried like a dropped connection' '
	reset && ctl "{\"faults\": \"pass:1,truncated:1\"}" &&
	api -v -o faqs.fidx --api-url "$HF" --texts faqs.txt --save-embeddings trunc.csv 2>err &&
	test_cmp hash.csv trunc.csv &&
	test_grep "retrying" err && cp faqs.fidx before.fidx
'

test_expect_success '400 and 404 fail at once with the server message' '
	reset && ctl "{\"faults\": \"error400:1\"}" &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt 2>err &&
	test_grep "HTTP 400: Bad Request \(injected\)" err &&
	test_expect_code 6 api -o faqs.fidx --api-url "$BASE/hf-inference/models/no/such-model/pipeline/feature-extraction" \
		--texts faqs.txt 2>err &&
	test_grep "HTTP 404" err &&
	stat "s[\"requests\"]" >n && echo 2 >want && test_cmp want n &&
	cmp before.fidx faqs.fidx
'

test_expect_success 'the retired api-inference URL: 410 explained' '
	test_expect_code 6 api -o faqs.fidx --api-url "$BASE/pipeline/feature-extraction/sentence-transformers/all-MiniLM-L6-v2" \
		--texts faqs.txt 2>err &&
	test_grep "HTTP 410 Gone: this API endpoint is retired" err &&
	test_grep "https://router.huggingface.co/hf-inference/models/<model>/pipeline/feature-extraction" err
'

test_expect_success 'a redirect is not followed: the token never goes to another port' '
	reset && ctl "{\"faults\": \"redirect:1\"}" &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt 2>err &&
	test_grep "HTTP 302: the server redirects to http://127.0.0.1:[0-9]+/" err &&
	test_grep "does not follow redirects" err &&
	stat "s[\"redirect\"]" >st && echo "{'"'"'requests'"'"': 0, '"'"'auth_present'"'"': 0}" >want &&
	test_cmp want st && cmp before.fidx faqs.fidx
'

# The bound on the elapsed time only has to tell --timeout 2 (twice) from a
# time-out many times longer, so it leaves a slow or busy machine a wide
# margin.
test_expect_success 'a server that hangs or trickles: --timeout ends the job, exit 6' '
	reset && ctl "{\"faults\": \"hang:*\"}" &&
	start=$(date +%s) &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt --timeout 2 2>err &&
	test_grep "gave up after 2 s \(--timeout\) with 0 texts embedded" err &&
	reset && ctl "{\"faults\": \"slowbody:*@5\"}" &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt --timeout 2 2>err &&
	test_grep "gave up after 2 s" err &&
	test $(($(date +%s) - start)) -lt 60 &&
	cmp before.fidx faqs.fidx
'

if [ "${FIDX_TEST_HOOKS:-OFF}" = ON ]; then
test_expect_success 'a body trickling a byte every 10 s trips the low-speed limit, and is retried' '
	reset && ctl "{\"faults\": \"slowbody:1@10\"}" &&
	FIDX_TEST_LOW_SPEED=2 api -v -o slow.fidx --api-url "$HF" --texts faqs.txt --save-embeddings slow.csv 2>err &&
	test_grep "Operation too slow.*retrying" err &&
	test_cmp hash.csv slow.csv
'
fi

test_expect_success 'an endless answer stops at the 256 MB cap' '
	reset && ctl "{\"faults\": \"endless:1\"}" &&
	test_expect_code 6 api -o faqs.fidx --api-url "$HF" --texts faqs.txt 2>err &&
	test_grep "the response is larger than 256 MB" err &&
	cmp before.fidx faqs.fidx
'

test_expect_success 'requests run concurrently; vectors land in input order' '
	reset && ctl "{\"latency_ms\": 100}" &&
	texts 64 >t64.txt &&
	fidx build -q -o h64.fidx --embedder hash --texts t64.txt --save-embeddings h64.csv &&
	api -q -o c64.fidx --api-url "$TEI" --texts t64.txt --batch 4 --concurrency 4 --save-embeddings c64.csv &&
	test_cmp h64.csv c64.csv &&
	stat "s[\"max_concurrent\"]" >n && echo 4 >want && test_cmp want n &&
	api -q -o o64.fidx --api-url "$OAI" --texts t64.txt --batch 3 --concurrency 8 --save-embeddings o64.csv &&
	test_cmp h64.csv o64.csv
'

cached() { fidx build --embedder api --token-file "$scratch/token" --cache "$scratch/vc" "$@"; }

test_expect_success 'the cache: a rebuild sends only the changed text' '
	reset && texts 200 >t200.txt &&
	fidx build -q -o h200.fidx --embedder hash --texts t200.txt --save-embeddings h200.csv &&
	cached -q -o c200.fidx --api-url "$TEI" --texts t200.txt --save-embeddings c200.csv &&
	test_cmp h200.csv c200.csv && sent >n && echo 200 >want && test_cmp want n &&
	reset && cached -o c200.fidx --api-url "$TEI" --texts t200.txt 2>err &&
	sent >n && echo 0 >want && test_cmp want n &&
	test_grep "0 texts embedded in 0 requests \(0 retries\), 200 from the cache; [0-9.]+ s" err &&
	sed "100s/.*/a changed line about something else/" t200.txt >t200b.txt &&
	reset && cached -q -o c200b.fidx --api-url "$TEI" --texts t200b.txt --save-embeddings c200b.csv &&
	sent >n && echo 1 >want && test_cmp want n &&
	fidx build -q -o h200b.fidx --embedder hash --texts t200b.txt --save-embeddings h200b.csv &&
	test_cmp h200b.csv c200b.csv
'

test_expect_success 'the cache: a damaged entry is embedded again, not trusted' '
	f=$(find vc -type f | sort | head -n 1) &&
	"$PYTHON" -c "import sys; p = sys.argv[1]; b = bytearray(open(p, \"rb\").read()); b[-3] ^= 0x40; open(p, \"wb\").write(b)" "$f" &&
	reset && cached -q -o c200b.fidx --api-url "$TEI" --texts t200b.txt --save-embeddings again.csv &&
	sent >n && echo 1 >want && test_cmp want n &&
	test_cmp h200b.csv again.csv
'

test_expect_success 'the cache: a build that failed half-way resumes without embedding a text twice' '
	reset && rm -rf vc && texts 200 5 >r.txt &&
	ctl "{\"faults\": \"pass:4,error400:*\"}" &&
	test_expect_code 6 cached -o r.fidx --api-url "$TEI" --texts r.txt --batch 10 --concurrency 1 2>err &&
	sent >first && test $(cat first) -gt 10 &&
	reset && cached -q -o r.fidx --api-url "$TEI" --texts r.txt --batch 10 --save-embeddings r.csv &&
	sent >second && test $(($(cat first) + $(cat second))) -eq 200 &&
	fidx build -q -o rh.fidx --embedder hash --texts r.txt --save-embeddings rh.csv && test_cmp rh.csv r.csv
'

test_expect_success 'the cache: a build killed with SIGKILL half-way resumes too' '
	reset && rm -rf vc && texts 200 9 >k.txt &&
	ctl "{\"faults\": \"pass:4,hang:*\"}" &&
	{ cached -q -o k.fidx --api-url "$TEI" --texts k.txt --batch 10 --concurrency 1 >/dev/null 2>&1 7>&- & } &&
	pid=$! &&
	# Killed once a request hangs: one at a time, each answer is cached
	# before the next request starts, so every text answered is cached by
	# then. (Killed while the last answer was on its way, as when this
	# waited for a count of requests, the build rightly sends it again.)
	for _ in $(seq 600); do
		test "$(stat "any(e[\"fault\"] == \"hang\" for e in log)")" = True && break
		sleep 0.1
	done &&
	builder=$(pgrep -f "fidx-build .*--cache $scratch/vc .*k.txt") && test -n "$builder" &&
	for p in $builder; do
		tr "\\0" " " </proc/$p/cmdline >cmdline.$p && test_grep "k.txt" cmdline.$p &&
		if [ "$(id -u)" = 0 ]; then
			tr "\\0" "\\n" </proc/$p/environ >environ.$p
		else
			# not dumpable (it holds the token): only root reads it
			test_must_fail test -r /proc/$p/environ
		fi || { kill -9 $builder $pid; return 1; }
	done &&
	kill -9 $builder && { kill -9 $pid 2>/dev/null; wait $pid; true; } &&
	sent >first && test $(cat first) -gt 10 && test_must_fail test -e k.fidx &&
	reset && cached -q -o k.fidx --api-url "$TEI" --texts k.txt --batch 10 --save-embeddings k.csv &&
	sent >second && test $(($(cat first) + $(cat second))) -eq 200 &&
	fidx build -q -o kh.fidx --embedder hash --texts k.txt --save-embeddings kh.csv && test_cmp kh.csv k.csv
'

test_expect_success 'the cache: concurrent builds share it safely' '
	reset && rm -rf vc && ctl "{\"latency_ms\": 20}" &&
	{ cached -q -o p1.fidx --api-url "$TEI" --texts t200.txt --batch 7 --save-embeddings p1.csv 2>p1.err 7>&- & } &&
	pid=$! &&
	cached -q -o p2.fidx --api-url "$TEI" --texts t200.txt --batch 5 --save-embeddings p2.csv 2>p2.err &&
	wait $pid &&
	test_cmp h200.csv p1.csv && test_cmp h200.csv p2.csv &&
	test $(find vc -type f | wc -l) -eq 200
'

if command -v openssl >/dev/null 2>&1; then
test_expect_success 'TLS is verified: a self-signed server is refused before anything is sent' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=127.0.0.1 >/dev/null 2>&1 &&
	{ STANDIN_TOKEN=$TOKEN "$PYTHON" "$FIDX_SRC/tests/api/standin.py" --tls-cert cert.pem --tls-key key.pem \
		>tls.ready 2>tls.err </dev/null 7>&- & } &&
	tpid=$! &&
	for _ in $(seq 600); do grep -q READY tls.ready && break; sleep 0.1; done &&
	tport=$(awk "/READY/ {print \$2}" tls.ready) &&
	test_expect_code 6 api -o tls.fidx --api-url "https://127.0.0.1:$tport/embed" --texts faqs.txt 2>err;
	rc=$?; kill $tpid; test $rc -eq 0 &&
	test_grep "certificate" err && test_must_fail test -e tls.fidx
'
fi

test_expect_success 'progress on a terminal: texts done, rate, retries' '
	if command -v script >/dev/null 2>&1; then
		reset &&
		script -qec "fidx build --embedder api --no-cache --token-file $scratch/token -o tty.fidx --api-url $TEI --texts t200.txt" \
			/dev/null >tty.out </dev/null &&
		test_grep "200/200 texts" tty.out
	fi
'

test_expect_success 'the token appears in no output, log, index or cache file' '
	test_must_fail grep -rlaF --exclude=token "$TOKEN" "$scratch" >leaks;
	test_cmp /dev/null leaks &&
	test $(grep -c "\"auth\": true" "$scratch/standin.log") -gt 100
'

test_done
