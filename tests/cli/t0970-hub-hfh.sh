#!/bin/sh
# fidx and huggingface_hub share one Hugging Face cache: what fidx brings
# in, hf_hub_download and snapshot_download find without a request; what
# huggingface_hub brings in, fidx builds from offline, and online with one
# request and no download. Against the stand-in Hub.
#
# Optional: needs huggingface_hub's source (FIDX_HFH_SRC, its src/ folder,
# e.g. from a clone of github.com/huggingface/huggingface_hub) and Debian's
# python3-httpx, python3-filelock, python3-fsspec, python3-tqdm,
# python3-packaging, python3-typing-extensions and python3-yaml; skipped
# without them. Nothing of it is part of fidx.
. "$FIDX_SRC/tests/cli/lib.sh"

[ -n "${FIDX_HFH_SRC:-}" ] && [ -f "$FIDX_HFH_SRC/huggingface_hub/__init__.py" ] ||
	test_skip_all "no huggingface_hub source: set FIDX_HFH_SRC to its src/ folder"
"$PYTHON" -c "import httpx, filelock, fsspec, tqdm, packaging, typing_extensions, yaml" 2>/dev/null ||
	test_skip_all "huggingface_hub's dependencies are missing (Debian: python3-httpx python3-filelock python3-fsspec python3-tqdm python3-packaging python3-typing-extensions python3-yaml)"

hub_home
TOKEN="hf_fidxhfh$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p repo/med repo/two/data shim
cp "$FIDX_SRC"/datasets/medicare-faqs/* repo/med/
printf '0,1\n1,0\n0.5,0.5\n' >repo/two/data/train.csv
printf '0,1\n0,1\n' | gzip -n >repo/two/data/test.csv.gz
# Debian's filelock 3.9 has no mode= argument, which huggingface_hub passes.
cat >shim/sitecustomize.py <<'EOF'
import filelock

_Base = filelock.FileLock


class _FileLock(_Base):
    def __init__(self, *args, mode=None, **kwargs):
        super().__init__(*args, **kwargs)


filelock.FileLock = _FileLock
EOF
HUB_TOKEN=$TOKEN
start_hub --repo o/med=repo/med --repo o/two=repo/two
unset HUB_TOKEN
PYTHONPATH="$scratch/shim:$FIDX_HFH_SRC" HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1
export PYTHONPATH HF_HUB_DISABLE_XET HF_HUB_DISABLE_TELEMETRY
reset() { hub_ctl '{"reset_stats": true}' >/dev/null; }
hfh() {
	_code=$1
	shift
	"$PYTHON" -c "import sys, huggingface_hub as h; $_code" "$@"
}

test_expect_success 'huggingface_hub runs here' '
	hfh "print(h.__version__)" >v && test -s v
'

test_expect_success 'fidx'"'"'s downloads: hf_hub_download finds them without a request' '
	fidx build -q -o med.fidx hf://datasets/o/med &&
	C=$(cat "$HF_HUB_CACHE/datasets--o--med/refs/main") &&
	snap=$HF_HUB_CACHE/datasets--o--med/snapshots/$C &&
	reset &&
	HF_HUB_OFFLINE=1 hfh "print(h.hf_hub_download(\"o/med\", \"embeddings.csv\", repo_type=\"dataset\"))" >got &&
	echo "$snap/embeddings.csv" >want && test_cmp want got &&
	hfh "print(h.hf_hub_download(\"o/med\", \"README.md\", repo_type=\"dataset\", revision=sys.argv[1]))" "$C" >got &&
	echo "$snap/README.md" >want && test_cmp want got &&
	HF_HUB_OFFLINE=1 hfh "print(h.snapshot_download(\"o/med\", repo_type=\"dataset\", allow_patterns=[\"*.md\", \"embeddings.csv\"]))" >got &&
	echo "$snap" >want && test_cmp want got &&
	hfh "print(h.try_to_load_from_cache(\"o/med\", \"embeddings.csv\", repo_type=\"dataset\"))" >got &&
	echo "$snap/embeddings.csv" >want && test_cmp want got &&
	hub_stat "s[\"requests\"] + s[\"cdn\"][\"requests\"]" >n && echo 0 >want && test_cmp want n
'

test_expect_success 'huggingface_hub'"'"'s downloads: fidx builds from them offline, and online with one request' '
	hfh "print(h.snapshot_download(\"o/two\", repo_type=\"dataset\"))" >/dev/null 2>&1 &&
	C=$(cat "$HF_HUB_CACHE/datasets--o--two/refs/main") &&
	test -f "$HF_HUB_CACHE/datasets--o--two/trees/$C.json" &&
	reset &&
	HF_HUB_OFFLINE=1 fidx build -q -o two.fidx hf://datasets/o/two &&
	HF_HUB_OFFLINE=1 fidx build -q -o two-test.fidx hf://datasets/o/two --split test &&
	fidx build -o two-online.fidx hf://datasets/o/two 2>err &&
	test_grep "the Hub: 1 request, 0 files downloaded \(0 bytes\), 1 from the cache" err &&
	hub_stat "[e[\"path\"] for e in log]" >got && echo "['"'"'/api/datasets/o/two/revision/main'"'"']" >want &&
	test_cmp want got &&
	fidx build -q -o local.fidx repo/two && fidx export -q local.fidx --npy a.npy && fidx export -q two.fidx --npy b.npy &&
	cmp a.npy b.npy
'

test_expect_success 'published by fidx, read by huggingface_hub: the same bytes' '
	HF_TOKEN=$TOKEN fidx export -q --hub hf://datasets/me/faqs med.fidx >url &&
	hfh "print(h.hf_hub_download(\"me/faqs\", \"embeddings.csv\", repo_type=\"dataset\", cache_dir=sys.argv[1]))" "$scratch/other" >path &&
	fidx export -q med.fidx --csv med.csv && cmp med.csv "$(cat path)" &&
	hfh "print(h.HfApi().dataset_info(\"me/faqs\").sha)" >sha && test_grep "$(sed "s|.*/commit/||" url)" sha
'

test_done
