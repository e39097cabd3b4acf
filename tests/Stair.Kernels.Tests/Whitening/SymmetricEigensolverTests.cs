// The dense top-t symmetric eigensolver of whitening against MathNet.Numerics' float64 EVD
// (the reference), on awkward sizes and spectra: 1×1, 2×2, zero, repeated eigenvalues,
// rank-deficient, n = 97 and 384, a Gram-like decaying spectrum.
using Stair.Kernels.Tests.Infrastructure;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Tests.Whitening;

public class SymmetricEigensolverTests
{
    private static double[] RandomSymmetric(int n, ulong seed)
    {
        float[] g = HostMatrixOps.Gaussian(n, n, seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                a[i * n + j] = g[i * n + j] + g[j * n + i];
            }
        }
        return a;
    }

    // Q·diag(λ)·Qᵀ with an orthogonal Q from MathNet's QR of a Gaussian matrix.
    internal static double[] WithSpectrum(double[] spectrum, ulong seed)
    {
        int n = spectrum.Length;
        float[] g = HostMatrixOps.Gaussian(n, n, seed);
        Matrix<double> q = Matrix<double>.Build.Dense(n, n, (i, j) => g[i * n + j]).QR().Q;
        Matrix<double> a = q * Matrix<double>.Build.DenseOfDiagonalArray(spectrum) * q.Transpose();
        var result = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                result[i * n + j] = a[i, j];
            }
        }
        return result;
    }

    private static double[] ReferenceValues(double[] a, int n)
    {
        Evd<double> evd = Matrix<double>.Build.Dense(n, n, (i, j) => a[i * n + j]).Evd(Symmetricity.Symmetric);
        return evd.EigenValues.Select(v => v.Real).OrderByDescending(v => v).ToArray();
    }

    // Checks values against MathNet, then what holds whatever the basis chosen inside a repeated eigenvalue:
    // ‖A v − λ v‖ small, unit length, mutual orthogonality. Tolerances: a backward-stable solver gives residuals
    // and value errors of a few hundred ε·‖A‖ at these sizes; 1e-10·‖A‖ leaves a wide margin and still fails on
    // any wrong vector (a residual of order ‖A‖) or a value off by one eigenvalue gap.
    private static void Check(double[] a, int n, int t)
    {
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            Check(a, n, t, tier);
        }
    }

    private static void Check(double[] a, int n, int t, SimdTier tier)
    {
        (double[] values, double[] rows) = SymmetricEigensolver.Top(a, n, t, tier);
        Assert.Equal(t, values.Length);
        Assert.Equal(t * n, rows.Length);
        double[] reference = ReferenceValues(a, n);
        double norm = Math.Max(1e-300, reference.Max(Math.Abs));
        double tolerance = 1e-10 * norm;
        for (int j = 0; j < t; j++)
        {
            Assert.True(Math.Abs(values[j] - reference[j]) <= tolerance, $"λ_{j}: {values[j]} vs {reference[j]}");
            if (j > 0)
            {
                Assert.True(values[j] <= values[j - 1], $"not descending at {j}");
            }
            double residual = 0;
            for (int i = 0; i < n; i++)
            {
                double s = -values[j] * rows[j * n + i];
                for (int c = 0; c < n; c++)
                {
                    s += a[i * n + c] * rows[j * n + c];
                }
                residual += s * s;
            }
            Assert.True(Math.Sqrt(residual) <= tolerance, $"residual of pair {j}: {Math.Sqrt(residual)} (‖A‖ {norm})");
            for (int r = 0; r <= j; r++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++)
                {
                    dot += rows[j * n + i] * rows[r * n + i];
                }
                Assert.True(Math.Abs(dot - (r == j ? 1 : 0)) <= 1e-10, $"⟨v_{j}, v_{r}⟩ = {dot}");
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(2, 1)]
    [InlineData(3, 3)]
    [InlineData(17, 5)]
    [InlineData(97, 97)]
    [InlineData(97, 64)]
    [InlineData(128, 96)]
    [InlineData(384, 64)]
    public void RandomSymmetricMatchesMathNet(int n, int t) => Check(RandomSymmetric(n, 100 + (ulong)n), n, t);

    [Fact]
    public void OneByOneAndTwoByTwo()
    {
        (double[] v1, double[] r1) = SymmetricEigensolver.Top([-3.5], 1, 1, SimdTiers.Best);
        Assert.Equal(-3.5, v1[0]);
        Assert.Equal(1.0, Math.Abs(r1[0]));
        // [[2, 1], [1, 2]]: 3 with (1, 1)/√2, then 1 with (1, −1)/√2.
        (double[] v2, double[] r2) = SymmetricEigensolver.Top([2, 1, 1, 2], 2, 2, SimdTiers.Best);
        Assert.Equal(3, v2[0], 12);
        Assert.Equal(1, v2[1], 12);
        Assert.Equal(r2[0], r2[1], 12);
        Assert.Equal(r2[2], -r2[3], 12);
        Check([0, 4, 4, 0], 2, 2);
        Check([5, 0, 0, -5], 2, 2);
    }

    [Fact]
    public void ZeroMatrixGivesAnOrthonormalBasis()
    {
        Check(new double[9 * 9], 9, 9);
        (double[] values, _) = SymmetricEigensolver.Top(new double[16], 4, 2, SimdTiers.Best);
        Assert.All(values, v => Assert.Equal(0, v));
    }

    [Fact]
    public void RepeatedEigenvalues()
    {
        // Identity (already diagonal: every off-diagonal is zero) and a rotated 3-fold eigenvalue among others.
        var identity = new double[40 * 40];
        for (int i = 0; i < 40; i++)
        {
            identity[i * 40 + i] = 2;
        }
        Check(identity, 40, 40);
        double[] spectrum = Enumerable.Range(0, 60).Select(i => i < 3 ? 7.0 : i < 20 ? 3.0 : 1.0 / (i + 1)).ToArray();
        Check(WithSpectrum(spectrum, 5), 60, 25);
        var diagonal = new double[30 * 30];
        for (int i = 0; i < 30; i++)
        {
            diagonal[i * 30 + i] = i % 3;
        }
        Check(diagonal, 30, 30);
    }

    [Fact]
    public void RankDeficientGram()
    {
        // G = XᵀX with X of rank 10 (50 × 80 features built from 10 factors): 70 zero eigenvalues.
        int n = 80, rank = 10, items = 50;
        float[] f = HostMatrixOps.Gaussian(items, rank, 3), b = HostMatrixOps.Gaussian(rank, n, 4);
        var x = new double[items * n];
        for (int i = 0; i < items; i++)
        {
            for (int k = 0; k < rank; k++)
            {
                for (int c = 0; c < n; c++)
                {
                    x[i * n + c] += (double)f[i * rank + k] * b[k * n + c];
                }
            }
        }
        var g = new double[n * n];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double s = 0;
                for (int i = 0; i < items; i++)
                {
                    s += x[i * n + r] * x[i * n + c];
                }
                g[r * n + c] = s;
            }
        }
        Check(g, n, 20);
        Check(g, n, n);
    }

    [Fact]
    public void DecayingGramSpectrum()
    {
        // Like a whitening Gram matrix: eigenvalues over six decades, pairs 1 % apart.
        double[] spectrum = Enumerable.Range(0, 200).Select(i => 1e4 * Math.Pow(i + 1, -1.4) * (i % 2 == 0 ? 1.0 : 0.99)).ToArray();
        Check(WithSpectrum(spectrum, 9), 200, 80);
    }

    [Fact]
    public void UsesOnlyTheSymmetricPart()
    {
        double[] a = RandomSymmetric(31, 7);
        double[] skewed = (double[])a.Clone();
        for (int i = 0; i < 31; i++)
        {
            for (int j = 0; j < i; j++)
            {
                skewed[i * 31 + j] += 0.25;
                skewed[j * 31 + i] -= 0.25;
            }
        }
        (double[] v1, double[] r1) = SymmetricEigensolver.Top(a, 31, 10, SimdTiers.Best);
        (double[] v2, double[] r2) = SymmetricEigensolver.Top(skewed, 31, 10, SimdTiers.Best);
        // The same matrix up to the rounding of the symmetrization (a few ε).
        for (int j = 0; j < 10; j++)
        {
            Assert.Equal(v1[j], v2[j], 1e-12);
            double dot = 0;
            for (int i = 0; i < 31; i++)
            {
                dot += r1[j * 31 + i] * r2[j * 31 + i];
            }
            Assert.Equal(1, Math.Abs(dot), 1e-10);
        }
    }

    [Fact]
    public void RejectsNaN()
    {
        double[] a = RandomSymmetric(5, 1);
        a[7] = double.NaN;
        Assert.Throws<ArgumentException>(() => SymmetricEigensolver.Top(a, 5, 2, SimdTiers.Best));
    }
}
