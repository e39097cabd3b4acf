// The C dense NT product against a float64 loop, within the float32 error bound of its FMA chains.
using Stair.Kernels.Benchmarks.Native;
using static Stair.Kernels.Benchmarks.Tests.Native.NativeTestSupport;

namespace Stair.Kernels.Benchmarks.Tests.Native;

public sealed class NativeDenseTests
{
    private const float PaddingSentinel = 12345f;

    // (m, n, k): single elements, partial tiles of rows (6) and panels (64 columns, 16-column vectors),
    // exact tiles, and k past one k-block (256).
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 5, 3, 2 }, { 6, 64, 256 }, { 7, 65, 257 }, { 13, 17, 33 }, { 97, 130, 300 }, { 200, 1, 5 }, { 1, 200, 700 },
    };

    public static TheoryData<int, int> SelfShapes => new()
    {
        { 1, 1 }, { 7, 3 }, { 65, 40 }, { 130, 300 }, { 200, 17 },
    };

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void MultiplyTransposed_IsWithinTheFloat32BoundOfAFloat64Loop(int m, int n, int k)
    {
        NativeReference native = Require();
        int lda = k + 3, ldb = k + 5, ldc = n + 2;
        float[] a = Operand(m, k, lda, seed: m + 7 * k);
        float[] b = Operand(n, k, ldb, seed: n + 11 * k);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2 })
        {
            float[] c = Output(m, n, ldc);
            native.MultiplyTransposed(a, lda, b, ldb, c, ldc, m, n, k, threads);
            CheckAgainstFloat64(a, lda, b, ldb, c, ldc, m, n, k);
            if (first is null)
            {
                first = c;
            }
            else
            {
                AssertBitwise(first, c, $"dense {m}×{n}×{k}: 1 thread vs 2"); // the blocking never depends on the thread count
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(SelfShapes))]
    public void MultiplySelfTransposed_IsSymmetricAndWithinTheBound(int m, int k)
    {
        NativeReference native = Require();
        int lda = k + 1, ldc = m + 3;
        float[] a = Operand(m, k, lda, seed: 3 * m + k);
        float[] c = Output(m, m, ldc);
        native.MultiplySelfTransposed(a, lda, c, ldc, m, k, threads: 2);
        CheckAgainstFloat64(a, lda, a, lda, c, ldc, m, m, k);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < i; j++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(c[(long)j * ldc + i]), BitConverter.SingleToInt32Bits(c[(long)i * ldc + j]));
            }
        }
    }

    [SkippableFact]
    public void MultiplyTransposed_WithKZero_ZeroesC_AndEmptyShapesTouchNothing()
    {
        NativeReference native = Require();
        float[] c = Output(4, 3, 5);
        native.MultiplyTransposed([], 1, [], 1, c, 5, 4, 3, 0, threads: 2);
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                Assert.Equal(j < 3 ? 0f : PaddingSentinel, c[i * 5 + j]);
            }
        }
        float[] untouched = [1f, 2f];
        native.MultiplyTransposed([1f], 1, [1f, 1f], 1, untouched, 2, 0, 2, 1, threads: 1);
        native.MultiplyTransposed([1f], 1, [1f], 1, untouched, 2, 1, 0, 1, threads: 1);
        Assert.Equal(new[] { 1f, 2f }, untouched);
    }

    [SkippableFact]
    public void MultiplyTransposed_OfOtherInstructionSets_IsWithinTheBound()
    {
        Skip.IfNot(NativeReference.CompilerAvailable, "gcc is not available on this machine");
        var marches = new List<string> { "-march=x86-64" };
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)
        {
            marches.Add("-march=x86-64-v3");
        }
        foreach (string march in marches)
        {
            NativeReference native = RequireBuild(WithMarch(march));
            const int m = 97, n = 130, k = 300, lda = 301, ldb = 302, ldc = 131;
            float[] a = Operand(m, k, lda, seed: 1), b = Operand(n, k, ldb, seed: 2);
            float[] c = Output(m, n, ldc);
            native.MultiplyTransposed(a, lda, b, ldb, c, ldc, m, n, k, threads: 2);
            CheckAgainstFloat64(a, lda, b, ldb, c, ldc, m, n, k);
            float[] s = Output(m, m, m);
            native.MultiplySelfTransposed(a, lda, s, m, m, k, threads: 2);
            CheckAgainstFloat64(a, lda, a, lda, s, m, m, m, k);
        }
    }

    // rows × k in [−1, 1), the padding past k NaN (a read of it would poison C).
    private static float[] Operand(int rows, int k, int ld, int seed)
    {
        var rng = new Random(seed);
        var t = new float[Math.Max(1, (long)rows * ld)];
        Array.Fill(t, float.NaN);
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < k; p++)
            {
                t[(long)r * ld + p] = (float)(rng.NextDouble() * 2 - 1);
            }
        }
        return t;
    }

    // C: NaN where the product must write, the sentinel in the padding past n (which it must not touch).
    private static float[] Output(int m, int n, int ldc)
    {
        var c = new float[Math.Max(1, (long)m * ldc)];
        for (long i = 0; i < c.Length; i++)
        {
            c[i] = i % ldc < n ? float.NaN : PaddingSentinel;
        }
        return c;
    }

    // Each C element is one float32 chain s = fma(a_p, b_p, s) over p < k (in some order), one rounding per
    // step, so |ŝ − s| ≤ γ_k·Σ_p |a_p·b_p| with γ_k = k·u / (1 − k·u), u = 2⁻²⁴ (Higham, Accuracy and Stability
    // of Numerical Algorithms, §3.1, with FMA's single rounding per step). The float64 loop's own error is
    // ≤ γ_k(2⁻⁵³)·Σ|a_p·b_p|, 2⁻²⁹ of that, covered by the factor 1.001. The bound is relative to Σ|a_p·b_p|, not
    // to |s|: cancellation can make |s| small while the float32 error stays at the size of the summands.
    private static void CheckAgainstFloat64(float[] a, int lda, float[] b, int ldb, float[] c, int ldc, int m, int n, int k)
    {
        const double u = 1.0 / (1 << 24);
        double gamma = k * u / (1 - k * u);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                float actual = c[(long)i * ldc + j];
                if (j >= n)
                {
                    Assert.Equal(PaddingSentinel, actual);
                    continue;
                }
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double product = (double)a[(long)i * lda + p] * b[(long)j * ldb + p];
                    sum += product;
                    magnitude += Math.Abs(product);
                }
                double bound = 1.001 * gamma * magnitude;
                double error = Math.Abs(actual - sum);
                Assert.True(error <= bound, $"C[{i},{j}] of {m}×{n}×{k} = {actual:R}, float64 {sum:R}: error {error:E3} > bound {bound:E3}");
            }
        }
    }
}
