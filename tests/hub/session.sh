#!/bin/sh
# A session with the real binaries against the stand-in Hub (tests/hub/
# standin.py): publish, build back, --if-changed request counts, offline
# builds, the cache tree, every error message. Prints what a user sees.
#   tests/hub/session.sh [build folder, default build]
set -u
W=$(cd "$(dirname "$0")/../.." && pwd) B=$(cd "${1:-build}" && pwd)
export PATH=$B:$PATH LC_ALL=C
PY=${PYTHON:-python3}
D=$(mktemp -d /tmp/hubdemo.XXXXXX); cd "$D"
export HOME=$D/home HF_HOME=$D/hf HF_HUB_CACHE=$D/cache; mkdir -p $HOME $HF_HOME
unset HF_TOKEN HF_HUB_OFFLINE XDG_CACHE_HOME
TOKEN=hf_demo_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p shards/data
printf '0,1,2\n0.5,1,0\n' > shards/data/train-00000-of-00002.csv
printf '0,1,2\n0,1,0.25\n1,2,3\n' > shards/data/train-00001-of-00002.csv
printf '# Two shards\n' > shards/README.md
STANDIN_TOKEN=$TOKEN STANDIN_OTHER_TOKEN=hf_other_reader "$PY" $W/tests/hub/standin.py --page-size 2 --repo o/gated=$W/datasets/medicare-faqs,gated --repo o/shards=$D/shards >ready 2>/dev/null &
PID=$!
for _ in $(seq 600); do grep -q READY ready 2>/dev/null && break; sleep 0.1; done
export HF_ENDPOINT=http://127.0.0.1:$(awk '{print $2}' ready)
ctl() { "$PY" -c 'import sys,urllib.request as u; u.urlopen(u.Request(sys.argv[1]+"/_control",data=sys.argv[2].encode(),method="POST")).read()' "$HF_ENDPOINT" "$1"; }
stats() { "$PY" -c 'import json,sys,urllib.request as u; s=json.load(u.urlopen(sys.argv[1]+"/_stats")); print("stand-in counters: %d requests to the Hub, %d to the CDN (%d with Authorization), by class %s" % (s["requests"], s["cdn"]["requests"], s["cdn"]["auth"], s["by_class"])); [print("  ", e["method"], e["path"].split("?")[0], e["status"], "auth" if e["auth"] else "") for e in s["log"]]' "$HF_ENDPOINT"; }
run() { echo "\$ $*"; sh -c "$*" 2>&1; echo "[exit $?]"; }
echo "## the round trip"
run "fidx build -q -o faqs.fidx --embedder hash --texts $W/datasets/medicare-faqs/faqs.csv $W/datasets/medicare-faqs/embeddings.csv"
run "fidx search -k 5 faqs.fidx 'How can Medicare help me?'"
run "fidx export --hub hf://datasets/me/medicare-faqs faqs.fidx"
run "HF_TOKEN=$TOKEN fidx export --hub hf://datasets/me/medicare-faqs -m 'Medicare FAQs, embedded' faqs.fidx" | sed "s/$TOKEN/\$TOKEN/"
stats
ctl '{"reset_stats": true}'
echo "## a first build from the Hub"
run "fidx build -o back.fidx --embedder hash hf://datasets/me/medicare-faqs"
stats
run "fidx search -k 5 back.fidx 'How can Medicare help me?'"
run "fidx export -q faqs.fidx --npy a.npy --jsonl a.jsonl && fidx export -q back.fidx --npy b.npy --jsonl b.jsonl && cmp a.npy b.npy && cmp a.jsonl b.jsonl && echo same vectors, ids and texts"
run "fidx info back.fidx | sed -n '/sources/,/sections/p'"
echo "## the cache after the build"
run "cd \$HF_HUB_CACHE && find . | sort | while read f; do if [ -L \"\$f\" ]; then echo \"\$f -> \$(readlink \"\$f\")\"; else echo \"\$f\"; fi; done"
ctl '{"reset_stats": true}'
echo "## request counts: a dataset of two shards (tree pages of 2 entries)"
echo "(the stand-in serves o/shards: README.md, data/train-00000-of-00002.csv, data/train-00001-of-00002.csv)"
ctl '{"reset_stats": true}'
echo "### a first build"
run "fidx build --log-format json -o shards.fidx hf://datasets/o/shards"
stats
ctl '{"reset_stats": true}'
echo "### the same commit: --if-changed"
run "fidx build --if-changed --log-format json -o shards.fidx hf://datasets/o/shards"
stats
echo "### one file changed upstream (data/train-00001-of-00002.csv)"
ctl "{\"commit\": {\"repo\": \"o/shards\", \"files\": {\"data/train-00001-of-00002.csv\": \"$(printf '0,1,2\n0,1,0.5\n1,2,3\n' | base64 -w0)\"}}}"
ctl '{"reset_stats": true}'
run "fidx build --if-changed --log-format json -o shards.fidx hf://datasets/o/shards"
stats
ctl '{"reset_stats": true}'
echo "## offline"
run "HF_HUB_OFFLINE=1 fidx build -o off.fidx --embedder hash hf://datasets/me/medicare-faqs"
run "HF_HUB_OFFLINE=1 fidx build -o off.fidx hf://datasets/me/medicare-faqs@v2"
run "HF_HUB_OFFLINE=1 fidx build -o off.fidx hf://datasets/o/gated"
stats
echo "## list-inputs"
run "fidx build --list-inputs hf://datasets/me/medicare-faqs"
echo "## errors"
run "fidx build -o x.fidx hf://datasets/me/nothing"
run "HF_TOKEN=hf_other_reader fidx build -o x.fidx hf://datasets/me/nothing"
run "fidx build -o x.fidx hf://datasets/o/gated"
run "HF_TOKEN=hf_other_reader fidx build -o x.fidx hf://datasets/o/gated"
run "fidx build -o x.fidx hf://datasets/me/medicare-faqs@v9"
run "fidx build -o x.fidx hf://datasets/me/medicare-faqs/nope.csv"
run "fidx build -o x.fidx 'hf://datasets/me/medicare-faqs/*.tsv'"
run "HF_TOKEN=hf_not_a_token fidx build -o x.fidx hf://datasets/me/medicare-faqs"
run "fidx build -o x.fidx hf://models/me/medicare-faqs"
ctl '{"faults": [["ratelimit", null, "info", 3]]}'
run "FIDX_TEST_HTTP_WAIT=0.01 fidx build -o x.fidx hf://datasets/me/medicare-faqs"
ctl '{"faults": [["evilpath", null, "tree", "../../evil.csv"]]}'
rm -rf $HF_HUB_CACHE/datasets--me--medicare-faqs/trees
run "fidx build -o x.fidx hf://datasets/me/medicare-faqs"
ctl '{"faults": [["corrupt", null, "file"]]}'
rm -rf $HF_HUB_CACHE
run "fidx build -o x.fidx hf://datasets/me/medicare-faqs"
ctl '{"faults": [["long", null, "file"]]}'
run "fidx build -o x.fidx hf://datasets/me/medicare-faqs"
ctl '{"faults": [["cut", 1, "file"]]}'
run "fidx build -v -o cut.fidx hf://datasets/me/medicare-faqs"
ctl '{"faults": [["drop", null, "commit"]]}'
run "HF_TOKEN=$TOKEN fidx export --hub hf://datasets/me/other faqs.fidx" | sed "s/$TOKEN/\$TOKEN/"
ctl '{"faults": []}'
run "HF_TOKEN=hf_other_reader fidx export --hub hf://datasets/me/medicare-faqs faqs.fidx"
run "HF_TOKEN=$TOKEN fidx export --hub hf://datasets/me/medicare-faqs@nope faqs.fidx" | sed "s/$TOKEN/\$TOKEN/"
echo "## the token"
run "grep -rlF '$TOKEN' $D | grep -v '/ready\$' || echo 'the token is in no file'"
kill $PID
cd /; rm -rf "$D"
