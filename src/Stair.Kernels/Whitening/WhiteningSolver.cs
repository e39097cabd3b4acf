// The factorization behind Whitening: the top-t left singular vectors (as rows) and the
// singular values of one column-centered modality. Large products go to the device's
// shared NT product; only ℓ×ℓ eigenproblems, thin transposes and norms run on the host.
namespace Stair.Kernels.WhiteningCore;

internal sealed class WhiteningSolver(WhiteningDevice device, WhiteningOptions options)
{
    /// <summary>Sides up to this size get a dense float64 eigensolver on the whole Gram matrix (see kernels.md, "Whitening").</summary>
    internal static int DenseEigenLimit = 96;

    /// <summary>Block subspace iteration stops when every wanted Ritz pair has ‖Gv − θv‖ ≤ this × θ_1.</summary>
    internal const double ResidualTolerance = 1e-5;

    /// <summary>Upper bound on block iterations (a safety net: the tolerance is normally met far earlier).</summary>
    internal const int MaxEigenIterations = 300;

    /// <summary>Eigenvalues of a Gram matrix below this fraction of the largest are directions of rounding, not data.</summary>
    private const double DependentDirection = 1e-10;

    /// <summary>Iterations the last block eigen-solve took (0 for the dense solver): for benchmarks and tests.</summary>
    internal int LastIterations { get; private set; }

    /// <summary>Left singular vectors u_1 … u_t (t × items, row-major) and σ_1 ≥ … ≥ σ_t, t ≤ min(d, items, columns).</summary>
    public (double[] URows, double[] Sigma) Factor(ReadOnlyMemory<float> features, int items, int columns)
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
        using DenseOperand rows = device.Upload(HostDense.Transpose(tall, n, l), l, n);
        return device.Product(big, rows);
    }

    private (double[] URows, double[] Sigma) Exact(DenseOperand xc, DenseOperand xt, int t)
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
        // Feature side: X_c·v_j = σ_j u_j. Item side: X_cᵀ·u_j = σ_j v_j (its norm is σ_j).
        using DenseOperand p = Apply(featureSide ? xc : xt, v, k);
        float[] ph = device.Download(p);
        int pr = p.Rows;
        var sigma = new double[k];
        var u = new double[(long)k * items];
        for (int j = 0; j < k; j++)
        {
            sigma[j] = ColumnNorm(ph, pr, k, j);
            double scale = sigma[j] > 0 ? 1.0 / sigma[j] : 0.0;
            for (int i = 0; i < items; i++)
            {
                u[(long)j * items + i] = featureSide ? ph[i * k + j] * scale : v[i * k + j];
            }
        }
        if (!featureSide)
        {
            Renormalize(u, k, items);
        }
        return SortBySigma(u, sigma, items);
    }

    private (double[] URows, double[] Sigma) Randomized(DenseOperand xc, DenseOperand xt, int t)
    {
        int items = xc.Rows, columns = xc.Columns;
        int width = Math.Min(t + options.Oversampling, Math.Min(items, columns));
        DenseOperand y;
        using (DenseOperand omega = device.Upload(HostDense.Gaussian(width, columns, options.Seed), width, columns))
        {
            y = device.Product(xc, omega);                          // X_c·Ω: items × ℓ
        }
        (float[] q, int l) = Orthonormalize(y, passes: options.PowerIterations > 0 ? 1 : 2);
        for (int pass = 0; pass < options.PowerIterations && l > 0; pass++)
        {
            (float[] z, int lz) = Orthonormalize(Apply(xt, q, l), passes: 1);  // X_cᵀ·Q: columns × ℓ
            if (lz == 0)
            {
                l = 0;
                break;
            }
            (q, l) = Orthonormalize(Apply(xc, z, lz), passes: pass + 1 < options.PowerIterations ? 1 : 2);   // X_c·Z: items × ℓ
        }
        if (l == 0)
        {
            return ([], []);
        }
        // Bᵀ = X_cᵀ·Q (columns × ℓ); BᵀB... = W Θ Wᵀ; u_j = Q·w_j; σ_j = ‖X_cᵀ u_j‖ = ‖Bᵀ w_j‖ (a norm, not √θ_j:
        // it keeps float32 accuracy for small σ where the squared Gram would lose it).
        float[] bt;
        using (DenseOperand b = Apply(xt, q, l))
        {
            bt = device.Download(b).AsSpan(0, columns * l).ToArray();
        }
        double[] m = ThinAlgebra.CrossProduct(bt, l, bt, l, columns, Threads);
        (double[] _, double[] w) = HostDense.SymmetricEigen(m, l);
        int k = Math.Min(t, l);
        float[] wk = ToFloat(w.AsSpan(0, k * l));
        using DenseOperand rotation = device.Upload(wk, k, l);
        using DenseOperand qTall = device.Upload(q, items, l);
        using DenseOperand bTall = device.Upload(bt, columns, l);
        using DenseOperand uTall = device.Product(qTall, rotation);
        using DenseOperand sTall = device.Product(bTall, rotation);
        float[] uh = device.Download(uTall), sh = device.Download(sTall);
        var u = new double[(long)k * items];
        var sigma = new double[k];
        for (int j = 0; j < k; j++)
        {
            sigma[j] = ColumnNorm(sh, columns, k, j);
            for (int i = 0; i < items; i++)
            {
                u[(long)j * items + i] = uh[i * k + j];
            }
        }
        Renormalize(u, k, items);
        return SortBySigma(u, sigma, items);
    }

    private int Threads => device is CpuWhiteningDevice cpu ? cpu.Threads : Environment.ProcessorCount;

    // The top-t eigenvectors (tall n × k) of the symmetric n × n matrix g: dense solver for small n, else block
    // subspace iteration with Rayleigh–Ritz each step, to a residual of ResidualTolerance·θ_1.
    private (float[] Tall, int K) TopEigenvectors(DenseOperand g, int n, int t)
    {
        LastIterations = 0;
        if (n <= DenseEigenLimit)
        {
            (double[] _, double[] rows) = HostDense.SymmetricEigen(device.Download(g), n);
            return (HostDense.Transpose(ToFloat(rows.AsSpan(0, t * n)), t, n), t);
        }
        int width = Math.Min(n, t + Math.Max(16, t / 4));
        float[] q;
        int l;
        using (DenseOperand start = device.Upload(HostDense.Gaussian(width, n, options.Seed), width, n))
        {
            (q, l) = Orthonormalize(device.Product(g, start));
        }
        while (true)
        {
            LastIterations++;
            float[] y;
            using (DenseOperand yo = Apply(g, q, l))               // G·Q (n × ℓ)
            {
                y = device.Download(yo).AsSpan(0, n * l).ToArray();
            }
            double[] h = ThinAlgebra.CrossProduct(q, l, y, l, n, Threads);   // Qᵀ G Q
            (double[] theta, double[] w) = HostDense.SymmetricEigen(h, l);
            using DenseOperand rotation = device.Upload(ToFloat(w), l, l);
            float[] ritz, gRitz;
            using (DenseOperand qo = device.Upload(q, n, l))
            using (DenseOperand r = device.Product(qo, rotation))
            {
                ritz = device.Download(r).AsSpan(0, n * l).ToArray();
            }
            DenseOperand gr;
            using (DenseOperand yo = device.Upload(y, n, l))
            {
                gr = device.Product(yo, rotation);
            }
            gRitz = device.Download(gr);
            int k = Math.Min(t, l);
            double worst = 0;
            for (int j = 0; j < k; j++)
            {
                double sum = 0;
                for (int c = 0; c < n; c++)
                {
                    double res = gRitz[c * l + j] - theta[j] * ritz[c * l + j];
                    sum += res * res;
                }
                worst = Math.Max(worst, Math.Sqrt(sum));
            }
            if (theta[0] <= 0 || worst <= ResidualTolerance * theta[0] || LastIterations >= MaxEigenIterations)
            {
                gr.Dispose();
                var result = new float[n * k];
                for (int c = 0; c < n; c++)
                {
                    ritz.AsSpan(c * l, k).CopyTo(result.AsSpan(c * k, k));
                }
                return (result, k);
            }
            (q, l) = Orthonormalize(gr);
        }
    }

    /// <summary>
    /// An orthonormal basis (tall n × k) of the column space of the tall <paramref name="y"/>, which it consumes:
    /// Y ← Y·(L⁻¹D^{-1/2})ᵀ from the Cholesky factor of the scaled float64 Gram YᵀY, twice by default (CholQR2: the
    /// second pass repairs what the first lost to rounding; between power passes one is enough, the next product
    /// only needs a well-conditioned basis of the same span). A column dependent on earlier ones (Cholesky pivot ≤ 1e-10 of
    /// its scaled norm²) is dropped, so k ≤ ℓ; k = 0 when Y is zero.
    /// </summary>
    internal (float[] Tall, int K) Orthonormalize(DenseOperand y, int passes = 2)
    {
        int n = y.Rows, l = y.Columns;
        float[] host = device.Download(y).AsSpan(0, n * l).ToArray();
        y.Dispose();
        for (int pass = 0; pass < passes && l > 0; pass++)
        {
            double[] m = ThinAlgebra.CrossProduct(host, l, host, l, n, Threads);
            float[] b = ThinAlgebra.CholeskyOrthonormalizer(m, l, DependentDirection, out int k);
            if (k == 0)
            {
                return ([], 0);
            }
            using DenseOperand current = device.Upload(host, n, l);
            using DenseOperand transform = device.Upload(b, k, l);
            using DenseOperand next = device.Product(current, transform);
            host = device.Download(next).AsSpan(0, n * k).ToArray();
            l = k;
        }
        return (host, l);
    }

    private static double ColumnNorm(float[] tall, int rows, int l, int j)
    {
        double sum = 0;
        for (int i = 0; i < rows; i++)
        {
            double v = tall[i * l + j];
            sum += v * v;
        }
        return Math.Sqrt(sum);
    }

    // Unit rows (a basis vector is unit length up to the float32 rounding of the products that made it).
    private static void Renormalize(double[] rows, int k, int n)
    {
        for (int j = 0; j < k; j++)
        {
            Span<double> r = rows.AsSpan(j * n, n);
            double sum = 0;
            foreach (double v in r)
            {
                sum += v * v;
            }
            if (sum > 0)
            {
                double scale = 1.0 / Math.Sqrt(sum);
                for (int i = 0; i < n; i++)
                {
                    r[i] *= scale;
                }
            }
        }
    }

    private static (double[] URows, double[] Sigma) SortBySigma(double[] u, double[] sigma, int items)
    {
        int[] order = Enumerable.Range(0, sigma.Length).OrderByDescending(j => sigma[j]).ThenBy(j => j).ToArray();
        var us = new double[u.Length];
        var ss = new double[sigma.Length];
        for (int r = 0; r < order.Length; r++)
        {
            ss[r] = sigma[order[r]];
            u.AsSpan(order[r] * items, items).CopyTo(us.AsSpan(r * items, items));
        }
        return (us, ss);
    }

    private static double Norm(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (float x in v)
        {
            sum += (double)x * x;
        }
        return Math.Sqrt(sum);
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
