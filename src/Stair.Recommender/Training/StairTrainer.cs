// A compact STAIR recommender written only against the public kernel API. Once, on the
// host: the user–item graph Ã, the item–item kNN graph S̃ and the whitened modality
// initialization. Per batch, on the context's device: FSC forward, BPR loss and gradient,
// FSC backward, AdamW for the users and BSC-smoothed AdamW for the items; only the loss
// scalar comes back. Every few epochs: full-ranking evaluation on the validation split,
// early stopping on NDCG@20, and the test metrics of the best epoch at the end.
using System.Diagnostics;
using Stair.Kernels;
using Stair.Kernels.IO;

namespace Stair.Recommender.Training;

/// <summary>Trains STAIR (or one of its ablations) on a <see cref="RecommendationDataset"/>.</summary>
/// <remarks>
/// Deterministic: with the same data, options and backend, every run gives the same metrics bit for bit
/// (seeded shuffles and negatives, kernels with a fixed order of accumulation).
/// </remarks>
public sealed class StairTrainer
{
    private const int SelectionCutoff = 20;
    private readonly RecommendationDataset _data;
    private readonly StairOptions _options;

    /// <summary>Prepares a trainer; nothing runs until <see cref="Train"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid or do not fit the data set.</exception>
    public StairTrainer(RecommendationDataset dataset, StairOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Knn is not null && options.Knn.Count != dataset.Modalities.Count)
        {
            throw new ArgumentException($"--knn gives {options.Knn.Count} value(s) but {dataset.Name} has {dataset.Modalities.Count} modalit{(dataset.Modalities.Count == 1 ? "y" : "ies")} ({string.Join(", ", dataset.Modalities.Select(m => m.Name))}).", nameof(options));
        }
        if ((options.ModalityInit || options.Bsc) && dataset.Modalities.Count == 0)
        {
            throw new ArgumentException($"{dataset.Name} has no item features: modality initialization and BSC need at least one modality (use the LightGCN ablation).", nameof(options));
        }
        if (dataset.Train.NonZeros == 0)
        {
            throw new ArgumentException($"{dataset.Name} has no training interactions.", nameof(dataset));
        }
        _data = dataset;
        _options = options;
    }

    /// <summary>A deliberate fault in the training step, for tests that must see broken learning fail (None otherwise).</summary>
    internal TrainerFault Fault { get; init; }

    /// <summary>Raised when the graphs, initialization and device tables are ready.</summary>
    public event EventHandler<PreparedEventArgs>? Prepared;

    /// <summary>Raised after every batch (for progress displays).</summary>
    public event EventHandler<BatchEventArgs>? BatchCompleted;

    /// <summary>Raised after every validation evaluation.</summary>
    public event EventHandler<EvaluationPoint>? Evaluated;

    /// <summary>Trains, evaluates and returns the report (test metrics at the best validation epoch).</summary>
    public TrainingReport Train()
    {
        StairOptions o = _options;
        var clock = Stopwatch.StartNew();
        int users = _data.Users, items = _data.Items, n = users + items, d = o.Dim;
        _ = checked(n * d); // every table below is one .NET array on the CPU backend
        (int[] pairUsers, int[] pairItems) = Pairs(_data.Train);
        int[] cutoffs = o.Cutoffs.Append(SelectionCutoff).Distinct().Order().ToArray();
        if (cutoffs[^1] > items)
        {
            throw new ArgumentException($"The largest cut-off K = {cutoffs[^1]} exceeds the {items} items of {_data.Name}.");
        }

        using ComputeContext context = ComputeContext.Create(o.Backend);
        // Ã and the FSC filter (LightGCN's equal layer weights are the β → 1 limit of the same kernel).
        CsrMatrix adjacency = GraphBuilder.UserItemAdjacency(users, items, pairUsers, pairItems);
        using DeviceGraph graph = context.Upload(adjacency);
        float[] beta = o.Fsc ? StepwiseWeights.Forward(d, o.Gamma) : Enumerable.Repeat(1f, d).ToArray();
        using StepwiseFilter forward = context.CreateFilter(beta, o.Layers);

        int[] ks = (o.Knn ?? _data.Modalities.Select(m => m.DefaultK).ToList()).ToArray();
        string details = $"Ã {n:N0} nodes, {adjacency.NonZeros:N0} entries";
        DeviceGraph? knn = null;
        StepwiseFilter? backward = null;
        var tables = new List<IDisposable>();
        try
        {
            if (o.Bsc)
            {
                var modalities = _data.Modalities.Select((m, i) => new KnnModality(m.Features, m.Columns, ks[i])).ToList();
                CsrMatrix s = context.BuildKnnGraph(items, modalities);
                knn = context.Upload(s);
                backward = context.CreateFilter(StepwiseWeights.Backward(d, o.Gamma), o.Layers);
                details += $"; S̃ {s.NonZeros:N0} entries (k = {string.Join(",", ks)})";
            }

            float[] initial = new float[(long)n * d];
            if (o.ModalityInit)
            {
                var modalities = _data.Modalities.Select((m, i) => new WhiteningModality(m.Features, m.Columns, ks[i], m.Name)).ToList();
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

            DeviceTable embeddings = Track(tables, context.Upload(initial, n, d));
            DeviceTable propagated = Track(tables, context.CreateTable(n, d));
            DeviceTable propagatedGradient = Track(tables, context.CreateTable(n, d));
            DeviceTable gradient = Track(tables, context.CreateTable(n, d));
            DeviceTable userRows = embeddings.Slice(0, users), itemRows = embeddings.Slice(users, items);
            DeviceTable userGradient = gradient.Slice(0, users), itemGradient = gradient.Slice(users, items);
            DeviceAdamState userState = Track(tables, context.CreateAdamState(users, d));
            DeviceAdamState itemState = Track(tables, context.CreateAdamState(items, d));
            var adam = new AdamWOptions(o.LearningRate, WeightDecay: o.WeightDecay);
            var sampler = new NegativeSampler(_data.Train);
            var validationTargets = new RankingTargets(_data.Train, _data.Validation);
            var testTargets = new RankingTargets(Union(_data.Train, _data.Validation), _data.Test);

            double setupSeconds = clock.Elapsed.TotalSeconds;
            Prepared?.Invoke(this, new PreparedEventArgs(context.Device, setupSeconds, details));

            int pairs = pairUsers.Length, batchSize = Math.Min(o.BatchSize, pairs);
            int batches = (pairs + batchSize - 1) / batchSize;
            int[] order = Enumerable.Range(0, pairs).ToArray();
            var batchUsers = new int[batchSize];
            var batchPositives = new int[batchSize];
            var batchNegatives = new int[batchSize];
            var losses = new List<double>();
            var epochSeconds = new List<double>();
            var evaluations = new List<EvaluationPoint>();
            double trainingSeconds = 0, bestNdcg = double.NegativeInfinity;
            int bestEpoch = 0, sinceBest = 0;
            float[]? best = null;
            bool stoppedEarly = false;

            for (int epoch = 1; epoch <= o.Epochs; epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                new SeededRandom(SeededRandom.Mix(o.Seed, (ulong)epoch)).Shuffle(order);
                ulong negativeSeed = SeededRandom.Mix(o.Seed ^ 0x6E6567UL, (ulong)epoch);
                double lossSum = 0;
                for (int batch = 0; batch < batches; batch++)
                {
                    int start = batch * batchSize, count = Math.Min(batchSize, pairs - start);
                    for (int t = 0; t < count; t++)
                    {
                        batchUsers[t] = pairUsers[order[start + t]];
                        batchPositives[t] = pairItems[order[start + t]];
                    }
                    ReadOnlySpan<int> u = batchUsers.AsSpan(0, count), p = batchPositives.AsSpan(0, count);
                    Span<int> q = batchNegatives.AsSpan(0, count);
                    sampler.Sample(u, q, negativeSeed, start);

                    context.Fsc(graph, embeddings, propagated, forward);
                    lossSum += context.ComputeBprLoss(propagated, users, u, p, q, propagatedGradient, GradientMode.Overwrite);
                    if (Fault == TrainerFault.FlipBprGradient)
                    {
                        propagatedGradient.Upload(propagatedGradient.ToArray().Select(g => -g).ToArray());
                    }
                    if (Fault == TrainerFault.ZeroFscBackward)
                    {
                        gradient.Upload(new float[gradient.Length]);
                    }
                    else
                    {
                        context.FscBackward(graph, propagatedGradient, gradient, forward);
                    }
                    if (Fault != TrainerFault.SkipAdamW)
                    {
                        context.AdamWStep(userRows, userGradient, userState, adam);
                        if (knn is not null)
                        {
                            context.BscAdamWStep(itemRows, itemGradient, itemState, knn, backward!, adam);
                        }
                        else
                        {
                            context.AdamWStep(itemRows, itemGradient, itemState, adam);
                        }
                    }

                    double elapsed = epochClock.Elapsed.TotalSeconds;
                    BatchCompleted?.Invoke(this, new BatchEventArgs(epoch, batch + 1, batches, lossSum / (batch + 1),
                        (start + count) / Math.Max(elapsed, 1e-9), TimeSpan.FromSeconds(elapsed / (batch + 1) * (batches - batch - 1))));
                }
                context.Synchronize();
                double seconds = epochClock.Elapsed.TotalSeconds;
                trainingSeconds += seconds;
                epochSeconds.Add(seconds);
                losses.Add(lossSum / batches);

                if (epoch % o.EvalEvery == 0 || epoch == o.Epochs)
                {
                    context.Fsc(graph, embeddings, propagated, forward);
                    RankingMetrics validation = context.EvaluateRanking(propagated, users, validationTargets, cutoffs);
                    var point = new EvaluationPoint(epoch, losses[^1], validation, clock.Elapsed.TotalSeconds);
                    evaluations.Add(point);
                    Evaluated?.Invoke(this, point);
                    double ndcg = validation.NdcgAt(SelectionCutoff);
                    if (ndcg > bestNdcg)
                    {
                        bestNdcg = ndcg;
                        bestEpoch = epoch;
                        best = embeddings.ToArray();
                        sinceBest = 0;
                    }
                    else if (o.Patience > 0 && ++sinceBest >= o.Patience)
                    {
                        stoppedEarly = epoch < o.Epochs;
                        break;
                    }
                }
            }

            embeddings.Upload(best!);
            context.Fsc(graph, embeddings, propagated, forward);
            RankingMetrics test = context.EvaluateRanking(propagated, users, testTargets, cutoffs);
            if (o.CheckpointDirectory is { } directory)
            {
                Directory.CreateDirectory(directory);
                Npy.Write(Path.Combine(directory, "users.npy"), best.AsSpan(0, users * d), users, d);
                Npy.Write(Path.Combine(directory, "items.npy"), best.AsSpan(users * d), items, d);
                float[] output = propagated.ToArray();
                Npy.Write(Path.Combine(directory, "users_propagated.npy"), output.AsSpan(0, users * d), users, d);
                Npy.Write(Path.Combine(directory, "items_propagated.npy"), output.AsSpan(users * d), items, d);
            }
            return new TrainingReport
            {
                Dataset = _data.Name,
                Device = context.Device,
                Options = o,
                EpochLosses = losses.ToArray(),
                Evaluations = evaluations,
                BestEpoch = bestEpoch,
                Test = test,
                SecondsPerEpoch = trainingSeconds / Math.Max(1, losses.Count),
                EpochSeconds = epochSeconds.ToArray(),
                SetupSeconds = setupSeconds,
                StoppedEarly = stoppedEarly,
            };
        }
        finally
        {
            foreach (IDisposable table in tables)
            {
                table.Dispose();
            }
            knn?.Dispose();
            backward?.Dispose();
        }
    }

    private static T Track<T>(List<IDisposable> owned, T item)
        where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    internal static (int[] Users, int[] Items) Pairs(CsrMatrix interactions)
    {
        var u = new int[interactions.NonZeros];
        var i = new int[interactions.NonZeros];
        ReadOnlySpan<int> pointers = interactions.RowPointers, columns = interactions.ColumnIndices;
        for (int row = 0; row < interactions.Rows; row++)
        {
            for (int k = pointers[row]; k < pointers[row + 1]; k++)
            {
                u[k] = row;
                i[k] = columns[k];
            }
        }
        return (u, i);
    }

    private static CsrMatrix Union(CsrMatrix a, CsrMatrix b)
    {
        (int[] au, int[] ai) = Pairs(a);
        (int[] bu, int[] bi) = Pairs(b);
        return GraphBuilder.FromEdges(a.Rows, a.Columns, [.. au, .. bu], [.. ai, .. bi], [], symmetrize: false, GraphNormalization.None);
    }
}
