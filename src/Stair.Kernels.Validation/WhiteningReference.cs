// Float64 references for whitening: a full SVD (MathNet, float64) of the column-centered
// features, the whitened table with the library's sign and rank rules, and the principal
// angle between two column spaces (sign- and rotation-free comparison).
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Validation;

internal static class WhiteningReference
{
    /// <summary>U[:, :d]·√(I/d) (items × d, row-major, float64) with the library's sign and rank rules, the top
    /// singular values (length d, zero-padded) and the rank.</summary>
    public static (double[] W, double[] Sigma, int Rank) Whiten(ReadOnlySpan<float> x, int items, int columns, int d, double rankTolerance = 1e-4)
    {
        Matrix<double> xc = Matrix<double>.Build.Dense(items, columns);
        for (int c = 0; c < columns; c++)
        {
            double mean = 0;
            for (int i = 0; i < items; i++)
            {
                mean += x[i * columns + c];
            }
            mean /= items;
            for (int i = 0; i < items; i++)
            {
                xc[i, c] = x[i * columns + c] - mean;
            }
        }
        var svd = xc.Svd(computeVectors: true);
        int t = Math.Min(d, Math.Min(items, columns));
        var sigma = new double[d];
        for (int j = 0; j < t; j++)
        {
            sigma[j] = svd.S[j];
        }
        int limit = Math.Min(t, Math.Min(items - 1, columns));
        int rank = 0;
        while (rank < limit && sigma[0] > 0 && sigma[rank] > rankTolerance * sigma[0])
        {
            rank++;
        }
        var w = new double[items * d];
        double scale = Math.Sqrt((double)items / d);
        for (int j = 0; j < rank; j++)
        {
            double[] u = svd.U.Column(j).ToArray();
            int sign = HostMatrixOps.SignOf(u);
            for (int i = 0; i < items; i++)
            {
                w[i * d + j] = sign * u[i] * scale;
            }
        }
        return (w, sigma, rank);
    }

    /// <summary>
    /// sin of the largest principal angle between the spans of the first <paramref name="rank"/> columns of two
    /// items × d tables (each column set orthonormalized first): 0 for the same subspace, 1 when some direction of one
    /// is orthogonal to the other.
    /// </summary>
    public static double SubspaceSine(float[] a, double[] b, int items, int d, int rank)
    {
        if (rank == 0)
        {
            return 0;
        }
        Matrix<double> ma = Matrix<double>.Build.Dense(items, rank, (i, j) => a[i * d + j]);
        Matrix<double> mb = Matrix<double>.Build.Dense(items, rank, (i, j) => b[i * d + j]);
        Matrix<double> qa = ma.QR(QRMethod.Thin).Q;
        Matrix<double> qb = mb.QR(QRMethod.Thin).Q;
        double smallest = qa.TransposeThisAndMultiply(qb).Svd(computeVectors: false).S.Minimum();
        return Math.Sqrt(Math.Max(0, 1 - smallest * smallest));
    }
}
