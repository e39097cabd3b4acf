// The small dense algebra of whitening, on the host in float64: symmetric eigenpairs of
// ℓ×ℓ (or a small side's n×n) matrices through MathNet.Numerics, transposes of thin
// matrices, the sign convention and a seeded Gaussian test matrix.
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Stair.Kernels.WhiteningCore;

internal static class HostDense
{
    /// <summary>
    /// Eigenpairs of the symmetric n×n matrix <paramref name="a"/> (row-major; only its symmetric part is used),
    /// eigenvalues descending (ties by index), eigenvectors as the rows of an n×n row-major array.
    /// </summary>
    public static (double[] Values, double[] VectorRows) SymmetricEigen(ReadOnlySpan<float> a, int n)
    {
        var m = Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double v = 0.5 * ((double)a[i * n + j] + a[j * n + i]);
                m[i, j] = v;
                m[j, i] = v;
            }
        }
        Evd<double> evd = m.Evd(Symmetricity.Symmetric);
        var raw = new double[n];
        for (int i = 0; i < n; i++)
        {
            raw[i] = evd.EigenValues[i].Real;
        }
        int[] order = Enumerable.Range(0, n).OrderByDescending(i => raw[i]).ThenBy(i => i).ToArray();
        var values = new double[n];
        var rows = new double[n * n];
        Matrix<double> vectors = evd.EigenVectors;
        for (int r = 0; r < n; r++)
        {
            values[r] = raw[order[r]];
            for (int c = 0; c < n; c++)
            {
                rows[r * n + c] = vectors[c, order[r]];
            }
        }
        return (values, rows);
    }

    /// <summary>The transpose of a rows × columns row-major matrix.</summary>
    public static float[] Transpose(ReadOnlySpan<float> a, int rows, int columns)
    {
        var t = new float[a.Length];
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
