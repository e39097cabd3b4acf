// Bit-for-bit claims across SIMD tiers and thread counts (1, 2, 3: one, an even and an odd split) that had no test: the transposed
// directions of propagation (FSC backward, SpMM with transpose) on a graph that is NOT symmetric
// (so Aᵀ is a separate CSR and a swapped direction would show), and whitening. Each test checks
// it ran on every tier the hardware has (TierCoverage), so a machine with AVX-512 cannot pass
// without the AVX-512 code having run.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Tests.Whitening;

namespace Stair.Kernels.Tests.Cpu;

public class TierBitsTests
{
    private static readonly int[] ThreadCounts = [1, 2, 3];

    [Fact]
    public void Supported_tiers_are_every_tier_the_hardware_has()
    {
        Assert.Equal(TierCoverage.Expected(), SimdTiers.Supported);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.IsSupported && SimdTiers.Avx2Supported, SimdTiers.Supported.Contains(SimdTier.Avx512));
        Assert.Equal(SimdTiers.Supported[^1], SimdTiers.Resolve(SimdTier.Auto));
    }

    // CI's guard against AVX-512 rows skipped on a machine that has AVX-512: every tier test takes its
    // tiers from the runtime's view (TierCoverage.Expected), so a runtime told to hide AVX-512
    // (DOTNET_EnableAVX512=0) or one that cannot see it would skip every AVX-512 row and pass. The kernel's
    // flags are the ground truth: the AVX-512 subsets .NET requires (F, BW, CD, DQ, VL) there mean the
    // AVX-512 tier must be in the run.
    [Fact]
    public void Avx512_rows_run_when_the_cpu_has_avx512()
    {
        IReadOnlySet<string> flags = TierCoverage.CpuFlags();
        bool hardware = new[] { "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl" }.All(flags.Contains)
            && flags.Contains("avx2") && flags.Contains("fma");
        if (hardware)
        {
            Assert.True(TierCoverage.Expected().Contains(SimdTier.Avx512),
                "The CPU reports AVX-512 (F/BW/CD/DQ/VL) but the runtime does not: every AVX-512 tier row would be skipped. "
                + $"DOTNET_EnableAVX512={Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") ?? "(unset)"}, "
                + $"DOTNET_EnableHWIntrinsic={Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") ?? "(unset)"}.");
            Assert.Contains(SimdTier.Avx512, SimdTiers.Supported);
        }
        else if (flags.Count > 0)
        {
            Assert.DoesNotContain(SimdTier.Avx512, TierCoverage.Expected());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(64)]
    public void Fsc_backward_and_transposed_spmm_on_a_non_symmetric_graph_are_bitwise_identical_on_every_tier_and_thread_count(int d)
    {
        CsrMatrix square = TestGraphs.WithHub(TestGraphs.RandomPowerLaw(rows: 173, columns: 173, seed: 21));
        CsrMatrix rectangular = TestGraphs.RandomPowerLaw(rows: 120, columns: 75, seed: 22);
        const int layers = 3;
        float[] beta = StepwiseWeights.Forward(d, 0.25);
        float[] e = TestGraphs.Table(square.Rows, d, seed: 3 + d);
        float[] rowsTable = TestGraphs.Table(rectangular.Rows, d, seed: 4 + d);   // Aᵀ·X of a 120 × 75 matrix reads 120 rows
        float[]? backward = null, forward = null, spmmT = null, spmmTRect = null;
        var ran = new List<SimdTier>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in ThreadCounts)
            {
                string what = $"{tier}/{threads} threads, d={d}";
                var plan = new PropagationPlan(square, new CpuOptions(tier, threads));
                Assert.False(plan.IsSymmetric);
                var rectPlan = new PropagationPlan(rectangular, new CpuOptions(tier, threads));

                float[] b = TestGraphs.Poisoned(e.Length);
                Kernels.Propagation.FscBackward(plan, e, b, d, layers, beta, new PropagationWorkspace(square.Rows, d));
                float[] f = TestGraphs.Poisoned(e.Length);
                Kernels.Propagation.Fsc(plan, e, f, d, layers, beta, new PropagationWorkspace(square.Rows, d));
                float[] t = TestGraphs.Poisoned(e.Length);
                Kernels.Propagation.Spmm(plan, e, t, d, transpose: true);
                float[] tr = TestGraphs.Poisoned(rectangular.Columns * d);
                Kernels.Propagation.Spmm(rectPlan, rowsTable, tr, d, transpose: true);

                if (backward is null)
                {
                    (backward, forward, spmmT, spmmTRect) = (b, f, t, tr);
                    Assert.All(b, v => Assert.True(float.IsFinite(v), $"{what}: FSC backward left an element unwritten"));
                    Assert.All(tr, v => Assert.True(float.IsFinite(v), $"{what}: transposed SpMM left an element unwritten"));
                    // Aᵀ ≠ A here: the backward pass must not be the forward one.
                    Assert.False(Bits.Equal(b, f), "FSC backward equals FSC forward on a non-symmetric graph");
                }
                else
                {
                    Bits.AssertBitsEqual(backward, b, $"FSC backward {what} vs {SimdTiers.Supported[0]}/1");
                    Bits.AssertBitsEqual(forward!, f, $"FSC forward {what} vs {SimdTiers.Supported[0]}/1");
                    Bits.AssertBitsEqual(spmmT!, t, $"SpMM transpose {what} vs {SimdTiers.Supported[0]}/1");
                    Bits.AssertBitsEqual(spmmTRect!, tr, $"rectangular SpMM transpose {what} vs {SimdTiers.Supported[0]}/1");
                }
            }
            ran.Add(tier);
        }
        TierCoverage.AssertRanEveryTier(ran, "FSC backward / transposed SpMM");
    }

    [Theory]
    [InlineData(WhiteningMethod.Exact)]
    [InlineData(WhiteningMethod.Randomized)]
    public void Whitening_is_bitwise_identical_on_every_tier_and_thread_count(WhiteningMethod method)
    {
        // Two modalities, one of each Gram side (items > columns and columns > items), one with a constant column.
        const int items = 61, d = 7;
        float[] tall = WhiteningTests.Features(items, 19, 0.9, 31);
        float[] wide = WhiteningTests.Features(items, 83, 0.9, 32);
        for (int i = 0; i < items; i++)
        {
            tall[i * 19 + 4] = 2.5f;
        }
        WhiteningModality[] modalities = [new(tall, 19, 2), new(wide, 83, 1)];
        var options = new WhiteningOptions { Dimension = d, Method = method };
        WhiteningResult? first = null;
        var ran = new List<SimdTier>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in ThreadCounts)
            {
                string what = $"{method} {tier}/{threads} threads vs {SimdTiers.Supported[0]}/1";
                WhiteningResult r = Kernels.Whitening.Whiten(modalities, options, new CpuOptions(tier, threads));
                if (first is null)
                {
                    first = r;
                    continue;
                }
                Bits.AssertBitsEqual(first.ItemTable, r.ItemTable, $"item table, {what}");
                for (int m = 0; m < modalities.Length; m++)
                {
                    Assert.Equal(first.Modalities[m].Rank, r.Modalities[m].Rank);
                    Bits.AssertBitsEqual(first.Modalities[m].Embedding, r.Modalities[m].Embedding, $"modality {m} embedding, {what}");
                    Bits.AssertBitsEqual(first.Modalities[m].SingularValues.ToArray(), r.Modalities[m].SingularValues.ToArray(), $"modality {m} singular values, {what}");
                }
            }
            ran.Add(tier);
        }
        TierCoverage.AssertRanEveryTier(ran, $"whitening ({method})");
    }
}

public class BitsHelperTests
{
    // What the bitwise helper exists for: float.Equals (Assert.Equal, SequenceEqual) takes −0 for +0
    // and any NaN for any other; the helper must not.
    [Fact]
    public void Signed_zeros_and_nan_payloads_are_different_bits()
    {
        float quietNaN = BitConverter.Int32BitsToSingle(0x7FC00000), otherNaN = BitConverter.Int32BitsToSingle(0x7FC00001);
        Assert.True(new[] { 0f, quietNaN }.AsSpan().SequenceEqual([-0f, otherNaN])); // the comparison the helper replaces
        var ex = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Bits.AssertBitsEqual([1f, 0f], [1f, -0f], "zeros"));
        Assert.Contains("element 1 is 0x80000000", ex.Message);
        Assert.Contains("expected 0x00000000", ex.Message);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Bits.AssertBitsEqual([quietNaN], [otherNaN], "NaNs"));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Bits.AssertBitsEqual(new[] { 0.0 }, new[] { -0.0 }, "double zeros"));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Bits.AssertBitsEqual([1f], [1f, 2f], "lengths"));
        Bits.AssertBitsEqual([quietNaN, -0f], [quietNaN, -0f], "same bits");
        Assert.False(Bits.Equal([0f], [-0f]));
    }
}
