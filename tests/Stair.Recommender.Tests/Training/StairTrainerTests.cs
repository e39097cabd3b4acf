// The STAIR trainer end to end on a tiny data set with planted structure: it must learn
// (clearly better than a random ranking), be reproducible bit for bit on the CPU backend,
// write checkpoints, and refuse options that do not fit the data. That learning beats the
// untrained model (every ablation, and not when the step is broken): StairTrainerLearningTests.
using Stair.Kernels;
using Stair.Kernels.IO;
using Stair.Recommender.Tests.Infrastructure;
using Stair.Recommender.Training;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Recommender.Tests.Training;

public class StairTrainerTests
{
    // 4 taste clusters; users interact with items of their cluster; features say the item's cluster plus noise.
    // With featureClusters = 2 the features say only which pair of taste clusters an item belongs to (clusters
    // 0–1 look alike, and 2–3), so the modality initialization ranks half the items of its pair first and only
    // training can tell the pair apart. The random draws are the same for every featureClusters. With skew > 0 the
    // k-th item of a cluster is drawn with weight 1/(k + 1)^skew (popular items, which only the interactions reveal).
    internal static RecommendationDataset Planted(int usersPerCluster = 30, int itemsPerCluster = 25, int perUser = 12, ulong seed = 7, int featureClusters = 4, double skew = 0)
    {
        const int clusters = 4;
        int users = clusters * usersPerCluster, items = clusters * itemsPerCluster;
        var rng = new Random((int)seed);
        var split = new List<int>[3] { [], [], [] };
        var splitItems = new List<int>[3] { [], [], [] };
        for (int u = 0; u < users; u++)
        {
            int c = u / usersPerCluster;
            int[] chosen = skew == 0
                ? Enumerable.Range(c * itemsPerCluster, itemsPerCluster).OrderBy(_ => rng.Next()).Take(perUser).ToArray()
                // Weighted draws without replacement (Efraimidis–Spirakis keys), then shuffled so the split is not by popularity.
                : Enumerable.Range(0, itemsPerCluster).OrderBy(k => -Math.Log(1 - rng.NextDouble()) * Math.Pow(k + 1, skew)).Take(perUser)
                    .Select(k => c * itemsPerCluster + k).ToArray().OrderBy(_ => rng.Next()).ToArray();
            for (int t = 0; t < chosen.Length; t++)
            {
                int s = t < perUser - 4 ? 0 : t < perUser - 2 ? 1 : 2;
                split[s].Add(u);
                splitItems[s].Add(chosen[t]);
            }
        }
        CsrMatrix Binary(int s) => GraphBuilder.FromEdges(users, items, split[s].ToArray(), splitItems[s].ToArray(), [], false, GraphNormalization.None);
        const int textColumns = 12, tagColumns = 5;
        var text = new float[items * textColumns];
        var tags = new float[items * tagColumns];
        for (int i = 0; i < items; i++)
        {
            int c = i / itemsPerCluster * featureClusters / clusters;
            for (int j = 0; j < textColumns; j++)
            {
                text[i * textColumns + j] = (j % clusters == c ? 1f : 0f) + 0.3f * (float)(rng.NextDouble() - 0.5);
            }
            tags[i * tagColumns + c] = 1f;
            tags[i * tagColumns + 4] = rng.Next(2);
        }
        return new RecommendationDataset
        {
            Name = "planted",
            Users = users,
            Items = items,
            Train = Binary(0),
            Validation = Binary(1),
            Test = Binary(2),
            Modalities = [new ModalityFeatures("text", text, textColumns, 5), new ModalityFeatures("tags", tags, tagColumns, 1)],
        };
    }

    internal static StairOptions Small(int epochs = 30) => new()
    {
        Backend = Backend.Cpu,
        Epochs = epochs,
        BatchSize = 256,
        LearningRate = 0.01f,
        Dim = 16,
        EvalEvery = 5,
        Patience = 0,
        Seed = 11,
        Cutoffs = [5, 20],
    };

    // Expected NDCG@K of a uniformly random ranking of the non-excluded items, by simulation with a fixed seed.
    private static double RandomNdcg(RecommendationDataset data, int k)
    {
        var rng = new Random(3);
        double sum = 0;
        int counted = 0;
        for (int u = 0; u < data.Users; u++)
        {
            var excluded = new HashSet<int>(data.Train.ColumnIndices[data.Train.RowPointers[u]..data.Train.RowPointers[u + 1]].ToArray());
            excluded.UnionWith(data.Validation.ColumnIndices[data.Validation.RowPointers[u]..data.Validation.RowPointers[u + 1]].ToArray());
            var relevant = new HashSet<int>(data.Test.ColumnIndices[data.Test.RowPointers[u]..data.Test.RowPointers[u + 1]].ToArray());
            if (relevant.Count == 0)
            {
                continue;
            }
            int[] candidates = Enumerable.Range(0, data.Items).Where(i => !excluded.Contains(i)).ToArray();
            for (int trial = 0; trial < 20; trial++)
            {
                int[] ranked = candidates.OrderBy(_ => rng.Next()).Take(k).ToArray();
                double dcg = 0, ideal = 0;
                for (int r = 0; r < ranked.Length; r++)
                {
                    dcg += relevant.Contains(ranked[r]) ? 1 / Math.Log2(r + 2) : 0;
                }
                for (int r = 0; r < Math.Min(k, relevant.Count); r++)
                {
                    ideal += 1 / Math.Log2(r + 2);
                }
                sum += dcg / ideal;
                counted++;
            }
        }
        return sum / counted;
    }

    [Fact]
    public void Stair_learns_planted_structure_far_better_than_random()
    {
        RecommendationDataset data = Planted();
        TrainingReport report = new StairTrainer(data, Small()).Train();
        double random = RandomNdcg(data, 20);
        Assert.True(report.Test.NdcgAt(20) > 2 * random, $"test NDCG@20 {report.Test.NdcgAt(20):F4} vs random {random:F4}");
        Assert.Equal(6, report.Evaluations.Count);
        Assert.Equal(30, report.EpochLosses.Length);
        Assert.Equal(30, report.EpochSeconds.Length);
        Assert.All(report.EpochSeconds, t => Assert.True(t > 0 && double.IsFinite(t)));
        Assert.Equal(report.EpochSeconds.Average(), report.SecondsPerEpoch, 1e-9);
        double[] sorted = report.EpochSeconds.Order().ToArray();
        Assert.Equal((sorted[14] + sorted[15]) / 2, report.MedianEpochSeconds);
        Assert.True(report.EpochLosses[^1] < report.EpochLosses[0], "the BPR loss must fall");
        Assert.Contains(report.Evaluations, e => e.Epoch == report.BestEpoch);
    }

    [Fact]
    public void A_fixed_seed_on_the_cpu_reproduces_every_metric_bit_for_bit()
    {
        RecommendationDataset data = Planted();
        TrainingReport a = new StairTrainer(data, Small(10)).Train();
        TrainingReport b = new StairTrainer(data, Small(10)).Train();
        Bits.AssertBitsEqual(a.EpochLosses, b.EpochLosses, "epoch losses, second run");
        Bits.AssertBitsEqual(a.Test.Recall.ToArray(), b.Test.Recall.ToArray(), "test recall, second run");
        Bits.AssertBitsEqual(a.Test.Ndcg.ToArray(), b.Test.Ndcg.ToArray(), "test NDCG, second run");
        Bits.AssertBitsEqual(a.Evaluations.SelectMany(e => e.Validation.Ndcg).ToArray(), b.Evaluations.SelectMany(e => e.Validation.Ndcg).ToArray(), "validation NDCG of every evaluation, second run");
        TrainingReport other = new StairTrainer(data, Small(10) with { Seed = 12 }).Train();
        Assert.NotEqual(a.EpochLosses, other.EpochLosses);
    }

    [Fact]
    public void Early_stopping_checkpoints_and_the_json_report_round_trip()
    {
        RecommendationDataset data = Planted();
        using var dir = new TempDirectory();
        // A learning rate this small cannot improve validation NDCG for long: patience 1 stops early.
        StairOptions options = Small(60) with { LearningRate = 1e-5f, Patience = 1, EvalEvery = 1, CheckpointDirectory = dir.Path };
        TrainingReport report = new StairTrainer(data, options).Train();
        Assert.True(report.StoppedEarly);
        Assert.True(report.EpochLosses.Length < 60);
        float[] users = Npy.ReadMatrix(Path.Combine(dir.Path, "users.npy"), out int ur, out int uc);
        Npy.ReadMatrix(Path.Combine(dir.Path, "items.npy"), out int ir, out int ic);
        Assert.Equal((data.Users, 16, data.Items, 16), (ur, uc, ir, ic));
        Assert.All(users, v => Assert.True(float.IsFinite(v)));
        TrainingReport back = TrainingReport.FromJson(report.ToJson());
        Bits.AssertBitsEqual(report.Test.Ndcg.ToArray(), back.Test.Ndcg.ToArray(), "NDCG after the JSON round trip");
        Assert.Equal(report.BestEpoch, back.BestEpoch);
        Assert.Equal(report.Options.Seed, back.Options.Seed);
    }

    [Fact]
    public void Options_that_do_not_fit_the_data_are_refused_before_training()
    {
        RecommendationDataset data = Planted();
        Assert.Contains("--knn gives 1", Assert.Throws<ArgumentException>(() => new StairTrainer(data, Small() with { Knn = [3] })).Message);
        Assert.Throws<ArgumentException>(() => new StairTrainer(data, Small() with { LearningRate = -1 }));
        Assert.Throws<ArgumentException>(() => new StairTrainer(data, Small() with { Epochs = 0 }));
        Assert.Throws<ArgumentException>(() => new StairTrainer(data, Small() with { Gamma = double.NaN }));
        RecommendationDataset featureless = new()
        {
            Name = "bare", Users = data.Users, Items = data.Items, Train = data.Train, Validation = data.Validation, Test = data.Test, Modalities = [],
        };
        Assert.Contains("no item features", Assert.Throws<ArgumentException>(() => new StairTrainer(featureless, Small())).Message);
        new StairTrainer(featureless, Small(5).AsLightGcn()).Train(); // LightGCN needs no features
        Assert.Throws<ArgumentException>(() => new StairTrainer(data, Small() with { Cutoffs = [500] }).Train());
    }
}
