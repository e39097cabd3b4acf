// The factorization behind Whitening: the top-t left singular vectors (as rows) and the
// singular values of one column-centered modality. Large products go to the device's
// shared NT product; only ℓ×ℓ eigenproblems, thin transposes and norms run on the host.
namespace Stair.Kernels.WhiteningCore;

internal sealed class WhiteningSolver(WhiteningDevice device, WhiteningOptions options)
{
    /// <summary>Sides up to this size get a dense float64 eigensolver on the whole Gram matrix (see kernels.md, "Whitening").</summary>
    internal static int DenseEigenLimit = 1024;

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

    private (double[] URows, double[] Sigma) Exact(DenseOperand xc, DenseOperand xt, int t)
    {
        int items = xc.Rows, columns = xc.Columns;
        bool featureSide = columns <= items;
        double[] vectors;
        int n = featureSide ? columns : items;
        using (DenseOperand g = featureSide ? device.Gram(xt) : device.Gram(xc))
        {
            vectors = TopEigenvectors(g, n, t);
        }
        t = vectors.Length / n;
        using DenseOperand v = device.Upload(ToFloat(vectors), t, n);
        // Feature side: rows of V·X_cᵀ are (X_c v_j)ᵀ = σ_j u_jᵀ. Item side: rows of U·X_c are σ_j v_jᵀ.
        using DenseOperand p = device.Product(v, featureSide ? xc : xt);
        float[] ph = device.Download(p);
        var sigma = new double[t];
        var u = new double[(long)t * items];
        for (int j = 0; j < t; j++)
        {
            ReadOnlySpan<float> row = ph.AsSpan(j * p.Columns, p.Columns);
            sigma[j] = Norm(row);
            Span<double> uj = u.AsSpan(j * items, items);
            if (featureSide)
            {
                double scale = sigma[j] > 0 ? 1.0 / sigma[j] : 0.0;
                for (int i = 0; i < items; i++)
                {
                    uj[i] = row[i] * scale;
                }
            }
            else
            {
                vectors.AsSpan(j * items, items).CopyTo(uj);
            }
        }
        return SortBySigma(u, sigma, items);
    }

    private (double[] URows, double[] Sigma) Randomized(DenseOperand xc, DenseOperand xt, int t)
    {
        int items = xc.Rows, columns = xc.Columns;
        int width = Math.Min(t + options.Oversampling, Math.Min(items, columns));
        DenseOperand q;
        using (DenseOperand omega = device.Upload(HostDense.Gaussian(width, columns, options.Seed), width, columns))
        {
            q = Orthonormalize(device.Product(omega, xc));          // rows (X_c ω_i)ᵀ: the sketch of the range
        }
        for (int pass = 0; pass < options.PowerIterations; pass++)
        {
            DenseOperand z = Orthonormalize(device.Product(q, xt)); // rows (X_cᵀ q_i)ᵀ
            q.Dispose();
            q = Orthonormalize(device.Product(z, xc));              // rows (X_c z_i)ᵀ
            z.Dispose();
        }
        using (q)
        {
            if (q.Rows == 0)
            {
                return ([], []);
            }
            // B = Q·X_c (ℓ × F); B·Bᵀ = W Θ Wᵀ; u_j = Qᵀ w_j; σ_j = ‖u_jᵀ X_c‖ (not √θ_j: the norm keeps float32
            // accuracy for small σ where the squared Gram would lose it).
            using DenseOperand b = device.Product(q, xt);
            using DenseOperand m = device.Gram(b);
            (double[] _, double[] w) = HostDense.SymmetricEigen(device.Download(m), q.Rows);
            int k = Math.Min(t, q.Rows);
            using DenseOperand rotation = device.Upload(ToFloat(w.AsSpan(0, k * q.Rows)), k, q.Rows);
            using DenseOperand qT = device.Upload(HostDense.Transpose(device.Download(q), q.Rows, items), items, q.Rows);
            using DenseOperand bT = device.Upload(HostDense.Transpose(device.Download(b), b.Rows, columns), columns, b.Rows);
            using DenseOperand uRows = device.Product(rotation, qT);
            using DenseOperand sRows = device.Product(rotation, bT);
            float[] uh = device.Download(uRows), sh = device.Download(sRows);
            var u = new double[(long)k * items];
            var sigma = new double[k];
            for (int j = 0; j < k; j++)
            {
                sigma[j] = Norm(sh.AsSpan(j * columns, columns));
                ReadOnlySpan<float> row = uh.AsSpan(j * items, items);
                // Renormalize: Qᵀw_j is a unit vector up to float32 rounding of the rotation.
                double norm = Norm(row), scale = norm > 0 ? 1.0 / norm : 0.0;
                for (int i = 0; i < items; i++)
                {
                    u[(long)j * items + i] = row[i] * scale;
                }
            }
            return SortBySigma(u, sigma, items);
        }
    }

    // The top-t eigenvectors (rows, t × n) of the symmetric n × n matrix g: dense solver for small n, else block
    // subspace iteration with Rayleigh–Ritz each step, to a residual of ResidualTolerance·θ_1.
    private double[] TopEigenvectors(DenseOperand g, int n, int t)
    {
        LastIterations = 0;
        if (n <= DenseEigenLimit)
        {
            (double[] _, double[] rows) = HostDense.SymmetricEigen(device.Download(g), n);
            return rows.AsSpan(0, t * n).ToArray();
        }
        // Block width 2t (at least t + 16): convergence per step goes as θ_{ℓ+1}/θ_t.
        int width = Math.Min(n, Math.Max(2 * t, t + 16));
        DenseOperand q;
        using (DenseOperand start = device.Upload(HostDense.Gaussian(width, n, options.Seed), width, n))
        {
            q = Orthonormalize(device.Product(start, g));
        }
        try
        {
            while (true)
            {
                LastIterations++;
                int l = q.Rows;
                using DenseOperand y = device.Product(q, g);         // rows (G q_i)ᵀ (G is symmetric)
                using DenseOperand h = device.Product(q, y);         // q_iᵀ G q_j
                (double[] theta, double[] w) = HostDense.SymmetricEigen(device.Download(h), l);
                using DenseOperand rotation = device.Upload(ToFloat(w), l, l);
                using DenseOperand qT = device.Upload(HostDense.Transpose(device.Download(q), l, n), n, l);
                using DenseOperand yT = device.Upload(HostDense.Transpose(device.Download(y), l, n), n, l);
                using DenseOperand ritz = device.Product(rotation, qT);
                DenseOperand gRitz = device.Product(rotation, yT);
                float[] rh = device.Download(ritz), gh = device.Download(gRitz);
                int k = Math.Min(t, l);
                double worst = 0;
                for (int j = 0; j < k; j++)
                {
                    double sum = 0;
                    for (int c = 0; c < n; c++)
                    {
                        double r = gh[j * n + c] - theta[j] * rh[j * n + c];
                        sum += r * r;
                    }
                    worst = Math.Max(worst, Math.Sqrt(sum));
                }
                if (theta[0] <= 0 || worst <= ResidualTolerance * theta[0] || LastIterations >= MaxEigenIterations)
                {
                    gRitz.Dispose();
                    var result = new double[k * n];
                    for (int j = 0; j < k; j++)
                    {
                        ReadOnlySpan<float> row = rh.AsSpan(j * n, n);
                        double norm = Norm(row), scale = norm > 0 ? 1.0 / norm : 0.0;
                        for (int c = 0; c < n; c++)
                        {
                            result[j * n + c] = row[c] * scale;
                        }
                    }
                    return result;
                }
                q.Dispose();
                q = Orthonormalize(gRitz);
            }
        }
        finally
        {
            q.Dispose();
        }
    }

    /// <summary>
    /// An orthonormal basis (rows) of the row space of <paramref name="y"/>, which it consumes: rows scaled to unit
    /// length, then twice Y ← Λ^{-1/2}Wᵀ·Y from the eigenpairs of Y·Yᵀ (the second pass repairs the float32 loss of
    /// the first). Directions with eigenvalue ≤ 1e-10 of the largest (linearly dependent rows) are dropped.
    /// </summary>
    internal DenseOperand Orthonormalize(DenseOperand y)
    {
        int n = y.Columns;
        float[] host = device.Download(y).AsSpan(0, y.Rows * n).ToArray();
        int rows = y.Rows;
        y.Dispose();
        for (int i = 0; i < rows; i++)
        {
            Span<float> row = host.AsSpan(i * n, n);
            double norm = Norm(row);
            if (norm > 0)
            {
                float scale = (float)(1.0 / norm);
                for (int c = 0; c < n; c++)
                {
                    row[c] *= scale;
                }
            }
        }
        for (int pass = 0; pass < 2 && rows > 0; pass++)
        {
            float[] m;
            using (DenseOperand current = device.Upload(host, rows, n))
            using (DenseOperand gram = device.Gram(current))
            {
                m = device.Download(gram).AsSpan(0, rows * rows).ToArray();
            }
            (double[] lambda, double[] w) = HostDense.SymmetricEigen(m, rows);
            int keep = 0;
            while (keep < rows && lambda[0] > 0 && lambda[keep] > DependentDirection * lambda[0])
            {
                keep++;
            }
            var transform = new float[keep * rows];
            for (int i = 0; i < keep; i++)
            {
                double scale = 1.0 / Math.Sqrt(lambda[i]);
                for (int j = 0; j < rows; j++)
                {
                    transform[i * rows + j] = (float)(w[i * rows + j] * scale);
                }
            }
            if (keep == 0)
            {
                return device.Upload([], 0, n);
            }
            using DenseOperand tr = device.Upload(transform, keep, rows);
            using DenseOperand yT = device.Upload(HostDense.Transpose(host, rows, n), n, rows);
            using DenseOperand next = device.Product(tr, yT);
            host = device.Download(next).AsSpan(0, keep * n).ToArray();
            rows = keep;
        }
        return device.Upload(host, rows, n);
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
