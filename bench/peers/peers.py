#!/usr/bin/env python3
"""Times what users run today on the inputs the C# benchmarks use (the benchmark report's peers).

    peers.py MANIFEST OUT.json [--reps N] [--threads T] [--exclude SUBSTRING]... [--allow-reference-blas]

MANIFEST is the manifest.json that Stair.Kernels.Benchmarks.Report.PeerData.Export wrote next to the
inputs (scipy CSR .npz graphs, float32 .npy tables, Stair's own outputs as "expected"). For every case
each available peer runs once (the warm-up), its output is CHECKED (against a float64 reference and/or
Stair's output; a peer that fails its check is not timed and is listed under "skipped"), then it runs N
more times; OUT.json gets median/min/max milliseconds of those N runs.

Peers per kernel:
  SpMM                  torch.sparse.mm on a CSR and on a COO tensor; scipy.sparse csr @ X
  FSC                   the Horner loop G = E + beta*(A G), out = c*G (L layers) with torch.sparse.mm (CSR, COO)
                        and with scipy csr @ X
  whitening exact       torch: center columns, Gram X_c^T X_c, torch.linalg.eigh, back-substitution U = X_c V / sigma
                        (what Stair's exact method does); torch.linalg.svd of X_c (what users often write)
  whitening randomized  sklearn.utils.extmath.randomized_svd(n_components=d, random_state=0) of X_c;
                        torch.svd_lowrank(q=d+32, niter=3) (Stair's defaults p = 32, q = 3)
  kNN top-k             numpy: row-normalize, blocked U U^T (float32 GEMM), argpartition top-k per row;
                        torch: the same blocks with torch.topk

max_rel_error:
  SpMM, FSC    max over entries of |y - y64| / (|A| |X|) (FSC: the same filter run on |A|, |E|), y64 the float64
               scipy result: the componentwise error relative to the magnitudes summed, which float32 keeps below
               gamma_n = n u / (1 - n u) for SpMM (n = the longest row, u = 2^-24) and L (gamma_n + 2u) + 2u for FSC,
               in any summation order.
  whitening    max_j |sigma_j / sigma_j(Stair exact) - 1| over the kept columns (plus "subspace_sin": sine of the
               largest principal angle between the top-32 column spaces of the peer's W and Stair's).
  kNN          the largest difference of the k-th sorted float64 cosine of a row between the peer's and Stair's
               lists (cosines are at most 1, so absolute = relative to their scale); lists may differ only on
               near-ties within the float32 screening bound.

Threads: OMP/OPENBLAS/MKL_NUM_THREADS are set before numpy, scipy or torch is imported; torch.set_num_threads(T).
A missing module skips its peers with the reason; dense peers (whitening, kNN) are skipped on the reference BLAS
unless --allow-reference-blas. The output is rewritten after every case, so a run killed midway leaves the cases
finished so far.
"""
import argparse
import importlib
import json
import math
import os
import platform
import re
import statistics
import sys
import time
import traceback

FORMAT = "stair-peers/1"
U32 = 2.0 ** -24
U64 = 2.0 ** -53

# Sanity tolerances of the whitening checks. They reject a wrong method (no centering, wrong side, wrong
# scale), not measure accuracy: float32 Gram eigenvalues carry ~n*u*sigma_1^2 of error, which is ~1e-3 of
# sigma_64^2 at sigma_1/sigma_64 ~ 20 (the power-law features), and randomized sketches find sigma_64 to
# ~0.5-2 % (kernels.md, "Randomized defaults").
WHITEN_TOLERANCE = {"exact": (1e-2, 1e-2), "randomized": (0.1, 0.1)}  # (sigma rel. error, top-32 subspace sine)
SUBSPACE = 32


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("manifest")
    p.add_argument("out")
    p.add_argument("--reps", type=int, default=None, help="timed runs per peer (default: the manifest's)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: the manifest's)")
    p.add_argument("--exclude", action="append", default=[], help="skip peers whose name contains this (repeatable)")
    p.add_argument("--allow-reference-blas", action="store_true", help="time dense peers even on the reference BLAS")
    args = p.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        p.error("--reps must be >= 1")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be >= 1")
    return args


class Run:
    """The output document, rewritten after every case."""

    def __init__(self, out, threads):
        self.out = out
        self.doc = {"python": platform.python_version(), "versions": {}, "blas": None, "blas_libraries": [],
                    "threads": threads, "results": [], "skipped": [], "stair_checks": []}

    def skip(self, peer, reason):
        self.doc["skipped"].append({"peer": peer, "reason": reason})

    def save(self):
        tmp = self.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.doc, f, indent=1, allow_nan=False, default=_finite)
        os.replace(tmp, self.out)


def _finite(value):
    raise TypeError(f"not JSON serializable: {value!r}")


def json_float(x):
    """JSON has no inf/NaN: an infinite or NaN error is written as a string."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else str(x)


def load_modules(run):
    mods = {}
    for name, key in (("numpy", "numpy"), ("scipy.sparse", "scipy"), ("torch", "torch"), ("sklearn.utils.extmath", "sklearn")):
        try:
            mod = importlib.import_module(name)
            top = importlib.import_module(key)
            mods[key] = mod
            run.doc["versions"][key] = getattr(top, "__version__", "unknown")
        except Exception as e:  # ImportError, or a broken install raising anything
            mods[key] = None
            run.skip(f"{key} peers", f"import {name} failed: {type(e).__name__}: {e}")
    if mods["scipy"] is not None:
        import scipy.linalg  # noqa: F401  (maps LAPACK, so the BLAS scan sees it)
    return mods


def blas_info(run, mods):
    """What numpy/scipy (and torch) call: the shared libraries this process maps, plus threadpoolctl when present."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if ".cpython-" in base or not base.startswith("lib"):
                    continue
                if any(t in base for t in ("blas", "lapack", "mkl_rt", "mkl_core", "blis")):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    libs = sorted(libs)
    run.doc["blas_libraries"] = libs
    pools = []
    try:
        import threadpoolctl
        pools = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    except Exception:
        pass
    name = "unknown"
    opens = [l for l in libs if "openblas" in os.path.basename(l) or "/openblas" in l]
    if opens:
        layer = next((d for d in ("openblas-pthread", "openblas-openmp", "openblas-serial") if any(f"/{d}/" in l for l in opens)), None)
        pool = next((p for p in pools if p.get("internal_api") == "openblas"), None)
        if layer is None and pool is not None:
            layer = "openblas-" + str(pool.get("threading_layer"))
        name = (layer or "openblas") + (f" {pool.get('version')}" if pool and pool.get("version") else "")
    elif any("mkl" in os.path.basename(l) for l in libs):
        name = "mkl"
    elif any("blis" in os.path.basename(l) for l in libs):
        name = "blis"
    elif any(l.endswith("/blas/libblas.so.3") or "/blas/libblas.so" in l for l in libs):
        name = "reference"
    run.doc["blas"] = name
    if mods.get("torch") is not None:
        # torch's build: BLAS_INFO=generic means it calls libblas.so.3, i.e. the library listed above; the CPU
        # capability is the widest SIMD its kernels dispatch to (Debian's 1.13 build: AVX2).
        try:
            cfg = mods["torch"].__config__.show()
            blas_match = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
            cpu_match = re.search(r"CPU capability usage: (\S+)", cfg)
            run.doc["torch_blas"] = blas_match.group(1) if blas_match else None
            run.doc["torch_cpu_capability"] = cpu_match.group(1) if cpu_match else None
        except Exception:
            run.doc["torch_blas"] = None
    return name


def time_peer(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times), max(times)


class Case:
    def __init__(self, run, np, spec, folder, reps, exclude):
        self.run, self.np, self.spec, self.folder, self.reps, self.exclude = run, np, spec, folder, reps, exclude
        self.kernel, self.shape = spec["kernel"], spec["shape"]

    def path(self, key):
        return os.path.join(self.folder, self.spec[key])

    def label(self, peer):
        return f"{self.kernel} {self.shape}: {peer}"

    def peer(self, name, fn, check):
        """Warm-up (its output checked), then the timed runs; a failure of either skips the peer with the reason."""
        if any(x in name for x in self.exclude):
            self.run.skip(name, f"{self.kernel} {self.shape}: excluded by --exclude")
            return
        try:
            out = fn()
            verdict = check(out)
            del out
            if not verdict["ok"]:
                self.run.skip(name, f"{self.kernel} {self.shape}: check failed: {verdict['why']}")
                return
            median, low, high = time_peer(fn, self.reps)
        except Exception as e:
            self.run.skip(name, f"{self.kernel} {self.shape}: {type(e).__name__}: {e}")
            print(f"peers.py: {self.label(name)} raised:\n{traceback.format_exc()}", file=sys.stderr)
            return
        row = {"kernel": self.kernel, "shape": self.shape, "peer": name, "median_ms": median, "min_ms": low,
               "max_ms": high, "reps": self.reps, "max_rel_error": json_float(verdict.get("error"))}
        for key, value in verdict.items():
            if key not in ("ok", "why", "error"):
                row[key] = json_float(value) if isinstance(value, float) else value
        self.run.doc["results"].append(row)
        print(f"peers.py: {self.label(name)}: median {median:.3f} ms (min {low:.3f}, max {high:.3f}, {self.reps} reps), "
              f"error {verdict.get('error')}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- propagation

def load_csr(np, path):
    with np.load(path, allow_pickle=False) as z:
        fmt = z["format"].item()
        fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
        if fmt != "csr":
            raise ValueError(f"{path}: format {fmt!r}, expected csr")
        shape = tuple(int(s) for s in z["shape"])
        return z["indptr"].astype(np.int64), z["indices"].astype(np.int64), z["data"].astype(np.float32), shape


def propagation(case, mods):
    np, sp, torch = mods["numpy"], mods["scipy"], mods["torch"]
    spec = case.spec
    fsc = case.kernel == "FSC"
    indptr, indices, data, shape = load_csr(np, case.path("graph"))
    x = np.load(case.path("input"))
    width, n = int(spec["width"]), shape[0]
    if x.dtype != np.float32 or x.shape != (n, width):
        raise ValueError(f"input {x.dtype} {x.shape}, expected float32 ({n}, {width})")
    layers = int(spec.get("layers") or 0)
    beta = np.load(case.path("beta")).astype(np.float32) if fsc else None
    longest = int(np.max(np.diff(indptr))) if n > 0 else 0
    gamma = longest * U32 / (1 - longest * U32)
    bound = 1.01 * (layers * (gamma + 2 * U32) + 2 * U32) if fsc else 1.01 * gamma
    c64 = None
    if fsc:
        b64 = beta.astype(np.float64)
        c64 = 1.0 / sum(b64 ** l for l in range(layers + 1))
    c32 = c64.astype(np.float32) if fsc else None

    ref = absref = None
    if sp is not None:
        a = sp.csr_matrix((data, indices, indptr), shape=shape)
        a64 = a.astype(np.float64)
        x64 = x.astype(np.float64)
        if fsc:
            def filt(m, e):
                g = e
                for _ in range(layers):
                    g = e + b64 * (m @ g)
                return c64 * g
            ref, absref = filt(a64, x64), filt(abs(a64), np.abs(x64))
        else:
            ref, absref = a64 @ x64, abs(a64) @ np.abs(x64)
        del a64, x64

    def check(y):
        y = y.numpy() if torch is not None and isinstance(y, torch.Tensor) else np.asarray(y)
        if y.shape != (n, width):
            return {"ok": False, "why": f"shape {y.shape}, expected ({n}, {width})"}
        if not np.all(np.isfinite(y)):
            return {"ok": False, "why": "non-finite entries"}
        if ref is None:
            return {"ok": True, "error": None, "bound": bound}
        err = rel_error(np, y, ref, absref)
        return {"ok": err <= bound, "why": f"max_rel_error {err:.3g} > bound {bound:.3g}", "error": err, "bound": bound}

    if ref is not None and spec.get("expected"):
        stair = np.load(case.path("expected"))
        err = rel_error(np, stair, ref, absref) if stair.shape == (n, width) else float("inf")
        case.run.doc["stair_checks"].append({"kernel": case.kernel, "shape": case.shape, "check": "Stair vs float64 scipy",
                                             "max_rel_error": json_float(err), "bound": bound, "ok": bool(err <= bound)})

    if torch is not None:
        e_t = torch.from_numpy(x)
        beta_t = torch.from_numpy(beta) if fsc else None
        c_t = torch.from_numpy(c32) if fsc else None
        tensors = {}
        try:
            tensors["CSR"] = torch.sparse_csr_tensor(torch.from_numpy(indptr), torch.from_numpy(indices), torch.from_numpy(data), size=shape)
        except Exception as e:
            case.run.skip("torch.sparse.mm (CSR)", f"{case.kernel} {case.shape}: building the CSR tensor failed: {type(e).__name__}: {e}")
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        tensors["COO"] = torch.sparse_coo_tensor(torch.from_numpy(np.vstack([rows, indices])), torch.from_numpy(data), size=shape).coalesce()
        for layout, a_t in tensors.items():
            if fsc:
                def run_fsc(a_t=a_t):
                    g = e_t
                    for _ in range(layers):
                        g = torch.sparse.mm(a_t, g).mul_(beta_t).add_(e_t)
                    return g.mul(c_t) if g is e_t else g.mul_(c_t)
                case.peer(f"torch Horner torch.sparse.mm ({layout})", run_fsc, check)
            else:
                case.peer(f"torch.sparse.mm ({layout})", lambda a_t=a_t: torch.sparse.mm(a_t, e_t), check)
    if sp is not None:
        a = sp.csr_matrix((data, indices, indptr), shape=shape)
        if fsc:
            def run_scipy_fsc():
                g = x
                for _ in range(layers):
                    t = a @ g
                    t *= beta
                    t += x
                    g = t
                return g * c32 if g is x else np.multiply(g, c32, out=g)
            case.peer("scipy Horner csr @ X", run_scipy_fsc, check)
        else:
            case.peer("scipy.sparse csr @ X", lambda: a @ x, check)


def rel_error(np, y, ref, absref):
    diff = np.abs(np.asarray(y, dtype=np.float64) - ref)
    pos = absref > 0
    if np.any(diff[~pos] > 0):
        return float("inf")  # an entry that must be exactly 0 (empty row, zero input) is not
    return float(np.max(diff[pos] / absref[pos])) if np.any(pos) else 0.0


# ---------------------------------------------------------------------------------------------- whitening

def fix_signs(torch, w):
    """In every column the entry of largest magnitude positive, the lower row on equal magnitudes (Stair's rule;
    argmax returns the first maximum)."""
    idx = torch.argmax(w.abs(), dim=0)
    s = torch.sign(w[idx, torch.arange(w.shape[1])])
    s[s == 0] = 1
    return w * s


def fix_signs_np(np, w):
    idx = np.argmax(np.abs(w), axis=0)
    s = np.sign(w[idx, np.arange(w.shape[1])])
    s[s == 0] = 1
    return w * s


def whitening(case, mods):
    np, torch, extmath = mods["numpy"], mods["torch"], mods["sklearn"]
    spec = case.spec
    method = "exact" if case.kernel == "whitening exact" else "randomized"
    x = np.load(case.path("features"))
    items, columns, d = int(spec["items"]), int(spec["columns"]), int(spec["dimension"])
    if x.dtype != np.float32 or x.shape != (items, columns):
        raise ValueError(f"features {x.dtype} {x.shape}, expected float32 ({items}, {columns})")
    scale = math.sqrt(items / d)
    w_expected = sigma_expected = None
    if spec.get("expected"):
        w_expected = np.load(case.path("expected")).astype(np.float64)
        sigma_expected = np.load(case.path("expected_singular_values")).astype(np.float64)
    sigma_tol, sine_tol = WHITEN_TOLERANCE[method]

    def check(out):
        w, sigma = out
        w = w.numpy() if torch is not None and isinstance(w, torch.Tensor) else np.asarray(w)
        sigma = sigma.numpy() if torch is not None and isinstance(sigma, torch.Tensor) else np.asarray(sigma)
        if w.shape != (items, d) or not np.all(np.isfinite(w)) or not np.all(np.isfinite(sigma)):
            return {"ok": False, "why": f"W {w.shape} (expected ({items}, {d})) or non-finite entries"}
        if w_expected is None:
            return {"ok": True, "error": None}
        kept = sigma_expected > 1e-4 * sigma_expected[0]
        err = float(np.max(np.abs(sigma.astype(np.float64)[:d][kept] / sigma_expected[kept] - 1))) if kept.any() else 0.0
        m = min(SUBSPACE, int(kept.sum()))
        q1, _ = np.linalg.qr(w[:, :m].astype(np.float64))
        q2, _ = np.linalg.qr(w_expected[:, :m])
        cos_min = np.linalg.svd(q2.T @ q1, compute_uv=False).min() if m > 0 else 1.0
        sine = float(math.sqrt(max(0.0, 1.0 - cos_min * cos_min)))
        ok = err <= sigma_tol and sine <= sine_tol
        return {"ok": ok, "why": f"sigma error {err:.3g} (tolerance {sigma_tol}), top-{m} subspace sine {sine:.3g} (tolerance {sine_tol})",
                "error": err, "subspace_sin": sine}

    if torch is not None:
        x_t = torch.from_numpy(x)
        if method == "exact":
            def eigh():
                # Stair's exact method: the Gram matrix on the smaller side, its top-d eigenvectors, one
                # back-substitution product, sigma measured as a norm, columns past the rank cut zeroed.
                xc = x_t - x_t.mean(dim=0)
                if columns <= items:
                    _, v = torch.linalg.eigh(xc.T @ xc)
                    u = xc @ v[:, -d:].flip(1)
                    sigma = torch.linalg.vector_norm(u, dim=0)
                    u = u / torch.where(sigma > 0, sigma, torch.ones_like(sigma))
                else:
                    _, u = torch.linalg.eigh(xc @ xc.T)
                    u = u[:, -d:].flip(1)
                    sigma = torch.linalg.vector_norm(xc.T @ u, dim=0)
                u = torch.where(sigma > 1e-4 * sigma[0], u, torch.zeros_like(u))
                return fix_signs(torch, u * scale), sigma

            def svd():
                u, s, _ = torch.linalg.svd(x_t - x_t.mean(dim=0), full_matrices=False)
                return fix_signs(torch, u[:, :d] * scale), s[:d]
            case.peer("torch Gram + torch.linalg.eigh", eigh, check)
            case.peer("torch.linalg.svd", svd, check)
        else:
            def lowrank():
                # Centered first, as Stair does (torch 1.13's M= argument wants a full-size mean matrix); seeded,
                # so the sketch (torch.randn) and with it the error are the same every run.
                torch.manual_seed(0)
                u, s, _ = torch.svd_lowrank(x_t - x_t.mean(dim=0), q=d + 32, niter=3)
                return fix_signs(torch, u[:, :d] * scale), s[:d]
            case.peer(f"torch.svd_lowrank (q={d + 32}, niter=3)", lowrank, check)
    if method == "randomized" and extmath is not None:
        def sklearn_rsvd():
            u, s, _ = extmath.randomized_svd(x - x.mean(axis=0), n_components=d, random_state=0)
            # sklearn flips signs by the same largest-|u| rule; fix_signs_np keeps Stair's tie rule exactly.
            return fix_signs_np(np, u * scale), s
        case.peer("sklearn randomized_svd", sklearn_rsvd, check)


# ---------------------------------------------------------------------------------------------- kNN

def knn(case, mods):
    np, torch = mods["numpy"], mods["torch"]
    spec = case.spec
    x = np.load(case.path("features"))
    items, columns, k = int(spec["items"]), int(spec["columns"]), int(spec["k"])
    if x.dtype != np.float32 or x.shape != (items, columns):
        raise ValueError(f"features {x.dtype} {x.shape}, expected float32 ({items}, {columns})")
    block = max(1, min(1024, (1 << 25) // max(1, items)))  # rows per block: at most 128 MiB of float32 scores
    expected = np.load(case.path("expected")).astype(np.int64) if spec.get("expected") else None
    # The float32 score error bound E of kernels.md (KnnGraph); two lists may disagree only on pairs within 2E.
    g32, g64 = columns * U32 / (1 - columns * U32), columns * U64 / (1 - columns * U64)
    tol = 2 * 1.01 * ((g32 + g64) * (1 + 2.0 ** -23) ** 2 + 2 * columns * 2.0 ** -126)
    x64 = x.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", x64, x64))
    unit64 = x64 / np.where(norms > 0, norms, 1)[:, None]
    del x64

    def scores(lists):
        out = np.empty(lists.shape)
        for s in range(0, items, 2048):
            out[s:s + 2048] = np.einsum("bf,bkf->bk", unit64[s:s + 2048], unit64[lists[s:s + 2048]])
        return -np.sort(-out, axis=1)

    def check(lists):
        lists = lists.numpy() if torch is not None and isinstance(lists, torch.Tensor) else np.asarray(lists)
        if lists.shape != (items, k) or lists.min() < 0 or lists.max() >= items:
            return {"ok": False, "why": f"lists {lists.shape} (expected ({items}, {k})) or indices out of range"}
        if np.any(lists == np.arange(items)[:, None]) or np.any(np.sort(lists, axis=1)[:, 1:] == np.sort(lists, axis=1)[:, :-1]):
            return {"ok": False, "why": "a list holds its own row or a repeated neighbour"}
        if expected is None:
            return {"ok": True, "error": None}
        err = float(np.max(np.abs(scores(lists) - scores(expected))))
        same = float(np.mean(lists == expected))
        return {"ok": err <= tol, "why": f"k-th cosine differs by {err:.3g} > {tol:.3g}", "error": err, "bound": tol, "identical_fraction": same}

    def numpy_topk():
        n = np.sqrt(np.einsum("ij,ij->i", x, x))
        u = x / np.where(n > 0, n, 1)[:, None]
        out = np.empty((items, k), dtype=np.int64)
        for s in range(0, items, block):
            sc = u[s:s + block] @ u.T
            r = np.arange(sc.shape[0])
            sc[r, s + r] = -np.inf
            idx = np.argpartition(sc, items - k, axis=1)[:, items - k:]
            top = np.take_along_axis(sc, idx, axis=1)
            order = np.lexsort((idx, -top), axis=1)  # best first, ties to the lower index
            out[s:s + block] = np.take_along_axis(idx, order, axis=1)
        return out
    case.peer("numpy blocked X·Xᵀ + argpartition", numpy_topk, check)

    if torch is not None:
        x_t = torch.from_numpy(x)

        def torch_topk():
            u = torch.nn.functional.normalize(x_t, dim=1)
            out = torch.empty((items, k), dtype=torch.int64)
            for s in range(0, items, block):
                sc = u[s:s + block] @ u.T
                r = torch.arange(sc.shape[0])
                sc[r, s + r] = -math.inf
                out[s:s + block] = torch.topk(sc, k, dim=1).indices
            return out
        case.peer("torch blocked mm + torch.topk", torch_topk, check)


# ---------------------------------------------------------------------------------------------- main

DENSE = ("whitening exact", "whitening randomized", "kNN top-k")
PEERS = {  # the modules each kernel's peers need at least
    "SpMM": ("numpy",), "FSC": ("numpy",), "whitening exact": ("numpy", "torch"),
    "whitening randomized": ("numpy",), "kNN top-k": ("numpy",),  # sklearn or torch: each peer checks its own
}


def main(argv):
    args = parse_args(argv)
    try:
        with open(args.manifest) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        print(f"peers.py: cannot read the manifest {args.manifest}: {e}", file=sys.stderr)
        return 2
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("cases"), list):
        print(f"peers.py: {args.manifest} is not a {FORMAT} manifest", file=sys.stderr)
        return 2
    threads = args.threads or int(manifest.get("threads") or os.cpu_count() or 1)
    reps = args.reps or int(manifest.get("reps") or 5)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(threads)  # before the first import of numpy/scipy/torch: the pools size themselves at load

    run = Run(args.out, threads)
    mods = load_modules(run)
    if mods["torch"] is not None:
        mods["torch"].set_num_threads(threads)
    blas = blas_info(run, mods) if mods["numpy"] is not None else None
    run.save()
    folder = os.path.dirname(os.path.abspath(args.manifest))
    for spec in manifest["cases"]:
        kernel, shape = spec.get("kernel"), spec.get("shape")
        missing = [m for m in PEERS.get(kernel, ("numpy",)) if mods.get(m) is None]
        if kernel not in PEERS:
            run.skip(f"{kernel} peers", f"{kernel} {shape}: unknown kernel")
        elif missing:
            run.skip(f"{kernel} peers", f"{kernel} {shape}: {', '.join(missing)} not importable")
        elif kernel in DENSE and blas == "reference" and not args.allow_reference_blas:
            run.skip(f"{kernel} peers", f"{kernel} {shape}: numpy/scipy run on the {blas} BLAS, not OpenBLAS: run bench/peers/install.sh "
                     "(or pass --allow-reference-blas)")
        else:
            case = Case(run, mods["numpy"], spec, folder, reps, args.exclude)
            print(f"peers.py: {kernel} {shape}", file=sys.stderr)
            try:
                {"SpMM": propagation, "FSC": propagation, "whitening exact": whitening,
                 "whitening randomized": whitening, "kNN top-k": knn}[kernel](case, mods)
            except Exception as e:
                run.skip(f"{kernel} peers", f"{kernel} {shape}: {type(e).__name__}: {e}")
                print(traceback.format_exc(), file=sys.stderr)
        run.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
