// Properties of the recommendation-side kernels against RecommendationReference and
// Float64Reference.KnnTopK:
// • BPR loss + gradient over a generated table and batch (repeated users and items, an empty
//   batch, one table or separate user/item tables). Tolerances are the example-based tests':
//   the CPU tiers within the reference's own first-order bounds (BprLossTests: x, softplus and
//   σ in float64, then rounded), the ILGPU backends within 3× the gradient bound and the loss
//   bound plus 8u·max(1, |loss|) (BackendBprLossTests: σ and softplus evaluated in float, a few
//   more roundings of s); plus PropertyAssert's underflow floor per FMA of a gradient element.
// • Ranking: small-integer embeddings make every score exact in float32 and float64, so ties are
//   real and the top-K (ties to the lower index, excluded items left out, −1 padding) must equal
//   the full float64 sort exactly on every tier and thread count, and Recall/NDCG on every backend
//   must equal the reference metrics of those lists (to 1e-12: only the averaging order differs).
// • kNN top-k: the kernel ranks by the float64 dot of unit rows rounded to float32, the reference by
//   the raw float64 cosine; rounding a unit row moves it by at most u in norm, so a score moves by
//   at most 2u + u², and two scores compare within 4u: an item at rank x may differ from the
//   reference's only if its reference cosine is within 8u (2× slack) of the reference's x-th best.
//   Every tier and backend must return the CPU scalar tier's lists exactly (kernels.md, KnnGraph:
//   survivors of the float32 screen are rescored in float64, so all backends agree).
using CsCheck;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Properties;

public sealed record BprCase(int Users, int Items, int Width, float[] Table, int[] U, int[] P, int[] N, bool Separate, int Threads)
{
    public override string ToString()
        => $"{Users} users, {Items} items, d = {Width}, {(Separate ? "separate tables" : "one table")}; u = {Show.Ints(U)}; p = {Show.Ints(P)}; n = {Show.Ints(N)}; "
            + $"table = {Show.Floats(Table)}; threads = {Threads}";
}

public sealed record RankingCase(int Users, int Items, int Width, float[] Table, CsrCase Excluded, CsrCase Relevant, int K, int[] Ks, int Threads)
{
    public override string ToString()
        => $"{Users} users, {Items} items, d = {Width}, k = {K}, ks = {Show.Ints(Ks)}; excluded = {Excluded}; relevant = {Relevant}; table = {Show.Floats(Table)}; threads = {Threads}";
}

public sealed record KnnCase(int Items, int Columns, int K, float[] Features, int Threads)
{
    public override string ToString() => $"{Items} items, F = {Columns}, k = {K}; features = {Show.Floats(Features)}; threads = {Threads}";
}

[Collection(nameof(PropertyCollection))]
public class RecommendationProperties(PropertyContexts contexts)
{
    public static TheoryData<string> Backends() => PropertyTarget.Backends();

    // ---- BPR ----

    private static Gen<BprCase> BprCases(Sizes sizes)
        => from users in Gen.Int[1, sizes.MaxUsers]
           from items in Gen.Int[1, sizes.MaxItems]
           from d in Generators.Width(sizes)
           from scale in Gen.OneOf(1f, 8f) // 8: |x| up to ~8²·d, deep in softplus' linear and flat tails
           from table in Generators.Table((users + items) * d)
           from triples in Gen.Select(Gen.Int[0, users - 1], Gen.Int[0, items - 1], Gen.Int[0, items - 1]).Array[0, sizes.MaxBatch]
           from separate in Gen.Bool
           from threads in Generators.Threads
           select new BprCase(users, items, d, Array.ConvertAll(table, x => x * scale),
               Array.ConvertAll(triples, t => t.Item1), Array.ConvertAll(triples, t => t.Item2), Array.ConvertAll(triples, t => t.Item3), separate, threads);

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Bpr_loss_and_gradient_match_float64(string targetName)
    {
        PropertyTarget target = PropertyTarget.Named(targetName);
        target.SkipIfMissing();
        PropertyRun.Check("bpr", target, BprCases(Sizes.For(target)), c =>
        {
            int rows = c.Users + c.Items, d = c.Width;
            BprReferenceResult expected = RecommendationReference.Bpr(c.Table, d, c.Users, c.U, c.P, c.N);
            double lossTol = target.IsIlgpu ? expected.LossBound + 8 * Reference.U * Math.Max(1, Math.Abs(expected.Loss)) : expected.LossBound;
            double gradientScale = target.IsIlgpu ? 3 : 1;
            double floor = 2 * (c.U.Length + 3) * PropertyAssert.Underflow;
            float[]? first = null;
            foreach ((string label, ComputeContext context) in contexts.For(target, c.Threads))
            {
                double loss;
                float[] gradient;
                if (c.Separate)
                {
                    using DeviceTable eu = context.Upload(c.Table.AsSpan(0, c.Users * d), c.Users, d);
                    using DeviceTable ei = context.Upload(c.Table.AsSpan(c.Users * d), c.Items, d);
                    using DeviceTable gu = context.Upload(TestGraphs.Poisoned(c.Users * d), c.Users, d); // overwrite must write every element
                    using DeviceTable gi = context.Upload(TestGraphs.Poisoned(c.Items * d), c.Items, d);
                    loss = context.ComputeBprLoss(eu, ei, c.U, c.P, c.N, gu, gi);
                    gradient = [.. gu.ToArray(), .. gi.ToArray()];
                }
                else
                {
                    using DeviceTable e = context.Upload(c.Table, rows, d);
                    using DeviceTable g = context.Upload(TestGraphs.Poisoned(rows * d), rows, d);
                    loss = context.ComputeBprLoss(e, c.Users, c.U, c.P, c.N, g);
                    gradient = g.ToArray();
                }
                Assert.True(Math.Abs(loss - expected.Loss) <= lossTol, $"{label}: loss {loss:R}, expected {expected.Loss:R} (tolerance {lossTol:E2})");
                PropertyAssert.Close(expected.Gradient, expected.GradientBound, gradient, gradientScale, floor, $"{label} gradient");
                PropagationProperties.AssertSameBits(ref first, [(float)loss, .. gradient], label);
            }
        }, c => c.ToString());
    }

    // ---- Ranking ----

    /// <summary>Users × items sets with repeats and any order (ItemSets sorts and deduplicates them), empty rows included.</summary>
    private static Gen<CsrCase> Sets(int users, int items)
        => Gen.Int[0, items - 1].Array[0, items].Array[users].Select(rows =>
        {
            var pointers = new int[users + 1];
            for (int u = 0; u < users; u++)
            {
                pointers[u + 1] = pointers[u] + rows[u].Length;
            }
            int[] indices = rows.SelectMany(r => r).ToArray();
            return new CsrCase(users, items, pointers, indices, Enumerable.Repeat(1f, indices.Length).ToArray());
        });

    private static Gen<RankingCase> RankingCases(Sizes sizes)
        => from users in Gen.Int[1, sizes.MaxUsers]
           from items in Gen.Int[1, sizes.MaxItems]
           from d in Generators.Width(sizes)
           from table in Gen.Int[-2, 2].Array[(users + items) * d]
           from excluded in Sets(users, items)
           from relevant in Sets(users, items)
           from k in Gen.Int[1, items]
           from ks in Gen.Int[1, items].Array[1, 4]
           from threads in Generators.Threads
           select new RankingCase(users, items, d, Array.ConvertAll(table, x => (float)x), excluded, relevant, k, ks, threads);

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Ranking_top_k_and_metrics_match_float64(string targetName)
    {
        PropertyTarget target = PropertyTarget.Named(targetName);
        target.SkipIfMissing();
        PropertyRun.Check("ranking", target, RankingCases(Sizes.For(target)), c =>
        {
            int d = c.Width;
            ReadOnlySpan<float> userTable = c.Table.AsSpan(0, c.Users * d), itemTable = c.Table.AsSpan(c.Users * d);
            CsrMatrix excluded = c.Excluded.Matrix(), relevant = c.Relevant.Matrix();
            if (!target.IsIlgpu)
            {
                // Top-K has no context entry point: the host kernel on every tier.
                int[] expectedTop = RecommendationReference.TopK(userTable, itemTable, d, excluded, c.K);
                foreach (SimdTier tier in PropertyContexts.Tiers)
                {
                    var top = new int[c.Users * c.K];
                    Stair.Kernels.Ranking.TopK(userTable, itemTable, d, excluded, c.K, top, new CpuOptions(tier, c.Threads));
                    Assert.True(expectedTop.AsSpan().SequenceEqual(top), $"cpu/{tier}/{c.Threads}t top-{c.K}: {Show.Ints(top)}, float64 sort {Show.Ints(expectedTop)}");
                }
            }
            int kMax = c.Ks.Max();
            int[] lists = RecommendationReference.TopK(userTable, itemTable, d, excluded, kMax);
            var targets = new RankingTargets(excluded, relevant);
            foreach ((string label, ComputeContext context) in contexts.For(target, c.Threads))
            {
                using DeviceTable z = context.Upload(c.Table, c.Users + c.Items, d);
                RankingMetrics m = context.EvaluateRanking(z, c.Users, targets, c.Ks);
                for (int x = 0; x < c.Ks.Length; x++)
                {
                    (double recall, double ndcg, int evaluated) = RecommendationReference.Metrics(lists, kMax, relevant, c.Ks[x]);
                    Assert.True(Math.Abs(m.Recall[x] - recall) <= 1e-12 && Math.Abs(m.Ndcg[x] - ndcg) <= 1e-12,
                        $"{label} @{c.Ks[x]}: recall {m.Recall[x]:R}, ndcg {m.Ndcg[x]:R}; float64 {recall:R}, {ndcg:R}");
                    Assert.Equal(evaluated, m.UsersEvaluated);
                    Assert.Equal(c.Users - evaluated, m.UsersSkipped);
                }
            }
        }, c => c.ToString());
    }

    // ---- kNN ----

    /// <summary>Features with a zero row and an exact twin now and then (a real tie: same raw row, same rounded unit row).</summary>
    private static Gen<KnnCase> KnnCases(Sizes sizes)
        => from items in Gen.Int[2, sizes.MaxItems]
           from columns in Gen.Int[1, 40]
           from features in Generators.Table(items * columns)
           from zeroRow in Gen.Int[-items, items - 1]
           from twin in Gen.Int[-items, items - 1]
           from k in Gen.Int[1, items - 1]
           from threads in Generators.Threads
           select new KnnCase(items, columns, k, Shape(features, items, columns, zeroRow, twin), threads);

    private static float[] Shape(float[] features, int items, int columns, int zeroRow, int twin)
    {
        if (twin >= 0)
        {
            features.AsSpan((twin + 1) % items * columns, columns).CopyTo(features.AsSpan(twin * columns, columns));
        }
        if (zeroRow >= 0)
        {
            features.AsSpan(zeroRow * columns, columns).Clear();
        }
        return features;
    }

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Knn_top_k_matches_float64_up_to_rounding_ties(string targetName)
    {
        PropertyTarget target = PropertyTarget.Named(targetName);
        target.SkipIfMissing();
        PropertyRun.Check("knn-topk", target, KnnCases(Sizes.For(target)), c =>
        {
            var modality = new KnnModality(c.Features, c.Columns, c.K);
            int[] expected = Float64Reference.KnnTopK(c.Features, c.Items, c.Columns, c.K);
            int[] scalar = Stair.Kernels.KnnGraph.TopK(c.Items, modality, new CpuOptions(SimdTier.Scalar, 1));
            AssertNearTies(c, expected, scalar, "cpu/Scalar/1t");
            foreach ((string label, ComputeContext context) in contexts.For(target, c.Threads))
            {
                int[] got = context.KnnTopK(c.Items, modality);
                Assert.True(scalar.AsSpan().SequenceEqual(got), $"{label}: {Show.Ints(got)}, the scalar tier gives {Show.Ints(scalar)}");
            }
        }, c => c.ToString());
    }

    private static void AssertNearTies(KnnCase c, int[] expected, int[] got, string label)
    {
        const double Margin = 8 * Float64Reference.UnitRoundoff;
        for (int i = 0; i < c.Items; i++)
        {
            ReadOnlySpan<int> row = got.AsSpan(i * c.K, c.K);
            for (int r = 0; r < c.K; r++)
            {
                Assert.True(row[r] != i && row[r] >= 0 && row[r] < c.Items && row.IndexOf(row[r]) == r, $"{label}: item {i}'s list {Show.Ints(row.ToArray())} is not k distinct other items");
                int e = expected[i * c.K + r];
                if (row[r] != e)
                {
                    double mine = Cosine(c, i, row[r]), best = Cosine(c, i, e);
                    Assert.True(mine >= best - Margin, $"{label}: item {i} rank {r}: neighbour {row[r]} (cosine {mine:R}), float64 picks {e} (cosine {best:R})");
                }
            }
        }
    }

    private static double Cosine(KnnCase c, int a, int b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int j = 0; j < c.Columns; j++)
        {
            double x = c.Features[a * c.Columns + j], y = c.Features[b * c.Columns + j];
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        return na > 0 && nb > 0 ? dot / (Math.Sqrt(na) * Math.Sqrt(nb)) : 0;
    }
}
