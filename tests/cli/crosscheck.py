"""Independent reference for fidx's search results.

    crosscheck.py make CSV ROWS DIM SEED      write a pandas CSV of float32 rows
    crosscheck.py queries CSV N SEED OUT      write N query vectors (pandas CSV)
    crosscheck.py check CSV QUERIES K GOT     compare fidx's --json output with
                                              numpy brute force and, when it is
                                              installed, faiss.IndexFlatIP

Ids must agree up to ties (equal scores within 1e-6) and scores within 1e-5.
"""
import json
import sys

import numpy as np
import pandas as pd


def normalized(x):
    x = x.astype(np.float64)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make(path, rows, dim, seed):
    rng = np.random.default_rng(int(seed))
    x = rng.standard_normal((int(rows), int(dim))).astype(np.float32)
    x[5] = x[3]  # an exact tie
    pd.DataFrame(x).to_csv(path, index=False)


def queries(csv, n, seed, out):
    x = pd.read_csv(csv).to_numpy(dtype=np.float32)
    rng = np.random.default_rng(int(seed))
    q = x[rng.integers(0, len(x), int(n))] + 0.3 * rng.standard_normal((int(n), x.shape[1])).astype(np.float32)
    pd.DataFrame(q.astype(np.float32)).to_csv(out, index=False)


def agree(name, got, ids, scores, k):
    for qi, hits in enumerate(got):
        assert len(hits) == k, (name, qi, len(hits))
        for r, h in enumerate(hits):
            s = scores[qi][r]
            assert abs(h["score"] - s) < 1e-5, (name, qi, r, h, s)
            if h["corpus_id"] != ids[qi][r]:
                # a tie: the reference's score for fidx's id must be equal
                assert abs(h["score"] - s) < 1e-6, (name, qi, r, h, ids[qi][r], s)


def check(csv, qcsv, k, got_path):
    k = int(k)
    x = normalized(pd.read_csv(csv).to_numpy(dtype=np.float32))
    q = normalized(pd.read_csv(qcsv).to_numpy(dtype=np.float32))
    got = json.load(open(got_path))
    assert len(got) == len(q), (len(got), len(q))
    s = q.astype(np.float64) @ x.astype(np.float64).T
    order = np.lexsort((np.tile(np.arange(x.shape[0]), (len(q), 1)), -s), axis=1)[:, :k]
    agree("numpy", got, order.tolist(), np.take_along_axis(s, order, 1).tolist(), k)
    checked = "numpy"
    try:
        import faiss
    except ImportError:
        faiss = None
    if faiss is not None:
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        d, i = index.search(q, k)
        agree("faiss", got, i.tolist(), d.tolist(), k)
        checked += " and faiss.IndexFlatIP"
    print(f"{len(q)} queries, k={k}: fidx agrees with {checked}")


if __name__ == "__main__":
    {"make": make, "queries": queries, "check": check}[sys.argv[1]](*sys.argv[2:])
