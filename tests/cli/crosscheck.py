"""Independent reference for fidx's search results.

    crosscheck.py make CSV ROWS DIM SEED      write a pandas CSV of float32 rows
    crosscheck.py queries CSV N SEED OUT      write N query vectors (pandas CSV)
    crosscheck.py check CSV QUERIES K GOT     compare fidx's --json output with
                                              numpy brute force and, when it is
                                              installed, faiss.IndexFlatIP
    crosscheck.py same A B DIM                compare two --json outputs of the
                                              same queries (ids may be strings)

Scores are float32 sums of DIM products of unit vectors. Each addition
rounds by at most 2^-24 of a partial sum bounded by |q||x| = 1, so a score
is within DIM * 2^-24 of the exact inner product whatever the order of the
additions (FAISS's SIMD lanes, BLAS's blocks), and two float32 computations
of it are within DIM * 2^-23 of each other (index/index.h). Those are the
tolerances here, not the rounding of one CPU. Hits whose scores lie that
close may trade places, or the k-th place, so ids are compared up to such
ties.
"""
import json
import sys

# numpy and pandas are imported where they are needed: "same" needs
# neither, and a test runs it many times.


def one_bound(dim):
    """A float32 score against the exact inner product."""
    return int(dim) * 2.0**-24


def two_bound(dim):
    """Two float32 computations of the same score."""
    return int(dim) * 2.0**-23


def normalized(x):
    import numpy as np
    x = x.astype(np.float64)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make(path, rows, dim, seed):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(int(seed))
    x = rng.standard_normal((int(rows), int(dim))).astype(np.float32)
    x[5] = x[3]  # an exact tie
    pd.DataFrame(x).to_csv(path, index=False)


def queries(csv, n, seed, out):
    import numpy as np
    import pandas as pd
    x = pd.read_csv(csv).to_numpy(dtype=np.float32)
    rng = np.random.default_rng(int(seed))
    q = x[rng.integers(0, len(x), int(n))] + 0.3 * rng.standard_normal((int(n), x.shape[1])).astype(np.float32)
    pd.DataFrame(q.astype(np.float32)).to_csv(out, index=False)


def ordered(name, qi, hits):
    """Hits by score descending, then id ascending."""
    for a, b in zip(hits, hits[1:]):
        assert a["score"] > b["score"] or (a["score"] == b["score"] and a["corpus_id"] < b["corpus_id"]), \
            (name, qi, a, b)


def same_up_to_ties(name, a, b, tol):
    """Two answers to the same queries agree: the r-th scores within tol, a
    common id's two scores within tol, and an id only one answer has scores
    there no more than tol above the other answer's last hit (it tied at the
    k-th place). Returns the largest score difference seen."""
    worst = 0.0
    assert len(a) == len(b), (name, len(a), len(b))
    for qi, (ha, hb) in enumerate(zip(a, b)):
        assert len(ha) == len(hb), (name, qi, len(ha), len(hb))
        ordered(name, qi, ha)
        ordered(name, qi, hb)
        for r, (x, y) in enumerate(zip(ha, hb)):
            worst = max(worst, abs(x["score"] - y["score"]))
            assert abs(x["score"] - y["score"]) <= tol, (name, qi, r, x, y, tol)
        sa = {h["corpus_id"]: h["score"] for h in ha}
        sb = {h["corpus_id"]: h["score"] for h in hb}
        for i in sa.keys() & sb.keys():
            worst = max(worst, abs(sa[i] - sb[i]))
            assert abs(sa[i] - sb[i]) <= tol, (name, qi, i, sa[i], sb[i], tol)
        for mine, other, last in ((sa, sb, hb), (sb, sa, ha)):
            for i in mine.keys() - other.keys():
                assert mine[i] <= last[-1]["score"] + tol, (name, qi, i, mine[i], last[-1], tol)
    return worst


def check(csv, qcsv, k, got_path):
    import numpy as np
    import pandas as pd
    k = int(k)
    x = normalized(pd.read_csv(csv).to_numpy(dtype=np.float32))
    q = normalized(pd.read_csv(qcsv).to_numpy(dtype=np.float32))
    got = json.load(open(got_path))
    assert len(got) == len(q), (len(got), len(q))
    # Exact (float64) inner products of the float32 vectors fidx stores.
    s = q.astype(np.float64) @ x.astype(np.float64).T
    tol = one_bound(x.shape[1])
    worst = 0.0
    for qi, hits in enumerate(got):
        assert len(hits) == k, ("numpy", qi, len(hits))
        ordered("numpy", qi, hits)
        best = np.sort(s[qi])[::-1][:k]
        for r, h in enumerate(hits):
            # the hit's own score, and the r-th score: no better row missed
            worst = max(worst, abs(h["score"] - s[qi, h["corpus_id"]]), abs(h["score"] - best[r]))
            assert abs(h["score"] - s[qi, h["corpus_id"]]) <= tol, ("numpy", qi, r, h, s[qi, h["corpus_id"]], tol)
            assert abs(h["score"] - best[r]) <= tol, ("numpy", qi, r, h, best[r], tol)
    checked = "numpy (max difference %.3g, bound %.3g)" % (worst, tol)
    try:
        import faiss
    except ImportError:
        faiss = None
    if faiss is not None:
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        d, i = index.search(q, k)
        ref = [[{"corpus_id": int(c), "score": float(v)} for c, v in zip(ic, dc)] for ic, dc in zip(i, d)]
        for hits in ref:  # faiss breaks ties by row too, but only among equal scores
            hits.sort(key=lambda h: (-h["score"], h["corpus_id"]))
        w = same_up_to_ties("faiss", got, ref, two_bound(x.shape[1]))
        checked += " and faiss.IndexFlatIP (max difference %.3g, bound %.3g)" % (w, two_bound(x.shape[1]))
    print(f"{len(q)} queries, k={k}: fidx agrees with {checked}")


def same(a_path, b_path, dim):
    a = json.load(open(a_path))
    b = json.load(open(b_path))
    w = same_up_to_ties("same", a, b, two_bound(dim))
    print(f"{len(a)} queries: the same hits up to ties, scores within {w:.3g} (bound {two_bound(dim):.3g})")


if __name__ == "__main__":
    {"make": make, "queries": queries, "check": check, "same": same}[sys.argv[1]](*sys.argv[2:])
