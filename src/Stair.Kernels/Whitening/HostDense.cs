// The small dense algebra of whitening, on the host in float64: symmetric eigenpairs of
// ℓ×ℓ (or a small side's n×n) matrices (SymmetricEigensolver), transposes of thin
// matrices, the sign convention and a seeded Gaussian test matrix.

namespace Stair.Kernels.WhiteningCore;

internal static class HostDense
{
    /// <summary>
    /// Eigenpairs of the symmetric n×n matrix <paramref name="a"/> (row-major; only its symmetric part is used),
    /// eigenvalues descending (ties by index), eigenvectors as the rows of an n×n row-major array.
    /// </summary>
    public static (double[] Values, double[] VectorRows) SymmetricEigen(ReadOnlySpan<float> a, int n)
    {
        var d = new double[n * n];
        for (int k = 0; k < d.Length; k++)
        {
            d[k] = a[k];
        }
        return SymmetricEigen(d, n);
    }

    /// <inheritdoc cref="SymmetricEigen(ReadOnlySpan{float}, int)"/>
    public static (double[] Values, double[] VectorRows) SymmetricEigen(double[] a, int n) => SymmetricEigensolver.Top(a, n, n);

    /// <summary>The <paramref name="t"/> largest eigenpairs (values descending, vectors as t rows of length n) of the symmetric part of <paramref name="a"/>.</summary>
    public static (double[] Values, double[] VectorRows) SymmetricEigen(double[] a, int n, int t) => SymmetricEigensolver.Top(a, n, t);

    /// <summary>The transpose of a rows × columns row-major matrix.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float[] Transpose(ReadOnlySpan<float> a, int rows, int columns, float[]? into = null)
    {
        float[] t = into ?? new float[(long)rows * columns];
        const int Tile = 32;
        for (int i0 = 0; i0 < rows; i0 += Tile)
        {
            int i1 = Math.Min(rows, i0 + Tile);
            for (int j0 = 0; j0 < columns; j0 += Tile)
            {
                int j1 = Math.Min(columns, j0 + Tile);
                for (int i = i0; i < i1; i++)
                {
                    for (int j = j0; j < j1; j++)
                    {
                        t[(long)j * rows + i] = a[(int)((long)i * columns + j)];
                    }
                }
            }
        }
        return t;
    }

    /// <summary>Rows × columns standard normal values from a seeded SplitMix64 (Box–Muller), the same on every machine.</summary>
    public static float[] Gaussian(int rows, int columns, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var g = new float[(long)rows * columns];
        for (long k = 0; k < g.Length; k += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            g[k] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (k + 1 < g.Length)
            {
                g[k + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
            }
        }
        return g;
    }

    /// <summary>
    /// The sign convention: the entry of largest magnitude in a vector is made positive (on equal magnitudes
    /// the lowest index decides). Returns −1 when the vector must be flipped, else +1.
    /// </summary>
    public static int SignOf(ReadOnlySpan<double> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (Math.Abs(v[i]) > Math.Abs(v[best]))
            {
                best = i;
            }
        }
        return v.Length > 0 && v[best] < 0 ? -1 : 1;
    }
}

internal static class ThinAlgebra
{
    /// <summary>
    /// Aᵀ·B in float64 for tall row-major n × ℓa and n × ℓb matrices (ℓa × ℓb result, row-major): the ℓ-sized
    /// Gram and cross products of subspace iteration. Columns are converted to float64 rows first so each entry
    /// is one SIMD dot product in a fixed order (any thread count gives the same bits).
    /// </summary>
    // symmetric: compute only the upper triangle and mirror it (for a result symmetric in exact arithmetic, such as
    // QᵀGQ; implied when a and b are the same array).
    public static double[] CrossProduct(float[] a, int la, float[] b, int lb, int n, int threads, bool symmetric = false)
    {
        double[] ad = Columns(a, la, n);
        double[] bd = ReferenceEquals(a, b) ? ad : Columns(b, lb, n);
        try
        {
            return CrossProduct(ad, la, bd, lb, n, threads, symmetric || ReferenceEquals(a, b));
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(ad);
            if (!ReferenceEquals(ad, bd))
            {
                System.Buffers.ArrayPool<double>.Shared.Return(bd);
            }
        }
    }

    private static double[] CrossProduct(double[] ad, int la, double[] bd, int lb, int n, int threads, bool symmetric)
    {
        var m = new double[la * lb];
        // Small products (most of them: ℓ² × n with n a few thousand) stay on the caller's thread: a parallel loop's
        // start-up costs more than they do, and far more on a busy machine.
        int parallelism = (long)la * lb * n >= 16L << 20 ? Math.Max(1, threads) : 1;
        Parallel.For(0, la, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i =>
        {
            ReadOnlySpan<double> x = ad.AsSpan(i * n, n);
            for (int j = symmetric ? i : 0; j < lb; j++)
            {
                double v = Dot(x, bd.AsSpan(j * n, n));
                m[i * lb + j] = v;
                if (symmetric)
                {
                    m[j * lb + i] = v;
                }
            }
        });
        return m;
    }

    // Pooled (returned by CrossProduct): fresh multi-megabyte arrays page-fault on first touch.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double[] Columns(float[] a, int l, int n)
    {
        double[] d = System.Buffers.ArrayPool<double>.Shared.Rent(Math.Max(1, l * n));
        for (int c = 0; c < n; c++)
        {
            for (int j = 0; j < l; j++)
            {
                d[j * n + c] = a[c * l + j];
            }
        }
        return d;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int p = 0;
        double s = 0;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            var acc0 = System.Runtime.Intrinsics.Vector512<double>.Zero;
            var acc1 = System.Runtime.Intrinsics.Vector512<double>.Zero;
            for (; p <= x.Length - 16; p += 16)
            {
                acc0 += System.Runtime.Intrinsics.Vector512.Create(x.Slice(p, 8)) * System.Runtime.Intrinsics.Vector512.Create(y.Slice(p, 8));
                acc1 += System.Runtime.Intrinsics.Vector512.Create(x.Slice(p + 8, 8)) * System.Runtime.Intrinsics.Vector512.Create(y.Slice(p + 8, 8));
            }
            s = System.Runtime.Intrinsics.Vector512.Sum(acc0 + acc1);
        }
        else
        {
            var acc0 = System.Numerics.Vector<double>.Zero;
            var acc1 = System.Numerics.Vector<double>.Zero;
            int w = System.Numerics.Vector<double>.Count;
            for (; p <= x.Length - 2 * w; p += 2 * w)
            {
                acc0 += new System.Numerics.Vector<double>(x.Slice(p)) * new System.Numerics.Vector<double>(y.Slice(p));
                acc1 += new System.Numerics.Vector<double>(x.Slice(p + w)) * new System.Numerics.Vector<double>(y.Slice(p + w));
            }
            s = System.Numerics.Vector.Sum(acc0 + acc1);
        }
        for (; p < x.Length; p++)
        {
            s += x[p] * y[p];
        }
        return s;
    }

    /// <summary>
    /// The transform B (k × ℓ, row-major, float32) with Q = Y·Bᵀ orthonormal for the Gram M = YᵀY: B = L⁻¹·D^{-1/2}
    /// from the Cholesky factor of the unit-diagonal D^{-1/2} M D^{-1/2}. A column whose Cholesky pivot is at most
    /// <paramref name="dependent"/> of its own norm² (linearly dependent on earlier ones, or zero) is dropped, so k ≤ ℓ.
    /// </summary>
    public static float[] CholeskyOrthonormalizer(double[] m, int l, double dependent, out int k)
    {
        var scale = new double[l];
        for (int i = 0; i < l; i++)
        {
            scale[i] = m[i * l + i] > 0 ? 1.0 / Math.Sqrt(m[i * l + i]) : 0.0;
        }
        var lower = new double[l * l];
        var kept = new bool[l];
        for (int i = 0; i < l; i++)
        {
            if (scale[i] == 0)
            {
                continue;
            }
            for (int j = 0; j <= i; j++)
            {
                if (j < i && !kept[j])
                {
                    continue;
                }
                double s = m[i * l + j] * scale[i] * scale[j];
                for (int p = 0; p < j; p++)
                {
                    s -= lower[i * l + p] * lower[j * l + p];
                }
                if (j < i)
                {
                    lower[i * l + j] = s / lower[j * l + j];
                }
                else if (s > dependent)
                {
                    lower[i * l + i] = Math.Sqrt(s);
                    kept[i] = true;
                }
            }
            if (!kept[i])
            {
                lower.AsSpan(i * l, i).Clear();
            }
        }
        // Rows of L⁻¹ for the kept indices (forward substitution), then × D^{-1/2}.
        var inverse = new double[l * l];
        for (int i = 0; i < l; i++)
        {
            if (!kept[i])
            {
                continue;
            }
            inverse[i * l + i] = 1.0 / lower[i * l + i];
            for (int j = 0; j < i; j++)
            {
                if (!kept[j])
                {
                    continue;
                }
                double s = 0;
                for (int p = j; p < i; p++)
                {
                    s += lower[i * l + p] * inverse[p * l + j];
                }
                inverse[i * l + j] = -s / lower[i * l + i];
            }
        }
        k = kept.Count(x => x);
        var b = new float[k * l];
        int row = 0;
        for (int i = 0; i < l; i++)
        {
            if (!kept[i])
            {
                continue;
            }
            for (int j = 0; j <= i; j++)
            {
                b[row * l + j] = (float)(inverse[i * l + j] * scale[j]);
            }
            row++;
        }
        return b;
    }
}
