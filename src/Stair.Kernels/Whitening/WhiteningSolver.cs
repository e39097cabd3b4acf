// The factorization behind Whitening: the top-t left singular vectors (as the columns of a tall
// items × k float32 matrix with a float64 scale per column) and the singular values of one
// column-centered modality. Large products go to the device's shared NT product; only ℓ×ℓ
// eigenproblems, thin transposes and norms run on the host. Thin matrices stay device operands
// (on the CPU: pooled host arrays) from product to product, so no call copies or allocates an
// items × ℓ array beyond the pooled ones.
using System.Runtime.CompilerServices;

namespace Stair.Kernels.WhiteningAlgebra;

/// <summary>
/// u_j = Tall[:, j]·Scale[j] (Tall is Rows × K row-major, possibly a longer pooled array) with singular value
/// Sigma[j]; columns come in no particular order. Dispose returns the storage.
/// </summary>
internal readonly record struct Factorization(DenseOperand? Owner, float[] Tall, int Rows, int K, double[] Sigma, double[] Scale) : IDisposable
{
    public static Factorization Empty(int rows) => new(null, [], rows, 0, [], []);

    public void Dispose() => Owner?.Dispose();
}

internal sealed class WhiteningSolver(WhiteningDevice device, WhiteningOptions options)
{
    /// <summary>
    /// Sides up to this size get the dense float64 eigensolver (<see cref="SymmetricEigensolver"/>) on the whole Gram
    /// matrix; larger ones Chebyshev-filtered block subspace iteration (see kernels.md, "Whitening", for the measured crossover).
    /// </summary>
    internal static int DenseEigenLimit => _denseEigenLimitOverride > 0 ? _denseEigenLimitOverride : DefaultDenseEigenLimit;

    internal const int DefaultDenseEigenLimit = 768;

    // Tests force the block iteration on small sides; per thread, so parallel test classes never see it.
    [ThreadStatic]
    private static int _denseEigenLimitOverride;

    /// <summary>Block subspace iteration steps taken on this thread so far (tests check which solver ran).</summary>
    [ThreadStatic]
    internal static int BlockStepsOnThread;

    /// <summary>Sets (n &gt; 0) or clears (0) the calling thread's override of <see cref="DenseEigenLimit"/>.</summary>
    internal static void OverrideDenseEigenLimit(int n) => _denseEigenLimitOverride = n;

    /// <summary>Block subspace iteration stops when every wanted Ritz pair has ‖Gv − θv‖ ≤ max(this × θ_j, <see cref="ResidualFloor"/> × θ_1).</summary>
    internal const double ResidualTolerance = 1e-4;

    /// <summary>What a float32 Gram product can resolve: about sixteen roundings of θ_1.</summary>
    internal const double ResidualFloor = 1e-6;

    /// <summary>Upper bound on Rayleigh–Ritz steps (a safety net; stagnation at the rounding floor also stops it).</summary>
    internal const int MaxEigenIterations = 100;

    /// <summary>Upper bound on products with the Gram matrix (the other safety net: the filter takes up to <see cref="MaxFilterDegree"/> per step).</summary>
    internal const int MaxEigenProducts = 200;

    /// <summary>
    /// The filter may raise the top Ritz direction at most this far above the damped ones (T_m(x_1)): the filtered
    /// block is float32, so a wanted column whose own direction ends far below its share of the top one loses digits.
    /// </summary>
    internal const double FilterGrowth = 1e4;

    /// <summary>Most products between two Rayleigh–Ritz steps.</summary>
    internal const int MaxFilterDegree = 16;

    /// <summary>Eigenvalues of a Gram matrix below this fraction of the largest are directions of rounding, not data.</summary>
    private const double DependentDirection = 1e-10;

    /// <summary>Iterations the last block eigen-solve took (0 for the dense solver): for benchmarks and tests.</summary>
    internal int LastIterations { get; private set; }

    /// <summary>Products with the n × n Gram matrix the last block eigen-solve took: for benchmarks and tests.</summary>
    internal int LastProducts { get; private set; }

    /// <summary>Left singular vectors and singular values of the centered features, t ≤ min(d, items, columns) of them.</summary>
    public Factorization Factor(ReadOnlyMemory<float> features, int items, int columns)
    {
        (DenseOperand xc, DenseOperand xt) = device.LoadCentered(features, items, columns);
        using (xc)
        using (xt)
        {
            int t = Math.Min(options.Dimension, Math.Min(items, columns));
            return options.Method == WhiteningMethod.Exact ? Exact(xc, xt, t) : Randomized(xc, xt, t);
        }
    }

    // Thin matrices are kept "tall" (n × ℓ, row-major), the shape the shared product makes fast: big·basisᵀ with
    // the big operand as A. A basis enters a product as B through its (ℓ × n) transpose.
    private DenseOperand Apply(DenseOperand big, float[] tall, int l)
    {
        int n = big.Columns;
        float[] buffer = System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, n * l));
        try
        {
            using DenseOperand rows = device.Upload(HostMatrixOps.Transpose(tall.AsSpan(0, n * l), n, l, buffer), l, n);
            return device.Product(big, rows);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private DenseOperand Apply(DenseOperand big, DenseOperand tall) => Apply(big, device.Download(tall), tall.Columns);

    private Factorization Exact(DenseOperand xc, DenseOperand xt, int t)
    {
        int items = xc.Rows, columns = xc.Columns;
        bool featureSide = columns <= items;
        int n = featureSide ? columns : items;
        float[] v;   // n × k tall: the top eigenvectors of the Gram matrix
        int k;
        using (DenseOperand g = featureSide ? device.Gram(xt) : device.Gram(xc))
        {
            (v, k) = TopEigenvectors(g, n, t);
        }
        if (k == 0)
        {
            return Factorization.Empty(items);
        }
        // Feature side: X_c·v_j = σ_j u_j. Item side: X_cᵀ·u_j = σ_j v_j (its norm is σ_j).
        DenseOperand p = Apply(featureSide ? xc : xt, v, k);
        float[] ph = device.Download(p);   // the operand's own array on the CPU; one copy from an accelerator
        double[] sigma = ColumnNorms(ph, p.Rows, k);
        if (featureSide)
        {
            var scale = new double[k];
            for (int j = 0; j < k; j++)
            {
                scale[j] = sigma[j] > 0 ? 1.0 / sigma[j] : 0.0;
            }
            return new Factorization(p, ph, items, k, sigma, scale);
        }
        p.Dispose();
        return new Factorization(null, v, items, k, sigma, InverseNorms(v, items, k));
    }

    private Factorization Randomized(DenseOperand xc, DenseOperand xt, int t)
    {
        int items = xc.Rows, columns = xc.Columns;
        int width = Math.Min(t + options.Oversampling, Math.Min(items, columns));
        DenseOperand y;
        using (DenseOperand omega = device.Upload(HostMatrixOps.SharedGaussian(width, columns, options.Seed), width, columns))
        {
            y = device.Product(xc, omega);                          // X_c·Ω: items × ℓ
        }
        (DenseOperand? q, int l) = Orthonormalize(y, passes: options.PowerIterations > 0 ? 1 : 2);
        for (int pass = 0; pass < options.PowerIterations && q is not null; pass++)
        {
            (DenseOperand? z, int _) = Orthonormalize(Apply(xt, q), passes: 1);   // X_cᵀ·Q: columns × ℓ
            q.Dispose();
            q = null;
            if (z is null)
            {
                break;
            }
            (q, l) = Orthonormalize(Apply(xc, z), passes: pass + 1 < options.PowerIterations ? 1 : 2);   // X_c·Z: items × ℓ
            z.Dispose();
        }
        if (q is null)
        {
            return Factorization.Empty(items);
        }
        // Bᵀ = X_cᵀ·Q (columns × ℓ); BᵀB... = W Θ Wᵀ; u_j = Q·w_j; σ_j = ‖X_cᵀ u_j‖ = ‖Bᵀ w_j‖ (a norm, not √θ_j:
        // it keeps float32 accuracy for small σ where the squared Gram would lose it).
        using (q)
        using (DenseOperand b = Apply(xt, q))
        {
            float[] bh = device.Download(b);
            double[] m = ThinAlgebra.TransposedProduct(bh, l, bh, l, columns, device.HostThreads, device.HostTier);
            int k = Math.Min(t, l);
            (double[] _, double[] w) = HostMatrixOps.SymmetricEigen(m, l, k, device.HostTier);
            using DenseOperand rotation = device.Upload(ToFloat(w.AsSpan(0, k * l)), k, l);
            DenseOperand u = device.Product(q, rotation);
            double[] sigma;
            using (DenseOperand s = device.Product(b, rotation))
            {
                sigma = ColumnNorms(device.Download(s), columns, k);
            }
            float[] uh = device.Download(u);
            return new Factorization(u, uh, items, k, sigma, InverseNorms(uh, items, k));
        }
    }


    // The top-t eigenvectors (tall n × k) of the symmetric n × n matrix g: dense solver for small n, else
    // Chebyshev-filtered block subspace iteration with Rayleigh–Ritz each step, to a residual of ResidualTolerance·θ_j.
    internal (float[] Tall, int K) TopEigenvectors(DenseOperand g, int n, int t)
    {
        LastIterations = 0;
        LastProducts = 0;
        if (n <= DenseEigenLimit)
        {
            float[] gh = device.Download(g);
            double[] gd = System.Buffers.ArrayPool<double>.Shared.Rent(n * n);
            try
            {
                for (int c = 0; c < n * n; c++)
                {
                    gd[c] = gh[c];
                }
                (double[] _, double[] rows) = SymmetricEigensolver.Top(gd, n, t, device.HostTier);
                return (HostMatrixOps.Transpose(ToFloat(rows.AsSpan(0, t * n)), t, n), t);
            }
            finally
            {
                System.Buffers.ArrayPool<double>.Shared.Return(gd);
            }
        }
        // Block ℓ = max(2t, t + 16), Rayleigh–Ritz, then a Chebyshev filter of the Ritz vectors (see Filter): pair j's
        // error outside the block shrinks by T_m((θ_j − c)/e) per m products instead of (θ_{ℓ+1}/θ_j)^m.
        int width = Math.Min(n, Math.Max(2 * t, t + 16));
        var history = new List<double>();
        DenseOperand? q;
        int l;
        using (DenseOperand start = device.Upload(HostMatrixOps.SharedGaussian(width, n, options.Seed), width, n))
        {
            (q, l) = Orthonormalize(device.Product(g, start));
            LastProducts++;
        }
        while (q is not null)
        {
            LastIterations++;
            DenseOperand y = Apply(g, q);                                        // G·Q (n × ℓ)
            LastProducts++;
            // Qᵀ G Q, symmetric in exact arithmetic: its upper triangle is computed and mirrored.
            double[] h = ThinAlgebra.TransposedProduct(device.Download(q), l, device.Download(y), l, n, device.HostThreads, device.HostTier, symmetric: true);
            (double[] theta, double[] w) = SymmetricEigensolver.Top(h, l, l, device.HostTier);
            DenseOperand ritz, gr;
            using (DenseOperand rotation = device.Upload(ToFloat(w), l, l))
            {
                ritz = device.Product(q, rotation);
                gr = device.Product(y, rotation);
            }
            q.Dispose();
            y.Dispose();
            int k = Math.Min(t, l);
            float[] rh = device.Download(ritz), gh = device.Download(gr);
            var sums = new double[k];
            for (int c = 0; c < n; c++)
            {
                for (int j = 0; j < k; j++)
                {
                    double res = gh[c * l + j] - theta[j] * rh[c * l + j];
                    sums[j] += res * res;
                }
            }
            double worst = 0;   // the largest residual in units of its pair's target
            var ratios = new double[k];
            for (int j = 0; j < k; j++)
            {
                double target = Math.Max(ResidualTolerance * Math.Abs(theta[j]), ResidualFloor * theta[0]);
                ratios[j] = Math.Sqrt(sums[j]) / target;
                worst = Math.Max(worst, ratios[j]);
            }
            history.Add(worst);
            // Stagnation: less than 5 % progress over three steps means rounding, not the iteration, limits it.
            bool stalled = history.Count > 3 && worst > 0.95 * history[^4];
            if (theta[0] <= 0 || worst <= 1 || stalled || LastIterations >= MaxEigenIterations || LastProducts >= MaxEigenProducts)
            {
                BlockStepsOnThread += LastIterations;
                gr.Dispose();
                var result = new float[n * k];
                for (int c = 0; c < n; c++)
                {
                    rh.AsSpan(c * l, k).CopyTo(result.AsSpan(c * k, k));
                }
                ritz.Dispose();
                return (result, k);
            }
            int degree = FilterDegree(theta, l, ratios);
            LastProducts += degree - 1;
            // The filtered Ritz vectors: nearly orthogonal columns (each ≈ p(θ_j)·v_j), so one scaled CholQR pass makes
            // them orthonormal.
            (q, l) = Orthonormalize(Filter(g, ritz, gr, theta[0], theta[l - 1], degree), passes: 1);
        }
        return ([], 0);
    }

    /// <summary>
    /// The Chebyshev filter's degree after a Rayleigh–Ritz step with Ritz values θ (descending, ℓ of them) and wanted
    /// pairs' residuals in units of their targets: the fewest degrees that would bring every wanted residual to its
    /// target (pair j shrinks by T_m(x_j), x_j = (θ_j − c)/e on the damped interval [0, θ_ℓ]), but no more than keeps
    /// the top pair's growth T_m(x_1) ≤ <see cref="FilterGrowth"/> and m ≤ <see cref="MaxFilterDegree"/>.
    /// </summary>
    internal static int FilterDegree(double[] theta, int l, double[] ratios)
    {
        double c = 0.5 * Math.Max(0, theta[l - 1]), e = c;
        if (!(e > 0) || !(theta[0] > theta[l - 1]))
        {
            return 1;
        }
        double top = (theta[0] - c) / e;
        int cap = (int)Math.Clamp(Math.Floor(Math.Acosh(FilterGrowth) / Math.Acosh(top)), 1, MaxFilterDegree);
        double need = 1;
        for (int j = 0; j < ratios.Length; j++)
        {
            if (ratios[j] > 1)
            {
                double x = (theta[j] - c) / e;
                need = Math.Max(need, x > 1 ? Math.Ceiling(Math.Acosh(ratios[j]) / Math.Acosh(x)) : double.PositiveInfinity);
            }
        }
        return (int)Math.Min(cap, need);
    }

    /// <summary>
    /// p_m(G)·X for the Ritz vectors X (tall n × ℓ) with G·X already at hand (<paramref name="gx"/>), consuming both:
    /// p_m(λ) = T_m((λ − c)/e)/T_m((θ_1 − c)/e), the Chebyshev polynomial of the damped interval [0, θ_ℓ] (c = e = θ_ℓ/2;
    /// G is a Gram matrix, so 0 bounds its spectrum from below) scaled to 1 at the top Ritz value, by the scaled
    /// three-term recurrence (Zhou &amp; Saad 2007): σ_1 = e/(θ_1 − c), σ_{k+1} = 1/(2/σ_1 − σ_k),
    /// Y_{k+1} = (2σ_{k+1}/e)(G − c)Y_k − σ_kσ_{k+1}Y_{k−1}. Unwanted directions (λ ≤ θ_ℓ) end below 1/T_m(x_1) of the
    /// top one; m − 1 products with G. Degree 1 (or θ_ℓ ≤ 0) is the shifted power step (G − c)X/(θ_1 − c).
    /// </summary>
    private DenseOperand Filter(DenseOperand g, DenseOperand x, DenseOperand gx, double top, double edge, int degree)
    {
        double c = 0.5 * Math.Max(0, edge), e = c;
        DenseOperand current = device.Combine(gx, 1 / (top - c), x, -c / (top - c), null, 0);
        gx.Dispose();
        if (degree <= 1 || !(e > 0) || !(top > edge))
        {
            x.Dispose();
            return current;
        }
        double first = e / (top - c), sigma = first;
        DenseOperand previous = x;
        for (int step = 1; step < degree; step++)
        {
            double next = 1 / (2 / first - sigma);
            double alpha = 2 * next / e;
            DenseOperand product = Apply(g, current);
            DenseOperand following = device.Combine(product, alpha, current, -alpha * c, previous, -sigma * next);
            product.Dispose();
            previous.Dispose();
            previous = current;
            current = following;
            sigma = next;
        }
        previous.Dispose();
        return current;
    }

    /// <summary>
    /// An orthonormal basis (tall n × k) of the column space of the tall <paramref name="y"/>, which it consumes:
    /// Y ← Y·(L⁻¹D^{-1/2})ᵀ from the Cholesky factor of the scaled float64 Gram YᵀY, twice by default (CholQR2: the
    /// second pass repairs what the first lost to rounding; between power passes one is enough, the next product
    /// only needs a well-conditioned basis of the same span). A column dependent on earlier ones (Cholesky pivot ≤ 1e-10 of
    /// its scaled norm²) is dropped, so k ≤ ℓ; null (k = 0) when Y is zero.
    /// </summary>
    internal (DenseOperand? Basis, int K) Orthonormalize(DenseOperand y, int passes = 2)
    {
        int n = y.Rows, l = y.Columns;
        DenseOperand current = y;
        for (int pass = 0; pass < passes && l > 0; pass++)
        {
            float[] host = device.Download(current);
            double[] m = ThinAlgebra.TransposedProduct(host, l, host, l, n, device.HostThreads, device.HostTier);
            float[] b = ThinAlgebra.CholeskyOrthonormalizer(m, l, DependentDirection, out int k);
            if (k == 0)
            {
                current.Dispose();
                return (null, 0);
            }
            using DenseOperand transform = device.Upload(b, k, l);
            DenseOperand next = device.Product(current, transform);
            current.Dispose();
            current = next;
            l = k;
        }
        if (l == 0)
        {
            current.Dispose();
            return (null, 0);
        }
        return (current, l);
    }

    // ‖column j‖ of a rows × l tall matrix, all columns in one row-major pass.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double[] ColumnNorms(float[] tall, int rows, int l)
    {
        var sums = new double[l];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = tall.AsSpan(i * l, l);
            for (int j = 0; j < l; j++)
            {
                double v = row[j];
                sums[j] += v * v;
            }
        }
        for (int j = 0; j < l; j++)
        {
            sums[j] = Math.Sqrt(sums[j]);
        }
        return sums;
    }

    // 1/‖column‖ (0 for a zero column): a basis vector is unit length up to the float32 rounding of the products that made it.
    private static double[] InverseNorms(float[] tall, int rows, int l)
    {
        double[] norms = ColumnNorms(tall, rows, l);
        for (int j = 0; j < l; j++)
        {
            norms[j] = norms[j] > 0 ? 1.0 / norms[j] : 0.0;
        }
        return norms;
    }

    private static float[] ToFloat(ReadOnlySpan<double> v)
    {
        var f = new float[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            f[i] = (float)v[i];
        }
        return f;
    }
}
