// BprLoss on the CPU: against the float64 reference (with rows repeated in the batch), the
// reference against finite differences, bitwise agreement across tiers, thread counts, table
// layouts and runs, both gradient modes, extreme scores, and bad input rejected before anything is written.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.BprLoss;

public class BprLossTests
{
    internal static (int[] Users, int[] Positives, int[] Negatives) Batch(int batch, int users, int items, int seed)
    {
        var rng = new Random(seed);
        var u = new int[batch];
        var p = new int[batch];
        var n = new int[batch];
        for (int t = 0; t < batch; t++)
        {
            // Few distinct rows, so rows repeat within and across roles; a triple with i⁺ = i⁻ too.
            u[t] = rng.Next(users);
            p[t] = rng.Next(items);
            n[t] = t % 17 == 5 ? p[t] : rng.Next(items);
        }
        return (u, p, n);
    }

    public static TheoryData<int, int> WidthBatch()
    {
        var data = new TheoryData<int, int>();
        foreach (int d in new[] { 1, 7, 16, 17, 33, 64, 65 })
        {
            foreach (int b in new[] { 1, 5, 300, 2500 })
            {
                data.Add(d, b);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthBatch))]
    public void Matches_float64_on_every_tier_and_thread_count_bit_for_bit(int d, int b)
    {
        const int users = 23, items = 19;
        float[] table = TestGraphs.Table(users + items, d, seed: d + 31 * b);
        (int[] u, int[] p, int[] n) = Batch(b, users, items, seed: b);
        BprReferenceResult expected = RecommendationReference.Bpr(table, d, users, u, p, n);
        float[]? first = null;
        double firstLoss = 0;
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2 })
            {
                float[] gradient = TestGraphs.Poisoned(table.Length); // overwrite must write every element
                double loss = Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, gradient, GradientMode.Overwrite, new CpuOptions(tier, threads));
                Assert.True(Math.Abs(loss - expected.Loss) <= expected.LossBound, $"{tier}: loss {loss} vs {expected.Loss} (bound {expected.LossBound:E2})");
                for (int k = 0; k < gradient.Length; k++)
                {
                    double err = Math.Abs(gradient[k] - expected.Gradient[k]);
                    Assert.True(err <= expected.GradientBound[k], $"{tier}/{threads}: element {k} is {gradient[k]}, expected {expected.Gradient[k]} (error {err:E2} > bound {expected.GradientBound[k]:E2}).");
                }
                if (first is null)
                {
                    first = gradient;
                    firstLoss = loss;
                }
                else
                {
                    Bits.AssertBitsEqual(firstLoss, loss, $"{tier}/{threads} loss vs the first tier");
                    AssertBitwise(first, gradient, $"{tier}/{threads} vs the first tier");
                }
            }
        }
    }

    [Fact]
    public void Reference_gradient_matches_central_finite_differences()
    {
        const int users = 4, items = 5, d = 6;
        float[] table = TestGraphs.Table(users + items, d, seed: 77);
        int[] u = [0, 1, 1, 3, 0], p = [2, 2, 4, 0, 2], n = [1, 3, 2, 4, 1]; // user 0 / item 2 repeat; item 2 is both a positive and a negative
        BprReferenceResult reference = RecommendationReference.Bpr(table, d, users, u, p, n);
        for (int k = 0; k < table.Length; k++)
        {
            // Loss in float64 of a perturbed copy; float steps are exact here (h is a power of two).
            const double h = 1.0 / 1024;
            double Loss(double delta)
            {
                double loss = 0;
                for (int t = 0; t < u.Length; t++)
                {
                    double x = 0;
                    for (int j = 0; j < d; j++)
                    {
                        double At(int row) => table[row * d + j] + (row * d + j == k ? delta : 0);
                        x += At(u[t]) * (At(users + p[t]) - At(users + n[t]));
                    }
                    loss += Math.Log(1 + Math.Exp(-x));
                }
                return loss / u.Length;
            }
            double fd = (Loss(h) - Loss(-h)) / (2 * h);
            // Central differences are off by O(h²·f‴) ≈ 1e-6 at these scales.
            Assert.True(Math.Abs(fd - reference.Gradient[k]) <= 1e-5, $"element {k}: finite difference {fd}, reference {reference.Gradient[k]}");
        }
        // and the kernel on the same batch
        float[] gradient = new float[table.Length];
        Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, gradient);
        for (int k = 0; k < gradient.Length; k++)
        {
            Assert.True(Math.Abs(gradient[k] - reference.Gradient[k]) <= reference.GradientBound[k], $"element {k}");
        }
    }

    [Fact]
    public void A_batch_of_one_repeated_triple_sums_every_copy_in_order()
    {
        const int users = 3, items = 4, d = 19, b = 1000;
        float[] table = TestGraphs.Table(users + items, d, seed: 5);
        int[] u = Enumerable.Repeat(2, b).ToArray(), p = Enumerable.Repeat(1, b).ToArray(), n = Enumerable.Repeat(3, b).ToArray();
        float[] gradient = new float[table.Length];
        double loss = Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, gradient);
        float[] single = new float[table.Length];
        double singleLoss = Stair.Kernels.BprLoss.Compute(table, d, users, u[..1], p[..1], n[..1], single);
        Assert.Equal(singleLoss, loss, 12);
        // Every copy carries s = σ(−x)/B: the sum of B copies of (single/B·…) must equal the single-triple gradient to rounding.
        BprReferenceResult reference = RecommendationReference.Bpr(table, d, users, u, p, n);
        for (int k = 0; k < gradient.Length; k++)
        {
            Assert.True(Math.Abs(gradient[k] - reference.Gradient[k]) <= reference.GradientBound[k], $"element {k}");
            // The batch element is a float32 sum of B equal terms c = fl(fl(s/B)·x): in any order within γ_{B−1}
            // relative of B·c; c is within 2u of (s/B)·x and the single-triple element within 2u of s·x, so
            // |batch − single| ≤ γ_{B+3}·|single| (u = 2⁻²⁴, γ_n = n·u/(1 − n·u)). Measured: 228·u of B + 3 = 1003.
            double gamma = (b + 3) * Math.Pow(2, -24) / (1 - (b + 3) * Math.Pow(2, -24));
            Assert.True(Math.Abs(gradient[k] - single[k]) <= gamma * Math.Abs(single[k]), $"element {k}: {gradient[k]} vs {single[k]}");
        }
    }

    [Fact]
    public void Separate_tables_give_the_same_bits_as_one_table()
    {
        const int users = 40, items = 31, d = 33, b = 700;
        float[] table = TestGraphs.Table(users + items, d, seed: 8);
        (int[] u, int[] p, int[] n) = Batch(b, users, items, seed: 9);
        float[] combined = new float[table.Length];
        double loss = Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, combined);
        float[] gu = TestGraphs.Poisoned(users * d), gi = TestGraphs.Poisoned(items * d);
        double loss2 = Stair.Kernels.BprLoss.Compute(table.AsSpan(0, users * d), table.AsSpan(users * d), d, u, p, n, gu, gi);
        Bits.AssertBitsEqual(loss, loss2, "separate tables: loss");
        AssertBitwise(combined, [.. gu, .. gi], "separate tables");
    }

    [Fact]
    public void Accumulate_adds_into_touched_rows_and_leaves_the_rest_untouched()
    {
        const int users = 50, items = 60, d = 17, b = 20;
        float[] table = TestGraphs.Table(users + items, d, seed: 12);
        (int[] u, int[] p, int[] n) = Batch(b, users, items, seed: 13);
        float[] fresh = new float[table.Length];
        Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, fresh);
        float[] prior = TestGraphs.Table(users + items, d, seed: 14);
        float[] accumulated = (float[])prior.Clone();
        Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, accumulated, GradientMode.Accumulate);
        var touched = new HashSet<int>(u.Concat(p.Select(i => users + i)).Concat(n.Select(i => users + i)));
        for (int k = 0; k < table.Length; k++)
        {
            float expected = touched.Contains(k / d) ? prior[k] + fresh[k] : prior[k];
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(accumulated[k]));
        }
        Assert.Contains(touched, r => r < users);
        Assert.True(touched.Count < users + items);
    }

    [Fact]
    public void Extreme_scores_give_finite_loss_and_gradients()
    {
        const int users = 2, d = 4;
        // x = ±400: exp(400) overflows float64's softplus if written naively.
        float[] table = [10, 10, 10, 10, -10, -10, -10, -10, 10, 0, 0, 0, 0, 0, 0, 0];
        int[] u = [0, 1], p = [0, 0], n = [1, 1];
        float[] gradient = new float[table.Length];
        double loss = Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, gradient);
        BprReferenceResult reference = RecommendationReference.Bpr(table, d, users, u, p, n);
        Assert.True(double.IsFinite(loss));
        Assert.Equal(reference.Loss, loss, 9);
        Assert.Equal(50.0, loss, 9); // softplus(−100) ≈ 0, softplus(100) = 100, mean 50
        Assert.All(gradient, g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void An_empty_batch_has_zero_loss_and_overwrite_clears_the_table()
    {
        float[] table = TestGraphs.Table(5, 3, seed: 1);
        float[] gradient = TestGraphs.Poisoned(table.Length);
        Assert.Equal(0, Stair.Kernels.BprLoss.Compute(table, 3, 2, [], [], [], gradient));
        Assert.All(gradient, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Bad_input_is_rejected_before_anything_is_written()
    {
        const int users = 6, items = 5, d = 3;
        float[] table = TestGraphs.Table(users + items, d, seed: 2);
        int[] u = [0, 1, 2, 3], p = [0, 1, 2, 3], n = [4, 3, 2, 1];
        float[] gradient = ArgumentAssert.Poisoned(table.Length);
        float[] before = (float[])gradient.Clone();
        void Check(string param, Action call, int? index = null)
        {
            ArgumentException ex = ArgumentAssert.Throws(param, call);
            if (index is int i)
            {
                ArgumentAssert.NamesIndex(ex, i);
            }
            ArgumentAssert.Untouched(before, gradient, param);
        }
        Check("users", () => Stair.Kernels.BprLoss.Compute(table, d, users, [0, 1, 6, 7], p, n, gradient), 2);
        Check("users", () => Stair.Kernels.BprLoss.Compute(table, d, users, [0, -1, 2, 3], p, n, gradient), 1);
        Check("positives", () => Stair.Kernels.BprLoss.Compute(table, d, users, u, [0, 1, 2, 5], n, gradient), 3);
        Check("negatives", () => Stair.Kernels.BprLoss.Compute(table, d, users, u, p, [9, 0, 0, 0], gradient), 0);
        Check("positives", () => Stair.Kernels.BprLoss.Compute(table, d, users, u, [0, 1, 2], n, gradient));
        Check("negatives", () => Stair.Kernels.BprLoss.Compute(table, d, users, u, p, [0, 1, 2, 3, 4], gradient));
        Check("gradient", () => Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, gradient.AsSpan(1)));
        Check("gradient", () => Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, table));
        Check("itemOffset", () => Stair.Kernels.BprLoss.Compute(table, d, users + items + 1, u, p, n, gradient));
        Check("width", () => Stair.Kernels.BprLoss.Compute(table, 0, users, u, p, n, gradient));
        Check("embeddings", () => Stair.Kernels.BprLoss.Compute(table.AsSpan(1), d, users, u, p, n, gradient));
        Check("mode", () => Stair.Kernels.BprLoss.Compute(table, d, users, u, p, n, gradient, (GradientMode)7));
        float[] gu = ArgumentAssert.Poisoned(users * d), gi = ArgumentAssert.Poisoned(items * d);
        Assert.Throws<ArgumentOutOfRangeException>(() => Stair.Kernels.BprLoss.Compute(table.AsSpan(0, users * d), table.AsSpan(users * d), d, u, [0, 1, 2, 5], n, gu, gi));
        ArgumentAssert.Untouched(ArgumentAssert.Poisoned(users * d), gu, "userGradient");
        ArgumentAssert.Untouched(ArgumentAssert.Poisoned(items * d), gi, "itemGradient");
        ArgumentAssert.Throws("userGradient", () => Stair.Kernels.BprLoss.Compute(table.AsSpan(0, users * d), table.AsSpan(users * d), d, u, p, n, gu, gu.AsSpan(0, items * d)));
        ArgumentAssert.Throws("itemGradient", () => Stair.Kernels.BprLoss.Compute(table.AsSpan(0, users * d), table.AsSpan(users * d), d, u, p, n, gu, table.AsSpan(users * d)));
    }

    internal static void AssertBitwise(float[] expected, float[] actual, string what) => Bits.AssertBitsEqual(expected, actual, what);
}
