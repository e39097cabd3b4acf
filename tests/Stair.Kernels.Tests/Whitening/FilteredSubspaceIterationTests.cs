// The block eigen-iteration of exact whitening (Chebyshev-filtered subspace iteration, used above
// WhiteningSolver.DenseEigenLimit) on the spectra where individual eigenvectors are not unique: a flat
// (Marchenko–Pastur) Gram of i.i.d. Gaussian features and designed near-degenerate clusters. Accuracy is
// stated as what holds whatever basis is chosen inside a cluster, against MathNet's float64 EVD of the same
// float32 Gram: the residual ‖Gv − θv‖, the eigenvalue error, and the Davis–Kahan containment of span(V)
// in the eigenvectors of eigenvalues ≥ min θ − δ.
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using Stair.Kernels.WhiteningAlgebra;
using Xunit.Abstractions;

namespace Stair.Kernels.Tests.Whitening;

public class FilteredSubspaceIterationTests(ITestOutputHelper output)
{
    private static (float[] V, int K, int Products) Solve(float[] g, int n, int t, int threads = 2, SimdTier tier = SimdTier.Auto)
    {
        using var device = new CpuWhiteningDevice(SimdTiers.Resolve(tier), threads);
        var solver = new WhiteningSolver(device, new WhiteningOptions { Dimension = t });
        try
        {
            WhiteningSolver.OverrideDenseEigenLimit(1);
            using DenseOperand operand = device.Upload(g, n, n);
            (float[] v, int k) = solver.TopEigenvectors(operand, n, t);
            return (v, k, solver.LastProducts);
        }
        finally
        {
            WhiteningSolver.OverrideDenseEigenLimit(0);
        }
    }

    // G = X_cᵀX_c of items × columns i.i.d. uniform (or Gaussian) features, by the library's own centering and Gram product.
    private static float[] FlatGram(int items, int columns, ulong seed, bool gaussian = false)
    {
        float[] x = gaussian ? HostMatrixOps.Gaussian(items, columns, seed) : Uniform(items * columns, seed);
        using var device = new CpuWhiteningDevice(SimdTiers.Resolve(SimdTier.Auto), 2);
        (DenseOperand xc, DenseOperand xt) = device.LoadCentered(x, items, columns);
        using (xc)
        using (xt)
        using (DenseOperand g = device.Gram(xt))
        {
            return device.Download(g).AsSpan(0, columns * columns).ToArray();
        }
    }

    private static float[] Uniform(int length, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = (float)rng.NextDouble();
        }
        return x;
    }

    // Q·diag(λ)·Qᵀ in float64 (SymmetricEigensolverTests.WithSpectrum), symmetrized and rounded to float32.
    private static float[] Designed(double[] spectrum, ulong seed)
    {
        int n = spectrum.Length;
        double[] a = SymmetricEigensolverTests.WithSpectrum(spectrum, seed);
        var g = new float[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                g[i * n + j] = (float)(0.5 * (a[i * n + j] + a[j * n + i]));
            }
        }
        return g;
    }

    private readonly record struct Accuracy(double Residual, double ResidualFrobenius, double ValueError, double Containment, double Orthogonality);

    // The accuracy figures of the computed tall n × k V against the float64 EVD of the same (float32) G:
    // Residual = max_j ‖G v̂_j − θ_j v̂_j‖ / θ_1 and its Frobenius norm over j (v̂ = V orthonormalized in float64,
    // θ_j = v̂_jᵀ G v̂_j); ValueError = max_j |θ_(j) − λ_j| / λ_1 (both sorted descending); Containment =
    // ‖U_outᵀ V̂‖_F with U_out the reference eigenvectors of eigenvalues below min θ − δ·λ_1; Orthogonality = max |V̂ᵀV̂ − I|
    // of the unit-scaled float32 columns before re-orthonormalization.
    private static Accuracy Measure(float[] g, int n, float[] v, int k, double delta, out double[] reference)
    {
        Matrix<double> gm = Matrix<double>.Build.Dense(n, n, (i, j) => g[i * n + j]);
        Evd<double> evd = gm.Evd(Symmetricity.Symmetric);
        int[] order = Enumerable.Range(0, n).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
        reference = order.Select(i => evd.EigenValues[i].Real).ToArray();
        Matrix<double> raw = Matrix<double>.Build.Dense(n, k, (i, j) => v[i * k + j]);
        for (int j = 0; j < k; j++)
        {
            raw.SetColumn(j, raw.Column(j).Normalize(2));
        }
        double orthogonality = (raw.TransposeThisAndMultiply(raw) - Matrix<double>.Build.DenseIdentity(k)).Enumerate().Max(Math.Abs);
        Matrix<double> vh = raw.QR().Q.SubMatrix(0, n, 0, k);
        Matrix<double> gv = gm * vh;
        Matrix<double> theta = vh.TransposeThisAndMultiply(gv);
        Matrix<double> r = gv - vh * theta;
        double theta1 = reference[0];
        double residual = 0;
        for (int j = 0; j < k; j++)
        {
            residual = Math.Max(residual, r.Column(j).L2Norm());
        }
        double[] ritz = theta.Evd(Symmetricity.Symmetric).EigenValues.Select(z => z.Real).OrderByDescending(z => z).ToArray();
        double valueError = 0;
        for (int j = 0; j < k; j++)
        {
            valueError = Math.Max(valueError, Math.Abs(ritz[j] - reference[j]));
        }
        double floor = ritz[k - 1] - delta * theta1;
        double containment = 0;
        for (int i = 0; i < n; i++)
        {
            if (evd.EigenValues[i].Real < floor)
            {
                double s = evd.EigenVectors.Column(i).ToRowMatrix().Multiply(vh).Row(0).L2Norm();
                containment += s * s;
            }
        }
        return new Accuracy(residual / theta1, r.FrobeniusNorm() / theta1, valueError / theta1, Math.Sqrt(containment), orthogonality);
    }

    // The guarantees of the iteration, whatever basis it picks inside a cluster. Its stopping rule is
    // ‖Gv − θv‖ ≤ max(1e-4·θ_j, 1e-6·θ_1) measured with float32 products, which differ from the float64 residual by
    // about ε₃₂·√n·θ_1 ≈ 1e-6·θ_1 at n ≤ 400: so residual ≤ 1e-4 + 3e-6 (relative to θ_1 ≥ θ_j). A Ritz value lies within
    // ‖R‖₂ ≤ ‖R‖_F of an eigenvalue and below its sorted counterpart (Cauchy interlacing): |θ_(j) − λ_j| ≤ ‖R‖_F, plus
    // 1e-6·θ_1 of float32 Gram rounding. Davis–Kahan (sin Θ, Frobenius): ‖U_outᵀV̂‖_F ≤ ‖R‖_F/δ for the eigenvectors more
    // than δ below every Ritz value. Columns orthonormal to float32 rounding of one CholQR pass (1e-5).
    private void AssertGuarantees(Accuracy a, double delta, string label)
    {
        output.WriteLine($"{label}: residual {a.Residual:E2}·θ_1 (Frobenius {a.ResidualFrobenius:E2}), eigenvalue error {a.ValueError:E2}·λ_1, containment {a.Containment:E2} (bound {a.ResidualFrobenius / delta:E2}), orthogonality {a.Orthogonality:E2}");
        Assert.True(a.Residual <= 1.03e-4, $"{label}: residual {a.Residual:E2}·θ_1");
        Assert.True(a.ValueError <= a.ResidualFrobenius + 1e-6, $"{label}: eigenvalue error {a.ValueError:E2}·λ_1 > ‖R‖_F {a.ResidualFrobenius:E2}");
        Assert.True(a.Containment <= a.ResidualFrobenius / delta + 1e-5, $"{label}: containment {a.Containment:E2} > ‖R‖_F/δ {a.ResidualFrobenius / delta:E2}");
        Assert.True(a.Orthogonality <= 1e-5, $"{label}: orthogonality {a.Orthogonality:E2}");
    }

    [Fact]
    public void FlatGramSpectrum()
    {
        // 1,400 × 800 i.i.d. uniform features (the aspect of 7,050 × 4,096, t/n = 2 % like 64/4,096): G's top
        // eigenvalues crowd at the Marchenko–Pastur edge, ~0.1–1 % apart, no gap after t = 16. δ = 2 % of λ_1 (a few
        // eigenvalue spacings) keeps the containment bound near 0.01.
        const int items = 1_400, n = 800, t = 16;
        float[] g = FlatGram(items, n, 41);
        (float[] v, int k, int products) = Solve(g, n, t);
        Assert.Equal(t, k);
        Accuracy a = Measure(g, n, v, k, 0.02, out double[] reference);
        AssertGuarantees(a, 0.02, "flat");
        Assert.True(reference[t - 1] / reference[0] > 0.7, "the spectrum is not flat");
        // Products with G: the filtered iteration needs ~30 here, the unfiltered block iteration ~90 (~47 with the shift c alone), so 40 catches a
        // filter that stops filtering.
        output.WriteLine($"flat: {products} products");
        Assert.True(products <= 40, $"{products} products");
    }

    public static TheoryData<string> DesignedSpectra() => ["cluster-inside", "cluster-straddles-t", "steep"];

    private static double[] Spectrum(string name, int n)
    {
        var s = new double[n];
        for (int i = 0; i < n; i++)
        {
            s[i] = name switch
            {
                // Eight separated values, then 24 equal to float32 rounding (1e-7 apart), a gap, a flat rest: the
                // top-32 subspace is defined (gap 0.2), its vectors inside the cluster are not.
                "cluster-inside" => i < 8 ? 1.0 - 0.03 * i : i < 32 ? 0.5 * (1 + 1e-7 * (i - 8)) : 0.3 * (n - i) / (n - 32.0),
                // A cluster of 24 across t = 32 (indices 20–43): neither the 32nd vector nor the top-32 subspace is defined.
                "cluster-straddles-t" => i < 20 ? 1.0 - 0.02 * i : i < 44 ? 0.6 * (1 + 1e-7 * (i - 20)) : 0.55 * (n - i) / (n - 44.0),
                // Six decades: the filter is held to low degrees by its growth bound.
                _ => Math.Pow(10, -6.0 * i / n),
            };
        }
        return s;
    }

    [Theory]
    [MemberData(nameof(DesignedSpectra))]
    public void NearDegenerateSpectra(string name)
    {
        const int n = 256, t = 32;
        double[] spectrum = Spectrum(name, n);
        float[] g = Designed(spectrum, 77);
        (float[] v, int k, int products) = Solve(g, n, t);
        output.WriteLine($"{name}: {products} products");
        Assert.Equal(t, k);
        // δ (relative to λ_1 = 1): just under the gap after the cluster where there is one (0.5 → 0.3: the top-32
        // subspace to ‖R‖_F/0.19), else 2 %.
        double delta = name == "cluster-inside" ? 0.19 : 0.02;
        Accuracy a = Measure(g, n, v, k, delta, out _);
        AssertGuarantees(a, delta, name);
        if (name == "cluster-inside")
        {
            // The defined top-32 subspace itself, against float32 rounding of G (1e-7·‖G‖/0.19) and the residual bound.
            Assert.True(a.Containment <= 2e-3, $"top-32 subspace off by {a.Containment:E2}");
        }
    }

    [Fact]
    public void ThreadCountAndRepeatDoNotChangeBits()
    {
        // ℓ = 128 on an 800 side: the Gram-sized products and the ℓ × ℓ thin products both split over the pool.
        float[] g = FlatGram(1_400, 800, 5, gaussian: true);
        (float[] one, _, _) = Solve(g, 800, 64, threads: 1);
        (float[] two, _, _) = Solve(g, 800, 64, threads: 2);
        (float[] again, _, _) = Solve(g, 800, 64, threads: 2);
        Bits.AssertBitsEqual(one, two, "2 threads vs 1");
        Bits.AssertBitsEqual(two, again, "repeat");
    }

    [Fact]
    public void CombineIsTheElementwiseFloat32Expression()
    {
        // The filter's three-term step: every length across the vector width and its tail, with and without C.
        var rng = new SplitMix64(3);
        for (int length = 0; length <= 37; length++)
        {
            float[] a = new float[length], b = new float[length], c = new float[length], r = new float[length], r2 = new float[length];
            for (int i = 0; i < length; i++)
            {
                (a[i], b[i], c[i]) = ((float)rng.NextDouble() - 0.5f, (float)rng.NextDouble() * 3, (float)rng.NextDouble() - 2);
            }
            HostMatrixOps.Combine(a, 1.7f, b, -0.3f, c, 0.45f, r);
            HostMatrixOps.Combine(a, 1.7f, b, -0.3f, [], 0f, r2);
            for (int i = 0; i < length; i++)
            {
                float ab = a[i] * 1.7f + b[i] * -0.3f;
                Assert.Equal(BitConverter.SingleToInt32Bits(ab + c[i] * 0.45f), BitConverter.SingleToInt32Bits(r[i]));
                Assert.Equal(BitConverter.SingleToInt32Bits(ab), BitConverter.SingleToInt32Bits(r2[i]));
            }
        }
    }

    [SkippableFact]
    public void AcceleratorDeviceRunsTheFilteredIteration()
    {
        // The ILGPU device path shares the solver (its Combine is the host default): forced onto the block iteration on a
        // tiny side on the simulator, it matches the float64 SVD like the CPU (WhiteningTests' element tolerance 2e-4
        // for the block iteration on gaps ≥ 15 %).
        BackendPropagationTests.SkipIfMissing(Backend.IlgpuCpu);
        const int items = 60, columns = 40, d = 5;
        float[] x = WhiteningTests.Features(items, columns, 0.85, 31);
        (double[] w, _, int rank) = WhiteningReference.Whiten(x, items, columns, d);
        using ComputeContext context = ComputeContext.Create(Backend.IlgpuCpu);
        try
        {
            WhiteningSolver.OverrideDenseEigenLimit(8);
            int before = WhiteningSolver.BlockStepsOnThread;
            WhiteningModalityResult m = context.Whiten([new WhiteningModality(x, columns, 1)], new WhiteningOptions { Dimension = d }).Modalities[0];
            Assert.True(WhiteningSolver.BlockStepsOnThread > before, "the block iteration did not run");
            Assert.Equal(rank, m.Rank);
            double worst = m.Embedding.Select((v, i) => Math.Abs(v - w[i])).Max();
            Assert.True(worst <= 2e-4, $"max |W − W_ref| = {worst:E2}");
        }
        finally
        {
            WhiteningSolver.OverrideDenseEigenLimit(0);
        }
        // Its Combine (the filter's step) gives the CPU device's bits.
        const int rows = 13, width = 7;
        float[] a = HostMatrixOps.Gaussian(rows, width, 1), b = HostMatrixOps.Gaussian(rows, width, 2), c = HostMatrixOps.Gaussian(rows, width, 3);
        using WhiteningDevice accelerator = context.Families.Whitening.OpenWhitening();
        using var cpu = new CpuWhiteningDevice(SimdTiers.Resolve(SimdTier.Auto), 1);
        foreach (bool third in new[] { true, false })
        {
            float[] Run(WhiteningDevice device)
            {
                using DenseOperand oa = device.Upload(a, rows, width), ob = device.Upload(b, rows, width), oc = device.Upload(c, rows, width);
                using DenseOperand r = device.Combine(oa, 0.7, ob, -1.3, third ? oc : null, 0.25);
                return device.Download(r).AsSpan(0, rows * width).ToArray();
            }
            Bits.AssertBitsEqual(Run(cpu), Run(accelerator), $"Combine, third term {third}");
        }
    }
}
