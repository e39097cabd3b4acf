// Host-side matrix operations of whitening: symmetric eigenpairs of ℓ×ℓ (or a small side's
// n×n) matrices in float64 (SymmetricEigensolver, with the caller's SIMD tier), transposes of
// thin float32 matrices, the sign convention and a seeded Gaussian test matrix. The thin
// products AᵀB are in ThinAlgebra.cs.


namespace Stair.Kernels.WhiteningAlgebra;

internal static class HostMatrixOps
{
    /// <summary>
    /// Eigenpairs of the symmetric n×n matrix <paramref name="a"/> (row-major; only its symmetric part is used),
    /// eigenvalues descending (ties by index), eigenvectors as the rows of an n×n row-major array.
    /// </summary>
    public static (double[] Values, double[] VectorRows) SymmetricEigen(ReadOnlySpan<float> a, int n, SimdTier tier)
    {
        var d = new double[n * n];
        for (int k = 0; k < d.Length; k++)
        {
            d[k] = a[k];
        }
        return SymmetricEigen(d, n, tier);
    }

    /// <inheritdoc cref="SymmetricEigen(ReadOnlySpan{float}, int, SimdTier)"/>
    public static (double[] Values, double[] VectorRows) SymmetricEigen(double[] a, int n, SimdTier tier) => SymmetricEigensolver.Top(a, n, n, tier);

    /// <summary>The <paramref name="t"/> largest eigenpairs (values descending, vectors as t rows of length n) of the symmetric part of <paramref name="a"/>.</summary>
    public static (double[] Values, double[] VectorRows) SymmetricEigen(double[] a, int n, int t, SimdTier tier) => SymmetricEigensolver.Top(a, n, t, tier);

    /// <summary>The transpose of a rows × columns row-major matrix.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static unsafe float[] Transpose(ReadOnlySpan<float> a, int rows, int columns, float[]? into = null)
    {
        long length = (long)rows * columns;
        if (a.Length < length)
        {
            throw new ArgumentException($"Need {length} values for a {rows} × {columns} matrix.", nameof(a));
        }
        float[] t = into ?? new float[length];
        if (t.Length < length)
        {
            throw new ArgumentException($"The output holds {t.Length} values, fewer than {length}.", nameof(into));
        }
        const int Tile = 32;
        fixed (float* pa = a, pt = t)
        {
            for (int i0 = 0; i0 < rows; i0 += Tile)
            {
                int i1 = Math.Min(rows, i0 + Tile);
                for (int j0 = 0; j0 < columns; j0 += Tile)
                {
                    int j1 = Math.Min(columns, j0 + Tile);
                    for (int i = i0; i < i1; i++)
                    {
                        float* from = pa + (long)i * columns;
                        float* to = pt + i;
                        for (int j = j0; j < j1; j++)
                        {
                            to[(long)j * rows] = from[j];
                        }
                    }
                }
            }
        }
        return t;
    }

    /// <summary>
    /// r = α·a + β·b + γ·c element by element, in float32 as ((α·a + β·b) + γ·c) (c may be empty when γ = 0): the
    /// three-term step of the Chebyshev filter. Element-wise IEEE operations, so any vector width gives the same bits.
    /// </summary>
    public static void Combine(ReadOnlySpan<float> a, float alpha, ReadOnlySpan<float> b, float beta, ReadOnlySpan<float> c, float gamma, Span<float> r)
    {
        int length = r.Length;
        bool third = gamma != 0;
        if (a.Length < length || b.Length < length || (third && c.Length < length))
        {
            throw new ArgumentException($"Need {length} values in every operand.");
        }
        int w = System.Numerics.Vector<float>.Count, p = 0;
        var va = new System.Numerics.Vector<float>(alpha);
        var vb = new System.Numerics.Vector<float>(beta);
        var vc = new System.Numerics.Vector<float>(gamma);
        if (third)
        {
            for (; p <= length - w; p += w)
            {
                var s = new System.Numerics.Vector<float>(a[p..]) * va + new System.Numerics.Vector<float>(b[p..]) * vb;
                (s + new System.Numerics.Vector<float>(c[p..]) * vc).CopyTo(r[p..]);
            }
            for (; p < length; p++)
            {
                r[p] = a[p] * alpha + b[p] * beta + c[p] * gamma;
            }
            return;
        }
        for (; p <= length - w; p += w)
        {
            (new System.Numerics.Vector<float>(a[p..]) * va + new System.Numerics.Vector<float>(b[p..]) * vb).CopyTo(r[p..]);
        }
        for (; p < length; p++)
        {
            r[p] = a[p] * alpha + b[p] * beta;
        }
    }

    private static Tuple<int, int, ulong, float[]>? _lastGaussian;

    /// <summary>
    /// <see cref="Gaussian"/> for read-only use, kept from the previous call with the same shape and seed (a
    /// 96 × 4,096 test matrix costs ~8 ms of logarithms and cosines per whitening call otherwise).
    /// </summary>
    public static float[] SharedGaussian(int rows, int columns, ulong seed)
    {
        Tuple<int, int, ulong, float[]>? last = Volatile.Read(ref _lastGaussian);
        if (last is not null && last.Item1 == rows && last.Item2 == columns && last.Item3 == seed)
        {
            return last.Item4;
        }
        float[] g = Gaussian(rows, columns, seed);
        Volatile.Write(ref _lastGaussian, Tuple.Create(rows, columns, seed, g));
        return g;
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
