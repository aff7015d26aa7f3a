"""What users would run instead of fidx, measured on the same data.

    peers.py search NPY QUERIES.f32 NQ K REPS
        median ms of one search of NQ queries, in one process, with
        Debian's python3-faiss IndexFlatIP and with numpy (x @ q.T, then
        argpartition + sort)
    peers.py ingest CSV REPS
        median seconds for pandas.read_csv and numpy.loadtxt of a CSV
    peers.py numpy-cmd NPY QUERY.npy K
        the whole command a user would write with numpy: the rows memory-
        mapped, x @ q, argpartition, print the top k ids
    peers.py faiss-cmd INDEX.faiss QUERY.npy K
        the whole command with FAISS: faiss.read_index, search, print ids
    peers.py make-faiss NPY OUT.faiss
        an IndexFlatIP of the rows, written with faiss.write_index
    peers.py query NPY ROW SEED OUT.npy
        one normalized query near row ROW (the row plus noise, cosine about
        0.95 with it), as a 1 x d .npy

One JSON object on stdout (search, ingest), the ids (the commands).
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


def search(npy, queries, nq, k, reps):
    nq, k, reps = int(nq), int(k), int(reps)
    x = np.load(npy)
    dim = x.shape[1]
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


def numpy_cmd(npy, query, k):
    k = int(k)
    x = np.load(npy, mmap_mode="r")
    q = np.load(query)[0]
    s = x @ q
    top = np.argpartition(-s, k)[:k]
    print(top[np.argsort(-s[top])].tolist())


def faiss_cmd(path, query, k):
    import faiss

    index = faiss.read_index(path)
    _, ids = index.search(np.load(query), int(k))
    print(ids[0].tolist())


def make_faiss(npy, out):
    import faiss

    x = np.load(npy, mmap_mode="r")
    index = faiss.IndexFlatIP(x.shape[1])
    for i in range(0, len(x), 100_000):
        index.add(np.ascontiguousarray(x[i : i + 100_000]))
    faiss.write_index(index, out)


def query(npy, row, seed, out):
    x = np.load(npy, mmap_mode="r")
    rng = np.random.default_rng(int(seed))
    q = x[int(row)].astype(np.float64) + 0.3 / np.sqrt(x.shape[1]) * rng.standard_normal(x.shape[1])
    np.save(out, (q / np.linalg.norm(q)).astype(np.float32)[None, :])


if __name__ == "__main__":
    cmds = {"search": search, "ingest": ingest, "numpy-cmd": numpy_cmd, "faiss-cmd": faiss_cmd,
            "make-faiss": make_faiss, "query": query}
    result = cmds[sys.argv[1]](*sys.argv[2:])
    if result is not None:
        print(json.dumps(result))
