// The small dense algebra of whitening, on the host in float64: symmetric eigenpairs of
// ℓ×ℓ (or a small side's n×n) matrices (SymmetricEigensolver), transposes of thin
// matrices, the sign convention and a seeded Gaussian test matrix.

using System.Runtime.Intrinsics;
using Stair.Kernels.Cpu;

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

internal static class ThinAlgebra
{
    /// <summary>Tests: true/false forces the AVX-512 or Vector256 tiles of <see cref="CrossProduct"/> on this thread; null picks the widest.</summary>
    [ThreadStatic]
    internal static bool? UseVector512;

    /// <summary>Tests: forces the scalar path of <see cref="CrossProduct"/> on this thread.</summary>
    [ThreadStatic]
    internal static bool ForceScalar;

    /// <summary>
    /// Aᵀ·B in float64 for tall row-major n × ℓa and n × ℓb float32 matrices (ℓa × ℓb result, row-major): the ℓ-sized
    /// Gram and cross products of subspace iteration. Register tiles of M (8 × 16 on AVX-512, 8 × 8 with Vector256)
    /// accumulate over the rows in order, reading both operands in their tall layout (no transposed copy), so every
    /// entry is a float64 sum in row order: any thread count gives the same bits, and the SIMD paths agree with the
    /// scalar one up to float64 rounding. <paramref name="symmetric"/>: compute the upper triangle and mirror it (for a
    /// result symmetric in exact arithmetic, such as QᵀGQ; implied when a and b are the same array).
    /// </summary>
    public static double[] CrossProduct(float[] a, int la, float[] b, int lb, int n, int threads, bool symmetric = false)
    {
        symmetric |= ReferenceEquals(a, b) && la == lb;
        var job = new CrossJob(a, la, b, lb, n, symmetric);
        // Below ~8 M multiply-adds (a few ms) a pool hand-off costs more than it saves.
        CpuWorkerPool.Shared.Run(job, (long)la * lb * n >= 8L << 20 ? Math.Max(1, threads) : 1);
        double[] m = job.Result;
        if (symmetric)
        {
            for (int i = 0; i < la; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    m[i * lb + j] = m[j * lb + i];
                }
            }
        }
        return m;
    }

    // One part per block of eight rows of M: its tiles over every chunk of input rows, so each entry's sum runs over
    // the rows in order whichever thread takes the part.
    private sealed class CrossJob : ParallelJob
    {
        private readonly float[] _a, _b;
        private readonly int _la, _lb, _n, _tileJ;
        private readonly bool _symmetric, _wide;

        public CrossJob(float[] a, int la, float[] b, int lb, int n, bool symmetric)
        {
            (_a, _la, _b, _lb, _n, _symmetric) = (a, la, b, lb, n, symmetric);
            Result = new double[la * lb];
            _wide = UseVector512 ?? Vector512.IsHardwareAccelerated;
            _tileJ = ForceScalar || (!_wide && !Vector256.IsHardwareAccelerated) ? int.MaxValue : _wide ? 16 : 8;
            PartCount = (la + 7) / 8;
        }

        public double[] Result { get; }

        public override void Execute(int part)
        {
            int i0 = part * 8, i1 = Math.Min(_la, i0 + 8);
            // Rows in chunks that stay in L2 while every tile of this block passes over them.
            int chunk = Math.Max(16, (96 << 10) / (4 * Math.Max(1, _la + _lb)));
            // Symmetric: only tiles reaching the upper triangle (the first may straddle the diagonal; its lower part is
            // overwritten by the mirror).
            int jStart = _symmetric && _tileJ != int.MaxValue ? i0 / _tileJ * _tileJ : _symmetric ? i0 : 0;
            for (int r0 = 0; r0 < _n; r0 += chunk)
            {
                int r1 = Math.Min(_n, r0 + chunk);
                int j0 = jStart;
                if (i1 - i0 == 8 && _tileJ != int.MaxValue)
                {
                    for (; j0 + _tileJ <= _lb; j0 += _tileJ)
                    {
                        if (_wide)
                        {
                            Tile512(_a, _la, _b, _lb, r0, r1, i0, j0, Result);
                        }
                        else
                        {
                            Tile256(_a, _la, _b, _lb, r0, r1, i0, j0, Result);
                        }
                    }
                }
                if (j0 < _lb)
                {
                    ScalarBlock(_a, _la, _b, _lb, r0, r1, i0, i1, j0, _lb, Result);
                }
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void ScalarBlock(float[] a, int la, float[] b, int lb, int r0, int r1, int i0, int i1, int j0, int j1, double[] m)
    {
        for (int r = r0; r < r1; r++)
        {
            int ar = r * la, br = r * lb;
            for (int i = i0; i < i1; i++)
            {
                double x = a[ar + i];
                Span<double> row = m.AsSpan(i * lb, j1);
                for (int j = j0; j < j1; j++)
                {
                    row[j] += x * b[br + j];
                }
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile512(float[] a, int la, float[] b, int lb, int r0, int r1, int i0, int j0, double[] m)
    {
        Span<double> o = m.AsSpan();
        int at = i0 * lb + j0;
        System.Runtime.Intrinsics.Vector512<double> c00 = Vector512.Create(o.Slice(at)), c01 = Vector512.Create(o.Slice((at) + 8));
        System.Runtime.Intrinsics.Vector512<double> c10 = Vector512.Create(o.Slice(at + 1 * lb)), c11 = Vector512.Create(o.Slice((at + 1 * lb) + 8));
        System.Runtime.Intrinsics.Vector512<double> c20 = Vector512.Create(o.Slice(at + 2 * lb)), c21 = Vector512.Create(o.Slice((at + 2 * lb) + 8));
        System.Runtime.Intrinsics.Vector512<double> c30 = Vector512.Create(o.Slice(at + 3 * lb)), c31 = Vector512.Create(o.Slice((at + 3 * lb) + 8));
        System.Runtime.Intrinsics.Vector512<double> c40 = Vector512.Create(o.Slice(at + 4 * lb)), c41 = Vector512.Create(o.Slice((at + 4 * lb) + 8));
        System.Runtime.Intrinsics.Vector512<double> c50 = Vector512.Create(o.Slice(at + 5 * lb)), c51 = Vector512.Create(o.Slice((at + 5 * lb) + 8));
        System.Runtime.Intrinsics.Vector512<double> c60 = Vector512.Create(o.Slice(at + 6 * lb)), c61 = Vector512.Create(o.Slice((at + 6 * lb) + 8));
        System.Runtime.Intrinsics.Vector512<double> c70 = Vector512.Create(o.Slice(at + 7 * lb)), c71 = Vector512.Create(o.Slice((at + 7 * lb) + 8));
        // Lane k of a's eight values, broadcast by a permute (one instruction instead of load, convert, broadcast).
        Vector512<long> k0 = Vector512.Create(0L), k1 = Vector512.Create(1L), k2 = Vector512.Create(2L), k3 = Vector512.Create(3L),
            k4 = Vector512.Create(4L), k5 = Vector512.Create(5L), k6 = Vector512.Create(6L), k7 = Vector512.Create(7L);
        fixed (float* pa = a, pb = b)
        {
            float* ar = pa + (long)r0 * la + i0, br = pb + (long)r0 * lb + j0;
            for (int r = r0; r < r1; r++, ar += la, br += lb)
            {
                (System.Runtime.Intrinsics.Vector512<double> lo, System.Runtime.Intrinsics.Vector512<double> hi) =
                    System.Runtime.Intrinsics.Vector512.Widen(System.Runtime.Intrinsics.Vector512.Load(br));
                System.Runtime.Intrinsics.Vector512<double> x;
                Vector512<double> av = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Double(Vector256.Load(ar));
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k0); c00 = Vector512.FusedMultiplyAdd(x, lo, c00); c01 = Vector512.FusedMultiplyAdd(x, hi, c01);
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k1); c10 = Vector512.FusedMultiplyAdd(x, lo, c10); c11 = Vector512.FusedMultiplyAdd(x, hi, c11);
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k2); c20 = Vector512.FusedMultiplyAdd(x, lo, c20); c21 = Vector512.FusedMultiplyAdd(x, hi, c21);
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k3); c30 = Vector512.FusedMultiplyAdd(x, lo, c30); c31 = Vector512.FusedMultiplyAdd(x, hi, c31);
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k4); c40 = Vector512.FusedMultiplyAdd(x, lo, c40); c41 = Vector512.FusedMultiplyAdd(x, hi, c41);
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k5); c50 = Vector512.FusedMultiplyAdd(x, lo, c50); c51 = Vector512.FusedMultiplyAdd(x, hi, c51);
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k6); c60 = Vector512.FusedMultiplyAdd(x, lo, c60); c61 = Vector512.FusedMultiplyAdd(x, hi, c61);
                x = System.Runtime.Intrinsics.X86.Avx512F.PermuteVar8x64(av, k7); c70 = Vector512.FusedMultiplyAdd(x, lo, c70); c71 = Vector512.FusedMultiplyAdd(x, hi, c71);
            }
        }
        c00.CopyTo(o.Slice(at)); c01.CopyTo(o.Slice(at + 8)); at += lb;
        c10.CopyTo(o.Slice(at)); c11.CopyTo(o.Slice(at + 8)); at += lb;
        c20.CopyTo(o.Slice(at)); c21.CopyTo(o.Slice(at + 8)); at += lb;
        c30.CopyTo(o.Slice(at)); c31.CopyTo(o.Slice(at + 8)); at += lb;
        c40.CopyTo(o.Slice(at)); c41.CopyTo(o.Slice(at + 8)); at += lb;
        c50.CopyTo(o.Slice(at)); c51.CopyTo(o.Slice(at + 8)); at += lb;
        c60.CopyTo(o.Slice(at)); c61.CopyTo(o.Slice(at + 8)); at += lb;
        c70.CopyTo(o.Slice(at)); c71.CopyTo(o.Slice(at + 8));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile256(float[] a, int la, float[] b, int lb, int r0, int r1, int i0, int j0, double[] m)
    {
        Span<double> o = m.AsSpan();
        int at = i0 * lb + j0;
        System.Runtime.Intrinsics.Vector256<double> c00 = Vector256.Create(o.Slice(at)), c01 = Vector256.Create(o.Slice((at) + 4));
        System.Runtime.Intrinsics.Vector256<double> c10 = Vector256.Create(o.Slice(at + 1 * lb)), c11 = Vector256.Create(o.Slice((at + 1 * lb) + 4));
        System.Runtime.Intrinsics.Vector256<double> c20 = Vector256.Create(o.Slice(at + 2 * lb)), c21 = Vector256.Create(o.Slice((at + 2 * lb) + 4));
        System.Runtime.Intrinsics.Vector256<double> c30 = Vector256.Create(o.Slice(at + 3 * lb)), c31 = Vector256.Create(o.Slice((at + 3 * lb) + 4));
        System.Runtime.Intrinsics.Vector256<double> c40 = Vector256.Create(o.Slice(at + 4 * lb)), c41 = Vector256.Create(o.Slice((at + 4 * lb) + 4));
        System.Runtime.Intrinsics.Vector256<double> c50 = Vector256.Create(o.Slice(at + 5 * lb)), c51 = Vector256.Create(o.Slice((at + 5 * lb) + 4));
        System.Runtime.Intrinsics.Vector256<double> c60 = Vector256.Create(o.Slice(at + 6 * lb)), c61 = Vector256.Create(o.Slice((at + 6 * lb) + 4));
        System.Runtime.Intrinsics.Vector256<double> c70 = Vector256.Create(o.Slice(at + 7 * lb)), c71 = Vector256.Create(o.Slice((at + 7 * lb) + 4));
        fixed (float* pa = a, pb = b)
        {
            float* ar = pa + (long)r0 * la + i0, br = pb + (long)r0 * lb + j0;
            for (int r = r0; r < r1; r++, ar += la, br += lb)
            {
                (System.Runtime.Intrinsics.Vector256<double> lo, System.Runtime.Intrinsics.Vector256<double> hi) =
                    System.Runtime.Intrinsics.Vector256.Widen(System.Runtime.Intrinsics.Vector256.Load(br));
                System.Runtime.Intrinsics.Vector256<double> x;
                x = Vector256.Create((double)ar[0]); c00 = Vector256.FusedMultiplyAdd(x, lo, c00); c01 = Vector256.FusedMultiplyAdd(x, hi, c01);
                x = Vector256.Create((double)ar[1]); c10 = Vector256.FusedMultiplyAdd(x, lo, c10); c11 = Vector256.FusedMultiplyAdd(x, hi, c11);
                x = Vector256.Create((double)ar[2]); c20 = Vector256.FusedMultiplyAdd(x, lo, c20); c21 = Vector256.FusedMultiplyAdd(x, hi, c21);
                x = Vector256.Create((double)ar[3]); c30 = Vector256.FusedMultiplyAdd(x, lo, c30); c31 = Vector256.FusedMultiplyAdd(x, hi, c31);
                x = Vector256.Create((double)ar[4]); c40 = Vector256.FusedMultiplyAdd(x, lo, c40); c41 = Vector256.FusedMultiplyAdd(x, hi, c41);
                x = Vector256.Create((double)ar[5]); c50 = Vector256.FusedMultiplyAdd(x, lo, c50); c51 = Vector256.FusedMultiplyAdd(x, hi, c51);
                x = Vector256.Create((double)ar[6]); c60 = Vector256.FusedMultiplyAdd(x, lo, c60); c61 = Vector256.FusedMultiplyAdd(x, hi, c61);
                x = Vector256.Create((double)ar[7]); c70 = Vector256.FusedMultiplyAdd(x, lo, c70); c71 = Vector256.FusedMultiplyAdd(x, hi, c71);
            }
        }
        c00.CopyTo(o.Slice(at)); c01.CopyTo(o.Slice(at + 4)); at += lb;
        c10.CopyTo(o.Slice(at)); c11.CopyTo(o.Slice(at + 4)); at += lb;
        c20.CopyTo(o.Slice(at)); c21.CopyTo(o.Slice(at + 4)); at += lb;
        c30.CopyTo(o.Slice(at)); c31.CopyTo(o.Slice(at + 4)); at += lb;
        c40.CopyTo(o.Slice(at)); c41.CopyTo(o.Slice(at + 4)); at += lb;
        c50.CopyTo(o.Slice(at)); c51.CopyTo(o.Slice(at + 4)); at += lb;
        c60.CopyTo(o.Slice(at)); c61.CopyTo(o.Slice(at + 4)); at += lb;
        c70.CopyTo(o.Slice(at)); c71.CopyTo(o.Slice(at + 4));
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
