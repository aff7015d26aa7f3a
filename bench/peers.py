"""What users would run instead of fidx, measured on the same data.

    peers.py search RAW.f32 N DIM QUERIES.f32 NQ K REPS
        median ms of one search of NQ queries with Debian's python3-faiss
        IndexFlatIP and with numpy (x @ q.T, then argpartition + sort)
    peers.py ingest CSV REPS
        median seconds for pandas.read_csv and numpy.loadtxt of a CSV

One JSON object on stdout.
"""
import json
import statistics
import sys
import time

import numpy as np


def timed(fn, reps):
    fn()  # warm-up
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(t)


def search(raw, n, dim, queries, nq, k, reps):
    n, dim, nq, k, reps = int(n), int(dim), int(nq), int(k), int(reps)
    x = np.fromfile(raw, dtype=np.float32).reshape(n, dim)
    q = np.fromfile(queries, dtype=np.float32)[: nq * dim].reshape(nq, dim)
    out = {}
    try:
        import faiss

        index = faiss.IndexFlatIP(dim)
        index.add(x)
        out["faiss_ms"] = timed(lambda: index.search(q, k), reps)
        out["faiss_threads"] = faiss.omp_get_max_threads()
        del index
    except ImportError:
        out["faiss_ms"] = None

    def numpy_topk():
        s = q @ x.T if nq > 1 else x @ q[0]
        if nq == 1:
            top = np.argpartition(-s, k)[:k]
            return top[np.argsort(-s[top])]
        top = np.argpartition(-s, k, axis=1)[:, :k]
        return np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, 1), axis=1), 1)

    out["numpy_ms"] = timed(numpy_topk, reps)
    return out


def ingest(csv, reps):
    import pandas as pd

    reps = int(reps)
    return {
        "pandas_read_csv_s": timed(lambda: pd.read_csv(csv, dtype=np.float32), reps) / 1e3,
        "numpy_loadtxt_s": timed(lambda: np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float32), reps) / 1e3,
    }


if __name__ == "__main__":
    result = {"search": search, "ingest": ingest}[sys.argv[1]](*sys.argv[2:])
    print(json.dumps(result))
