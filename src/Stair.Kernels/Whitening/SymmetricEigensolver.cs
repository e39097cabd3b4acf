// A dense float64 symmetric eigensolver for the top t eigenpairs, on raw arrays: Householder
// tridiagonalization (lower triangle, row-oriented SIMD dot/axpy), bisection on Sturm counts
// for the wanted eigenvalues (several shifts per SIMD register), inverse iteration on the
// tridiagonal (re-orthogonalized inside clusters), and the reflectors applied back to the t
// vectors only. Cost ≈ 4/3·n³ + 2·t·n² flops; single-threaded and deterministic (the same bits
// for any thread count or SIMD tier option of the caller).
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stair.Kernels.WhiteningCore;

internal static class SymmetricEigensolver
{
    /// <summary>Inverse-iteration passes per vector (accurate bisection shifts converge in one or two).</summary>
    private const int InversePasses = 3;

    /// <summary>Eigenvectors of eigenvalues closer than this fraction of ‖T‖ are re-orthogonalized (LAPACK dstein's gap).</summary>
    private const double ClusterGap = 1e-3;

    /// <summary>
    /// The t largest eigenvalues of the symmetric n × n row-major <paramref name="a"/> (only its symmetric part
    /// 0.5·(a + aᵀ) is used), descending, and their unit eigenvectors as the rows of a t × n row-major array.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double[] Values, double[] VectorRows) Top(ReadOnlySpan<double> a, int n, int t)
    {
        if (n < 0 || a.Length < n * n)
        {
            throw new ArgumentException($"Need an {n} × {n} matrix.", nameof(a));
        }
        t = Math.Clamp(t, 0, n);
        var values = new double[t];
        var rows = new double[t * n];
        if (t == 0)
        {
            return (values, rows);
        }
        if (n == 1)
        {
            if (!double.IsFinite(a[0]))
            {
                throw new ArgumentException("The matrix has a NaN or infinite entry.", nameof(a));
            }
            values[0] = a[0];
            rows[0] = 1;
            return (values, rows);
        }
        // Lower triangle, symmetrized: w[i, j] for j ≤ i.
        double[] w = System.Buffers.ArrayPool<double>.Shared.Rent(n * n);
        double[] reflectors = System.Buffers.ArrayPool<double>.Shared.Rent(n * n);
        try
        {
            double norm = 0;
            for (int i = 0; i < n; i++)
            {
                double rowSum = 0;
                for (int j = 0; j <= i; j++)
                {
                    double v = 0.5 * (a[i * n + j] + a[j * n + i]);
                    w[i * n + j] = v;
                }
                for (int j = 0; j < n; j++)
                {
                    rowSum += Math.Abs(a[i * n + j]);
                }
                norm = Math.Max(norm, rowSum);
            }
            if (!double.IsFinite(norm))
            {
                throw new ArgumentException("The matrix has a NaN or infinite entry.", nameof(a));
            }
            if (norm == 0)
            {
                for (int r = 0; r < t; r++)
                {
                    rows[r * n + r] = 1;
                }
                return (values, rows);
            }
            var diagonal = new double[n];
            var off = new double[Math.Max(1, n - 1)];
            var tau = new double[n];
            Tridiagonalize(w, n, diagonal, off, tau, reflectors);
            Bisect(diagonal, off, n, t, values);
            InverseIteration(diagonal, off, n, values, rows);
            BackTransform(reflectors, tau, n, rows, t);
            return (values, rows);
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(w);
            System.Buffers.ArrayPool<double>.Shared.Return(reflectors);
        }
    }

    /// <summary>
    /// Qᵀ·A·Q = T with Q = H_0·H_1·…·H_{n−3}, H_k = I − τ_k v_k v_kᵀ acting on indices k+1 … n−1 (v_k[k+1] = 1);
    /// v_k is stored in row k of <paramref name="v"/> (entries k+1 … n−1). Works on the lower triangle of w in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tridiagonalize(double[] w, int n, double[] diagonal, double[] off, double[] tau, double[] v)
    {
        var p = new double[n];
        for (int k = 0; k < n - 1; k++)
        {
            diagonal[k] = w[k * n + k];
            int s = k + 1, m = n - s;
            // x = A[s.., k] (a column of the lower triangle).
            Span<double> vk = v.AsSpan(k * n + s, m);
            double alpha = w[s * n + k];
            double sigma = 0;
            for (int i = 1; i < m; i++)
            {
                double x = w[(s + i) * n + k];
                vk[i] = x;
                sigma += x * x;
            }
            vk[0] = 1;
            if (sigma == 0)
            {
                tau[k] = 0;
                off[k] = alpha;
                continue;
            }
            double beta = -Math.CopySign(Math.Sqrt(alpha * alpha + sigma), alpha);
            double scale = 1.0 / (alpha - beta);
            for (int i = 1; i < m; i++)
            {
                vk[i] *= scale;
            }
            double tk = (beta - alpha) / beta;
            tau[k] = tk;
            off[k] = beta;
            // p = τ·A22·v from the lower triangle, row by row: p_i += A[i, s..i)·v[s..i) + A_ii v_i; p[s..i) += v_i·A[i, s..i).
            Span<double> ps = p.AsSpan(0, m);
            ps.Clear();
            for (int i = 0; i < m; i++)
            {
                ReadOnlySpan<double> row = w.AsSpan((s + i) * n + s, i);
                double vi = vk[i];
                ps[i] += DotAxpy(row, vk[..i], vi, ps[..i]) + w[(s + i) * n + s + i] * vi;
            }
            for (int i = 0; i < m; i++)
            {
                ps[i] *= tk;
            }
            double half = 0.5 * tk * Dot(ps, vk);
            for (int i = 0; i < m; i++)
            {
                ps[i] -= half * vk[i];
            }
            // A22 ← A22 − v·pᵀ − p·vᵀ on the lower triangle (diagonal included).
            for (int i = 0; i < m; i++)
            {
                Rank2(w.AsSpan((s + i) * n + s, i + 1), vk[i], ps[..(i + 1)], ps[i], vk[..(i + 1)]);
            }
        }
        diagonal[n - 1] = w[(n - 1) * n + n - 1];
        if (n >= 1)
        {
            tau[n - 1] = 0;
        }
    }

    /// <summary>The t largest eigenvalues of the tridiagonal (diagonal, off), descending, to ~4ε‖T‖ by bisection on Sturm counts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bisect(double[] d, double[] e, int n, int t, double[] values)
    {
        double lower = double.MaxValue, upper = double.MinValue, norm = 0;
        var e2 = new double[n];
        for (int i = 0; i < n; i++)
        {
            double left = i > 0 ? Math.Abs(e[i - 1]) : 0, right = i < n - 1 ? Math.Abs(e[i]) : 0;
            lower = Math.Min(lower, d[i] - left - right);
            upper = Math.Max(upper, d[i] + left + right);
            norm = Math.Max(norm, Math.Abs(d[i]) + left + right);
            if (i < n - 1)
            {
                e2[i] = e[i] * e[i];
            }
        }
        // Sturm pivots smaller than this are replaced by −pivmin (LAPACK dstebz's safeguard against division by zero).
        double maxE2 = 1;
        for (int i = 0; i < n - 1; i++)
        {
            maxE2 = Math.Max(maxE2, e2[i]);
        }
        double pivmin = 2.2250738585072014e-308 * maxE2;
        double tolerance = 4 * 2.220446049250313e-16 * norm;
        lower -= tolerance + 2 * pivmin;
        upper += tolerance + 2 * pivmin;
        // Two registers of shifts per pass: two independent division chains hide each other's latency.
        int lanes = Vector<double>.Count, width = 2 * lanes;
        Span<double> target = stackalloc double[width];
        Span<double> lo = stackalloc double[width], hi = stackalloc double[width];
        Span<double> mid = stackalloc double[width];
        Span<long> count = stackalloc long[width];
        var vPiv = new Vector<double>(pivmin);
        var vNegPiv = new Vector<double>(-pivmin);
        for (int first = 0; first < t; first += width)
        {
            // Lane r looks for the (n − 1 − j)-th smallest eigenvalue, j = first + r: the x where the count of
            // eigenvalues below x passes n − 1 − j.
            for (int r = 0; r < width; r++)
            {
                int j = Math.Min(first + r, t - 1);
                target[r] = n - 1 - j;
                lo[r] = lower;
                hi[r] = upper;
            }
            for (int iteration = 0; iteration < 200; iteration++)
            {
                bool done = true;
                for (int r = 0; r < width; r++)
                {
                    mid[r] = 0.5 * (lo[r] + hi[r]);
                    if (hi[r] - lo[r] > tolerance && mid[r] > lo[r] && mid[r] < hi[r])
                    {
                        done = false;
                    }
                }
                if (done)
                {
                    break;
                }
                var x = new Vector<double>(mid);
                var y = new Vector<double>(mid[lanes..]);
                var countX = Vector<long>.Zero;
                var countY = Vector<long>.Zero;
                Vector<double> qx = new Vector<double>(d[0]) - x, qy = new Vector<double>(d[0]) - y;
                qx = Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(qx), vPiv), vNegPiv, qx);
                qy = Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(qy), vPiv), vNegPiv, qy);
                countX -= Vector.LessThan(qx, Vector<double>.Zero);
                countY -= Vector.LessThan(qy, Vector<double>.Zero);
                for (int i = 1; i < n; i++)
                {
                    var di = new Vector<double>(d[i]);
                    var ei = new Vector<double>(e2[i - 1]);
                    qx = di - x - ei / qx;
                    qy = di - y - ei / qy;
                    qx = Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(qx), vPiv), vNegPiv, qx);
                    qy = Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(qy), vPiv), vNegPiv, qy);
                    countX -= Vector.LessThan(qx, Vector<double>.Zero);
                    countY -= Vector.LessThan(qy, Vector<double>.Zero);
                }
                countX.CopyTo(count);
                countY.CopyTo(count[lanes..]);
                for (int r = 0; r < width; r++)
                {
                    // count = eigenvalues < mid: more than the target index means the eigenvalue is below mid.
                    if (count[r] > target[r])
                    {
                        hi[r] = mid[r];
                    }
                    else
                    {
                        lo[r] = mid[r];
                    }
                }
            }
            for (int r = 0; r < width && first + r < t; r++)
            {
                values[first + r] = 0.5 * (lo[r] + hi[r]);
            }
        }
        // Bisection per index is monotone up to its tolerance; make the order exact.
        for (int j = 1; j < t; j++)
        {
            if (values[j] > values[j - 1])
            {
                values[j] = values[j - 1];
            }
        }
    }

    /// <summary>
    /// Unit eigenvectors of the tridiagonal for the given eigenvalues (rows of <paramref name="rows"/>, length n each):
    /// inverse iteration with a pivoted LU of T − λI from a fixed pseudo-random start, each pass followed by
    /// modified Gram–Schmidt against the earlier vectors of its cluster (eigenvalues within ClusterGap·‖T‖).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InverseIteration(double[] d, double[] e, int n, double[] values, double[] rows)
    {
        int t = values.Length;
        double norm = 0;
        for (int i = 0; i < n; i++)
        {
            norm = Math.Max(norm, Math.Abs(d[i]) + (i > 0 ? Math.Abs(e[i - 1]) : 0) + (i < n - 1 ? Math.Abs(e[i]) : 0));
        }
        double perturbation = 2.220446049250313e-16 * norm;
        double clusterGap = ClusterGap * norm;
        var u0 = new double[n];
        var u1 = new double[n];
        var u2 = new double[n];
        var mult = new double[n];
        var swapped = new bool[n];
        var rng = new SplitMix64(0x51DE_C0DE);
        int clusterStart = 0;
        for (int j = 0; j < t; j++)
        {
            // Re-orthogonalize against the earlier vectors whose eigenvalues lie within the gap (a contiguous run:
            // values descend); farther ones are orthogonal to ~ε‖T‖/gap already.
            while (clusterStart < j && values[clusterStart] - values[j] > clusterGap)
            {
                clusterStart++;
            }
            double lambda = values[j];
            Factor(d, e, n, lambda, perturbation, u0, u1, u2, mult, swapped);
            Span<double> x = rows.AsSpan(j * n, n);
            for (int i = 0; i < n; i++)
            {
                x[i] = 2 * rng.NextDouble() - 1;
            }
            for (int pass = 0; pass < InversePasses; pass++)
            {
                Solve(n, u0, u1, u2, mult, swapped, x);
                for (int r = clusterStart; r < j; r++)
                {
                    ReadOnlySpan<double> y = rows.AsSpan(r * n, n);
                    Axpy(-Dot(x, y), y, x);
                }
                double length = Math.Sqrt(Dot(x, x));
                if (!(length > 0) || !double.IsFinite(length))
                {
                    // Degenerate (should not happen with a perturbed factorization): restart from a unit vector.
                    x.Clear();
                    x[j % n] = 1;
                    length = 1;
                }
                double inv = 1.0 / length;
                for (int i = 0; i < n; i++)
                {
                    x[i] *= inv;
                }
            }
        }
    }

    // Gaussian elimination with partial pivoting of the tridiagonal T − λI: U has three diagonals (u0, u1, u2).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Factor(double[] d, double[] e, int n, double lambda, double perturbation,
        double[] u0, double[] u1, double[] u2, double[] mult, bool[] swapped)
    {
        double a = d[0] - lambda, b = n > 1 ? e[0] : 0, c = 0;
        for (int i = 0; i < n - 1; i++)
        {
            double l = e[i], dd = d[i + 1] - lambda, ee = i + 1 < n - 1 ? e[i + 1] : 0;
            if (Math.Abs(a) >= Math.Abs(l))
            {
                if (a == 0)
                {
                    a = perturbation;
                }
                double m = l / a;
                u0[i] = a;
                u1[i] = b;
                u2[i] = c;
                mult[i] = m;
                swapped[i] = false;
                a = dd - m * b;
                b = ee - m * c;
            }
            else
            {
                double m = a / l;
                u0[i] = l;
                u1[i] = dd;
                u2[i] = ee;
                mult[i] = m;
                swapped[i] = true;
                a = b - m * dd;
                b = c - m * ee;
            }
            c = 0;
            if (Math.Abs(a) < perturbation)
            {
                a = a < 0 ? -perturbation : perturbation;
            }
        }
        if (Math.Abs(a) < perturbation)
        {
            a = a < 0 ? -perturbation : perturbation;
        }
        u0[n - 1] = a;
        u1[n - 1] = 0;
        u2[n - 1] = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Solve(int n, double[] u0, double[] u1, double[] u2, double[] mult, bool[] swapped, Span<double> x)
    {
        for (int i = 0; i < n - 1; i++)
        {
            if (swapped[i])
            {
                (x[i], x[i + 1]) = (x[i + 1], x[i]);
            }
            x[i + 1] -= mult[i] * x[i];
        }
        // Scale down on the way so a nearly singular U cannot overflow (the vector is normalized afterwards).
        double big = 0;
        for (int i = n - 1; i >= 0; i--)
        {
            double s = x[i];
            if (i + 1 < n)
            {
                s -= u1[i] * x[i + 1];
            }
            if (i + 2 < n)
            {
                s -= u2[i] * x[i + 2];
            }
            x[i] = s / u0[i];
            big = Math.Max(big, Math.Abs(x[i]));
            if (big > 1e150)
            {
                for (int r = i; r < n; r++)
                {
                    x[r] *= 1e-150;
                }
                big *= 1e-150;
            }
        }
    }

    // x ← H_0·…·H_{n−3}·y for every row y: the reflectors in reverse order, each a dot and an axpy over k+1 … n−1.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackTransform(double[] v, double[] tau, int n, double[] rows, int t)
    {
        for (int k = n - 2; k >= 0; k--)
        {
            double tk = tau[k];
            if (tk == 0)
            {
                continue;
            }
            int s = k + 1;
            ReadOnlySpan<double> vk = v.AsSpan(k * n + s, n - s);
            for (int r = 0; r < t; r++)
            {
                Span<double> x = rows.AsSpan(r * n + s, n - s);
                Axpy(-tk * Dot(vk, x), vk, x);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int w = Vector<double>.Count, p = 0;
        double s = 0;
        if (Vector512.IsHardwareAccelerated && x.Length >= 8)
        {
            var acc = Vector512<double>.Zero;
            for (; p <= x.Length - 8; p += 8)
            {
                acc += Vector512.Create(x.Slice(p, 8)) * Vector512.Create(y.Slice(p, 8));
            }
            s = Vector512.Sum(acc);
        }
        else if (x.Length >= 2 * w)
        {
            var acc0 = Vector<double>.Zero;
            var acc1 = Vector<double>.Zero;
            for (; p <= x.Length - 2 * w; p += 2 * w)
            {
                acc0 += new Vector<double>(x.Slice(p)) * new Vector<double>(y.Slice(p));
                acc1 += new Vector<double>(x.Slice(p + w)) * new Vector<double>(y.Slice(p + w));
            }
            s = Vector.Sum(acc0 + acc1);
        }
        for (; p < x.Length; p++)
        {
            s += x[p] * y[p];
        }
        return s;
    }

    // Returns row·x and adds alpha·row to y, in one pass over row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double DotAxpy(ReadOnlySpan<double> row, ReadOnlySpan<double> x, double alpha, Span<double> y)
    {
        int p = 0;
        double s = 0;
        if (Vector512.IsHardwareAccelerated && row.Length >= 8)
        {
            var acc = Vector512<double>.Zero;
            var va = Vector512.Create(alpha);
            for (; p <= row.Length - 8; p += 8)
            {
                Vector512<double> r = Vector512.Create(row.Slice(p, 8));
                acc += r * Vector512.Create(x.Slice(p, 8));
                (Vector512.Create(y.Slice(p, 8)) + va * r).CopyTo(y.Slice(p, 8));
            }
            s = Vector512.Sum(acc);
        }
        else if (row.Length >= Vector<double>.Count)
        {
            int w = Vector<double>.Count;
            var acc = Vector<double>.Zero;
            var va = new Vector<double>(alpha);
            for (; p <= row.Length - w; p += w)
            {
                var r = new Vector<double>(row.Slice(p));
                acc += r * new Vector<double>(x.Slice(p));
                (new Vector<double>(y.Slice(p)) + va * r).CopyTo(y.Slice(p));
            }
            s = Vector.Sum(acc);
        }
        for (; p < row.Length; p++)
        {
            s += row[p] * x[p];
            y[p] += alpha * row[p];
        }
        return s;
    }

    // y += alpha·x
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int w = Vector<double>.Count, p = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a8 = Vector512.Create(alpha);
            for (; p <= x.Length - 8; p += 8)
            {
                (Vector512.Create(y.Slice(p, 8)) + a8 * Vector512.Create(x.Slice(p, 8))).CopyTo(y.Slice(p, 8));
            }
        }
        var va = new Vector<double>(alpha);
        for (; p <= x.Length - w; p += w)
        {
            (new Vector<double>(y.Slice(p)) + va * new Vector<double>(x.Slice(p))).CopyTo(y.Slice(p));
        }
        for (; p < x.Length; p++)
        {
            y[p] += alpha * x[p];
        }
    }

    // row −= a·x + b·y
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rank2(Span<double> row, double a, ReadOnlySpan<double> x, double b, ReadOnlySpan<double> y)
    {
        int w = Vector<double>.Count, p = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a8 = Vector512.Create(a);
            var b8 = Vector512.Create(b);
            for (; p <= row.Length - 8; p += 8)
            {
                (Vector512.Create(row.Slice(p, 8)) - a8 * Vector512.Create(x.Slice(p, 8)) - b8 * Vector512.Create(y.Slice(p, 8))).CopyTo(row.Slice(p, 8));
            }
        }
        var va = new Vector<double>(a);
        var vb = new Vector<double>(b);
        for (; p <= row.Length - w; p += w)
        {
            (new Vector<double>(row.Slice(p)) - va * new Vector<double>(x.Slice(p)) - vb * new Vector<double>(y.Slice(p))).CopyTo(row.Slice(p));
        }
        for (; p < row.Length; p++)
        {
            row[p] -= a * x[p] + b * y[p];
        }
    }
}
