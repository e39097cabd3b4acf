#!/usr/bin/python3
"""Whitening fixtures: float32 features and numpy.linalg.svd references (float64).

For each case: <name>_x.npy (items x F, float32), <name>_w.npy (items x d, float64:
U[:, :d] * sqrt(I/d) of the column-centered features, columns past the numerical rank
zeroed, each column's largest-magnitude entry positive, ties to the lower row) and
<name>_s.npy (the top min(d, I, F) singular values, float64). Run with /usr/bin/python3.
"""
import os
import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "whitening")
RANK_TOLERANCE = 1e-4  # WhiteningOptions.RankTolerance default


def reference(x, d):
    x64 = x.astype(np.float64)
    xc = x64 - x64.mean(axis=0)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    items, f = x.shape
    t = min(d, items, f)
    limit = min(t, items - 1, f)
    rank = 0
    while rank < limit and s[0] > 0 and s[rank] > RANK_TOLERANCE * s[0]:
        rank += 1
    w = np.zeros((items, d))
    for j in range(rank):
        col = u[:, j]
        if col[np.argmax(np.abs(col))] < 0:  # argmax returns the first (lowest row) on ties
            col = -col
        w[:, j] = col * np.sqrt(items / d)
    sv = np.zeros(d)
    sv[:t] = s[:t]
    return w, sv, rank


def write(name, x, d):
    x = x.astype(np.float32)
    w, s, rank = reference(x, d)
    np.save(os.path.join(HERE, f"{name}_x.npy"), x)
    np.save(os.path.join(HERE, f"{name}_w.npy"), w)
    np.save(os.path.join(HERE, f"{name}_s.npy"), s)
    print(f"{name}: {x.shape}, d={d}, rank={rank}")


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = np.random.default_rng(20261128)
    # A decaying spectrum so the top singular vectors are well separated.
    def spectrum(items, f, decay):
        a = rng.standard_normal((items, f)) * (decay ** np.arange(f))
        q, _ = np.linalg.qr(rng.standard_normal((f, f)))
        return a @ q + 3.0
    write("tall", spectrum(37, 13, 0.8), 5)              # F < I: Gram on the feature side
    write("wide", spectrum(11, 29, 0.85)[:, :29], 6)      # I < F: Gram on the item side
    low = rng.standard_normal((30, 3)) @ rng.standard_normal((3, 10))
    low[:, 4] = 2.5                                       # a constant column
    write("rankdef", low, 6)                              # rank 3 < d
    write("second", spectrum(37, 21, 0.75), 5)            # fused with "tall" (weights 5, 1)


if __name__ == "__main__":
    main()
