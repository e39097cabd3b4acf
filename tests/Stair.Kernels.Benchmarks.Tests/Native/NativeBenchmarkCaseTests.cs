// The c-ref benchmark cases exist when the C references load, and the toy cases compute what the
// C# cases compute: bitwise for propagation, within the float32 chain bound for the dense product.
using static Stair.Kernels.Benchmarks.Tests.Native.NativeTestSupport;

namespace Stair.Kernels.Benchmarks.Tests.Native;

public sealed class NativeBenchmarkCaseTests
{
    // The toy case on this machine's widest tier (every tier gives the same bits; a host without
    // AVX-512 lists no avx512 case).
    private static string BestToy => $"toy/{SimdTiers.Best.ToString().ToLowerInvariant()}";

    [SkippableFact]
    public void PropagationCases_IncludeCRef_AndToyCRefEqualsToyAvx512Bitwise()
    {
        Require();
        string[] cases = [.. PropagationBenchmarks.Cases()];
        if (Environment.GetEnvironmentVariable("STAIR_PROPAGATION_CASES") is null or "")
        {
            Assert.Contains("baby/c-ref", cases);
            Assert.Contains("electronics/c-ref", cases);
            Assert.Contains("toy/c-ref", cases);
            Assert.Contains(BestToy, cases); // the existing cases stay
        }
        var stair = new PropagationBenchmarks { Case = BestToy };
        var native = new PropagationBenchmarks { Case = "toy/c-ref" };
        stair.Setup();
        native.Setup();
        foreach ((string name, Func<PropagationBenchmarks, object> run) in new (string, Func<PropagationBenchmarks, object>)[]
        {
            ("Spmm", b => b.Spmm()), ("Fsc", b => b.Fsc()), ("FscSparseInput", b => b.FscSparseInput()),
        })
        {
            float[] expected = (float[])((float[])run(stair)).Clone();
            float[] actual = (float[])run(native);
            AssertBitwise(expected, actual, $"toy {name}");
        }
    }

    [SkippableFact]
    public void DenseCases_IncludeCRef_AndToyCRefIsWithinTheBoundOfToyAvx512()
    {
        Require();
        string[] cases = [.. DenseProductBenchmarks.Cases()];
        foreach (string shape in new[] { "knn384", "knnself", "gram", "query", "rank", "toy" })
        {
            Assert.Contains($"{shape}/c-ref", cases);
        }
        var stair = new DenseProductBenchmarks { Case = "toy/avx512" };
        var native = new DenseProductBenchmarks { Case = "toy/c-ref" };
        stair.Setup();
        native.Setup();
        float[] expected = (float[])((float[])stair.MultiplyTransposed()).Clone();
        float[] actual = (float[])native.MultiplyTransposed();
        // toy: k = 100, entries in [−1, 1), so Σ_p |a_p·b_p| ≤ 100 and each float32 chain is within
        // γ_100·100 of the exact product (γ_k = k·u/(1 − k·u), u = 2⁻²⁴); two such results differ by at most twice that.
        const double u = 1.0 / (1 << 24);
        double bound = 2 * (100 * u / (1 - 100 * u)) * 100;
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"toy C[{i}]: Stair {expected[i]:R}, C {actual[i]:R}");
        }
    }
}
