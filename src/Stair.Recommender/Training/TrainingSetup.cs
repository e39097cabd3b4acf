// What every run prepares once on the host before the first batch, the same for one process and
// for every rank of a distributed run: the training pairs, Ã, β of the FSC filter, S̃ and b of
// BSC, the initial table (whitened modalities or N(0, 0.1²)), the negative sampler and the
// ranking targets. Deterministic: the same data, options and backend give the same bits.
using Stair.Kernels;

namespace Stair.Recommender.Training;

internal sealed class TrainingSetup
{
    public const int SelectionCutoff = 20;

    public required int Users { get; init; }

    public required int Items { get; init; }

    public int Nodes => Users + Items;

    public required int[] PairUsers { get; init; }

    public required int[] PairItems { get; init; }

    public required int[] Cutoffs { get; init; }

    /// <summary>Ã, the symmetric normalized user–item adjacency.</summary>
    public required CsrMatrix Adjacency { get; init; }

    /// <summary>β of the forward filter (all 1 for LightGCN's equal layer weights).</summary>
    public required float[] Beta { get; init; }

    /// <summary>S̃ (null without BSC).</summary>
    public required CsrMatrix? Knn { get; init; }

    /// <summary>b of BSC (null without BSC).</summary>
    public required float[]? Strengths { get; init; }

    /// <summary>The initial (users + items) × d table.</summary>
    public required float[] Initial { get; init; }

    public required string Details { get; init; }

    public required NegativeSampler Sampler { get; init; }

    public required RankingTargets ValidationTargets { get; init; }

    public required RankingTargets TestTargets { get; init; }

    /// <summary>Builds everything on the host; <paramref name="context"/> runs the kNN graph and the whitening.</summary>
    public static TrainingSetup Build(RecommendationDataset data, StairOptions o, ComputeContext context)
    {
        int users = data.Users, items = data.Items, n = users + items, d = o.Dim;
        _ = checked(n * d); // every table is one .NET array on the CPU backend
        (int[] pairUsers, int[] pairItems) = StairTrainer.Pairs(data.Train);
        int[] cutoffs = o.Cutoffs.Append(SelectionCutoff).Distinct().Order().ToArray();
        if (cutoffs[^1] > items)
        {
            throw new ArgumentException($"The largest cut-off K = {cutoffs[^1]} exceeds the {items} items of {data.Name}.");
        }

        // Ã and the FSC filter (LightGCN's equal layer weights are the β → 1 limit of the same kernel).
        CsrMatrix adjacency = GraphBuilder.UserItemAdjacency(users, items, pairUsers, pairItems);
        float[] beta = o.Fsc ? StepwiseWeights.Forward(d, o.Gamma) : Enumerable.Repeat(1f, d).ToArray();
        int[] ks = (o.Knn ?? data.Modalities.Select(m => m.DefaultK).ToList()).ToArray();
        string details = $"Ã {n:N0} nodes, {adjacency.NonZeros:N0} entries";
        CsrMatrix? knn = null;
        float[]? strengths = null;
        if (o.Bsc)
        {
            var modalities = data.Modalities.Select((m, i) => new KnnModality(m.Features, m.Columns, ks[i])).ToList();
            knn = context.BuildKnnGraph(items, modalities);
            strengths = StepwiseWeights.Backward(d, o.Gamma);
            details += $"; S̃ {knn.NonZeros:N0} entries (k = {string.Join(",", ks)})";
        }

        float[] initial = new float[(long)n * d];
        if (o.ModalityInit)
        {
            var modalities = data.Modalities.Select((m, i) => new WhiteningModality(m.Features, m.Columns, ks[i], m.Name)).ToList();
            WhiteningResult whitened = context.Whiten(modalities, new WhiteningOptions { Dimension = d });
            whitened.ItemTable.CopyTo(initial.AsSpan(users * d));
            CsrMatrix left = GraphBuilder.LeftNormalizedInteractions(users, items, pairUsers, pairItems);
            context.UserTable(whitened, left).CopyTo(initial.AsSpan(0, users * d));
            details += "; whitened " + string.Join(", ", whitened.Modalities.Select(m => $"{m.Name} rank {m.Rank}, cond {m.ConditionNumber:G3}"));
        }
        else
        {
            // LightGCN's initialization: N(0, 0.1²) per element.
            var rng = new SeededRandom(SeededRandom.Mix(o.Seed, 0x1417));
            for (int i = 0; i < initial.Length; i++)
            {
                initial[i] = (float)(0.1 * rng.NextGaussian());
            }
        }

        return new TrainingSetup
        {
            Users = users,
            Items = items,
            PairUsers = pairUsers,
            PairItems = pairItems,
            Cutoffs = cutoffs,
            Adjacency = adjacency,
            Beta = beta,
            Knn = knn,
            Strengths = strengths,
            Initial = initial,
            Details = details,
            Sampler = new NegativeSampler(data.Train),
            ValidationTargets = new RankingTargets(data.Train, data.Validation),
            TestTargets = new RankingTargets(Union(data.Train, data.Validation), data.Test),
        };
    }

    private static CsrMatrix Union(CsrMatrix a, CsrMatrix b)
    {
        (int[] au, int[] ai) = StairTrainer.Pairs(a);
        (int[] bu, int[] bi) = StairTrainer.Pairs(b);
        return GraphBuilder.FromEdges(a.Rows, a.Columns, [.. au, .. bu], [.. ai, .. bi], [], symmetrize: false, GraphNormalization.None);
    }
}
