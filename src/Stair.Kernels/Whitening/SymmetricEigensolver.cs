// A dense float64 symmetric eigensolver for the top t eigenpairs, on raw arrays: Householder
// tridiagonalization (lower triangle, row-oriented SIMD dot/axpy), bisection on Sturm counts
// for the wanted eigenvalues (several shifts per SIMD register), inverse iteration on the
// tridiagonal (re-orthogonalized inside clusters), and the reflectors applied back to the t
// vectors only. Cost ≈ 4/3·n³ + 2·t·n² flops; single-threaded and deterministic (the same bits
// for any thread count). The vector helpers are written once over the double vectors of Cpu/Simd
// and run with the caller's SIMD tier; their sums are grouped by the tier's width, so tiers
// agree up to float64 rounding (bisection gives the same bits on every tier).
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.WhiteningAlgebra;

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
    /// <param name="a">The matrix.</param>
    /// <param name="n">Its order.</param>
    /// <param name="t">How many eigenpairs.</param>
    /// <param name="tier">A resolved SIMD tier for the vector helpers.</param>
    public static (double[] Values, double[] VectorRows) Top(ReadOnlySpan<double> a, int n, int t, SimdTier tier)
    {
        var kernel = new TopKernel(a, n, t);
        SimdDispatch.Run(tier, ref kernel);
        return kernel.Result;
    }

    private ref struct TopKernel(ReadOnlySpan<double> a, int n, int t) : ISimdKernel
    {
        private readonly ReadOnlySpan<double> _a = a;

        public (double[] Values, double[] VectorRows) Result;

        public void Run<TVec, TDouble>()
            where TVec : struct, IFloatVector<TVec>
            where TDouble : struct, IDoubleVector<TDouble>
            => Result = Top<TDouble>(_a, n, t);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static (double[] Values, double[] VectorRows) Top<TDouble>(ReadOnlySpan<double> a, int n, int t)
        where TDouble : struct, IDoubleVector<TDouble>
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
            Tridiagonalize<TDouble>(w, n, diagonal, off, tau, reflectors);
            Bisect<TDouble>(diagonal, off, n, t, values);
            InverseIteration<TDouble>(diagonal, off, n, values, rows);
            BackTransform<TDouble>(reflectors, tau, n, rows, t);
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
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tridiagonalize<TDouble>(double[] w, int n, double[] diagonal, double[] off, double[] tau, double[] v)
        where TDouble : struct, IDoubleVector<TDouble>
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
                ps[i] += DotAxpy<TDouble>(row, vk[..i], vi, ps[..i]) + w[(s + i) * n + s + i] * vi;
            }
            for (int i = 0; i < m; i++)
            {
                ps[i] *= tk;
            }
            double half = 0.5 * tk * Dot<TDouble>(ps, vk);
            for (int i = 0; i < m; i++)
            {
                ps[i] -= half * vk[i];
            }
            // A22 ← A22 − v·pᵀ − p·vᵀ on the lower triangle (diagonal included).
            for (int i = 0; i < m; i++)
            {
                Rank2<TDouble>(w.AsSpan((s + i) * n + s, i + 1), vk[i], ps[..(i + 1)], ps[i], vk[..(i + 1)]);
            }
        }
        diagonal[n - 1] = w[(n - 1) * n + n - 1];
        if (n >= 1)
        {
            tau[n - 1] = 0;
        }
    }

    /// <summary>The t largest eigenvalues of the tridiagonal (diagonal, off), descending, to ~4ε‖T‖ by bisection on Sturm counts.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Bisect<TDouble>(double[] d, double[] e, int n, int t, double[] values)
        where TDouble : struct, IDoubleVector<TDouble>
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
        // Eight shifts per pass on every tier (two 4-lane registers on the vector tiers: two independent division
        // chains hide each other's latency; eight scalar chains on the scalar tier), so every tier bisects alike.
        if (TDouble.Count >= 4)
        {
            BisectShifts<Double256>(d, e2, n, t, lower, upper, tolerance, pivmin, values);
        }
        else
        {
            BisectShifts<Double1>(d, e2, n, t, lower, upper, tolerance, pivmin, values);
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

    // Sturm-count bisection for eight eigenvalues at a time: lane r of a pass looks for the (n − 1 − j)-th smallest
    // eigenvalue, j = first + r, as the x where the count of eigenvalues below x passes n − 1 − j.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BisectShifts<TVec>(double[] d, double[] e2, int n, int t, double lower, double upper, double tolerance, double pivmin, double[] values)
        where TVec : struct, IDoubleVector<TVec>
    {
        const int Width = 8;
        int w = TVec.Count;
        double* target = stackalloc double[Width], lo = stackalloc double[Width], hi = stackalloc double[Width];
        double* mid = stackalloc double[Width], count = stackalloc double[Width];
        TVec piv = TVec.Splat(pivmin), negPiv = TVec.Splat(-pivmin), one = TVec.Splat(1);
        for (int first = 0; first < t; first += Width)
        {
            for (int r = 0; r < Width; r++)
            {
                int j = Math.Min(first + r, t - 1);
                target[r] = n - 1 - j;
                lo[r] = lower;
                hi[r] = upper;
            }
            for (int iteration = 0; iteration < 200; iteration++)
            {
                bool done = true;
                for (int r = 0; r < Width; r++)
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
                // Lanes 0..w−1 in x0, then x1 (w = 4), or one shift per register (w = 1).
                TVec x0 = TVec.Load(mid), x1 = TVec.Load(mid + w), x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
                if (w == 1)
                {
                    (x2, x3, x4, x5, x6, x7) = (TVec.Load(mid + 2), TVec.Load(mid + 3), TVec.Load(mid + 4), TVec.Load(mid + 5), TVec.Load(mid + 6), TVec.Load(mid + 7));
                }
                TVec c0 = TVec.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
                TVec d0 = TVec.Splat(d[0]);
                TVec q0 = SturmFirst(d0, x0, piv, negPiv, one, ref c0), q1 = SturmFirst(d0, x1, piv, negPiv, one, ref c1);
                TVec q2 = q0, q3 = q0, q4 = q0, q5 = q0, q6 = q0, q7 = q0;
                if (w == 1)
                {
                    q2 = SturmFirst(d0, x2, piv, negPiv, one, ref c2);
                    q3 = SturmFirst(d0, x3, piv, negPiv, one, ref c3);
                    q4 = SturmFirst(d0, x4, piv, negPiv, one, ref c4);
                    q5 = SturmFirst(d0, x5, piv, negPiv, one, ref c5);
                    q6 = SturmFirst(d0, x6, piv, negPiv, one, ref c6);
                    q7 = SturmFirst(d0, x7, piv, negPiv, one, ref c7);
                }
                for (int i = 1; i < n; i++)
                {
                    TVec di = TVec.Splat(d[i]), ei = TVec.Splat(e2[i - 1]);
                    q0 = SturmNext(di, ei, x0, q0, piv, negPiv, one, ref c0);
                    q1 = SturmNext(di, ei, x1, q1, piv, negPiv, one, ref c1);
                    if (w == 1)
                    {
                        q2 = SturmNext(di, ei, x2, q2, piv, negPiv, one, ref c2);
                        q3 = SturmNext(di, ei, x3, q3, piv, negPiv, one, ref c3);
                        q4 = SturmNext(di, ei, x4, q4, piv, negPiv, one, ref c4);
                        q5 = SturmNext(di, ei, x5, q5, piv, negPiv, one, ref c5);
                        q6 = SturmNext(di, ei, x6, q6, piv, negPiv, one, ref c6);
                        q7 = SturmNext(di, ei, x7, q7, piv, negPiv, one, ref c7);
                    }
                }
                TVec.Store(c0, count);
                TVec.Store(c1, count + w);
                if (w == 1)
                {
                    TVec.Store(c2, count + 2);
                    TVec.Store(c3, count + 3);
                    TVec.Store(c4, count + 4);
                    TVec.Store(c5, count + 5);
                    TVec.Store(c6, count + 6);
                    TVec.Store(c7, count + 7);
                }
                for (int r = 0; r < Width; r++)
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
            for (int r = 0; r < Width && first + r < t; r++)
            {
                values[first + r] = 0.5 * (lo[r] + hi[r]);
            }
        }
    }

    // q = d_0 − x (a pivot below pivmin replaced by −pivmin), counted when negative.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SturmFirst<TVec>(TVec d0, TVec x, TVec piv, TVec negPiv, TVec one, ref TVec count)
        where TVec : struct, IDoubleVector<TVec>
    {
        TVec q = TVec.Sub(d0, x);
        q = TVec.SelectLess(TVec.Abs(q), piv, negPiv, q);
        count = TVec.SelectLess(q, TVec.Zero, TVec.Add(count, one), count);
        return q;
    }

    // q = (d_i − x) − e²_{i−1} / q (a pivot below pivmin replaced by −pivmin), counted when negative.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec SturmNext<TVec>(TVec di, TVec ei, TVec x, TVec q, TVec piv, TVec negPiv, TVec one, ref TVec count)
        where TVec : struct, IDoubleVector<TVec>
    {
        q = TVec.Sub(TVec.Sub(di, x), TVec.Div(ei, q));
        q = TVec.SelectLess(TVec.Abs(q), piv, negPiv, q);
        count = TVec.SelectLess(q, TVec.Zero, TVec.Add(count, one), count);
        return q;
    }

    /// <summary>
    /// Unit eigenvectors of the tridiagonal for the given eigenvalues (rows of <paramref name="rows"/>, length n each):
    /// inverse iteration with a pivoted LU of T − λI from a fixed pseudo-random start, each pass followed by
    /// modified Gram–Schmidt against the earlier vectors of its cluster (eigenvalues within ClusterGap·‖T‖).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void InverseIteration<TDouble>(double[] d, double[] e, int n, double[] values, double[] rows)
        where TDouble : struct, IDoubleVector<TDouble>
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
                    Axpy<TDouble>(-Dot<TDouble>(x, y), y, x);
                }
                double length = Math.Sqrt(Dot<TDouble>(x, x));
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
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BackTransform<TDouble>(double[] v, double[] tau, int n, double[] rows, int t)
        where TDouble : struct, IDoubleVector<TDouble>
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
                Axpy<TDouble>(-tk * Dot<TDouble>(vk, x), vk, x);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double Dot<TDouble>(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
        where TDouble : struct, IDoubleVector<TDouble>
    {
        int w = TDouble.Count, p = 0;
        double s;
        fixed (double* px = x, py = y)
        {
            TDouble acc = TDouble.Zero;
            for (; p <= x.Length - w; p += w)
            {
                acc = TDouble.Add(acc, TDouble.Mul(TDouble.Load(px + p), TDouble.Load(py + p)));
            }
            s = TDouble.Sum(acc);
        }
        for (; p < x.Length; p++)
        {
            s += x[p] * y[p];
        }
        return s;
    }

    // Returns row·x and adds alpha·row to y, in one pass over row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double DotAxpy<TDouble>(ReadOnlySpan<double> row, ReadOnlySpan<double> x, double alpha, Span<double> y)
        where TDouble : struct, IDoubleVector<TDouble>
    {
        if (TDouble.Count > 4 && row.Length < TDouble.Count)
        {
            // A row shorter than the tier's width still takes the 4-wide form (as it always did).
            return DotAxpy<Double256>(row, x, alpha, y);
        }
        int w = TDouble.Count, p = 0;
        double s;
        fixed (double* pr = row, px = x, py = y)
        {
            TDouble acc = TDouble.Zero, va = TDouble.Splat(alpha);
            for (; p <= row.Length - w; p += w)
            {
                TDouble r = TDouble.Load(pr + p);
                acc = TDouble.Add(acc, TDouble.Mul(r, TDouble.Load(px + p)));
                TDouble.Store(TDouble.Add(TDouble.Load(py + p), TDouble.Mul(va, r)), py + p);
            }
            s = TDouble.Sum(acc);
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
    private static unsafe void Axpy<TDouble>(double alpha, ReadOnlySpan<double> x, Span<double> y)
        where TDouble : struct, IDoubleVector<TDouble>
    {
        int w = TDouble.Count, p = 0;
        fixed (double* px = x, py = y)
        {
            TDouble va = TDouble.Splat(alpha);
            for (; p <= x.Length - w; p += w)
            {
                TDouble.Store(TDouble.Add(TDouble.Load(py + p), TDouble.Mul(va, TDouble.Load(px + p))), py + p);
            }
            if (w > 4)
            {
                Double256 v4 = Double256.Splat(alpha);
                for (; p <= x.Length - 4; p += 4)
                {
                    Double256.Store(Double256.Add(Double256.Load(py + p), Double256.Mul(v4, Double256.Load(px + p))), py + p);
                }
            }
        }
        for (; p < x.Length; p++)
        {
            y[p] += alpha * x[p];
        }
    }

    // row −= a·x + b·y, as (row − a·x) − b·y per element
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rank2<TDouble>(Span<double> row, double a, ReadOnlySpan<double> x, double b, ReadOnlySpan<double> y)
        where TDouble : struct, IDoubleVector<TDouble>
    {
        int w = TDouble.Count, p = 0;
        fixed (double* pr = row, px = x, py = y)
        {
            TDouble va = TDouble.Splat(a), vb = TDouble.Splat(b);
            for (; p <= row.Length - w; p += w)
            {
                TDouble.Store(TDouble.Sub(TDouble.Sub(TDouble.Load(pr + p), TDouble.Mul(va, TDouble.Load(px + p))), TDouble.Mul(vb, TDouble.Load(py + p))), pr + p);
            }
            if (w > 4)
            {
                // The 4-wide stage after the 8-wide one, so the vector form covers the same elements as it always did.
                Double256 a4 = Double256.Splat(a), b4 = Double256.Splat(b);
                for (; p <= row.Length - 4; p += 4)
                {
                    Double256.Store(Double256.Sub(Double256.Sub(Double256.Load(pr + p), Double256.Mul(a4, Double256.Load(px + p))), Double256.Mul(b4, Double256.Load(py + p))), pr + p);
                }
            }
        }
        for (; p < row.Length; p++)
        {
            row[p] -= a * x[p] + b * y[p];
        }
    }
}
