// The epoch loop shared by the single-process trainer and every rank of the distributed one:
// seeded shuffles and negatives, one step per batch, evaluation every E epochs, early stopping
// on validation NDCG@20, and the test metrics of the best epoch. Where the kernels run is the
// engine's business; the loop's decisions depend only on what every engine returns identically.
using System.Diagnostics;
using Stair.Kernels;

namespace Stair.Recommender.Training;

/// <summary>Where a run's kernels run: one device, or this rank's rows of a distributed run.</summary>
internal interface ITrainingEngine : IDisposable
{
    /// <summary>Says where the kernels run (for the report).</summary>
    string Device { get; }

    /// <summary>One batch: FSC forward, BPR loss and gradient, FSC backward, AdamW and (BSC-)AdamW. Returns the batch's mean loss.</summary>
    double Step(ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives);

    /// <summary>Waits for queued device work.</summary>
    void Synchronize();

    /// <summary>FSC forward of the current table, then full ranking against <paramref name="targets"/> (the same metrics on every rank).</summary>
    RankingMetrics Evaluate(RankingTargets targets, int[] cutoffs);

    /// <summary>Remembers the current table as the best.</summary>
    void KeepBest();

    /// <summary>Puts the best table back.</summary>
    void RestoreBest();

    /// <summary>Writes the current table and its last propagation (after <see cref="Evaluate"/>) as users/items .npy files.</summary>
    void WriteCheckpoint(string directory);
}

internal static class TrainingLoop
{
    public static TrainingReport Run(string dataset, StairOptions o, TrainingSetup setup, ITrainingEngine engine, Stopwatch clock,
        Action<PreparedEventArgs>? prepared, Action<BatchEventArgs>? batchCompleted, Action<EvaluationPoint>? evaluated)
    {
        double setupSeconds = clock.Elapsed.TotalSeconds;
        prepared?.Invoke(new PreparedEventArgs(engine.Device, setupSeconds, setup.Details));

        int[] pairUsers = setup.PairUsers, pairItems = setup.PairItems;
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
                setup.Sampler.Sample(u, q, negativeSeed, start);
                lossSum += engine.Step(u, p, q);

                double elapsed = epochClock.Elapsed.TotalSeconds;
                batchCompleted?.Invoke(new BatchEventArgs(epoch, batch + 1, batches, lossSum / (batch + 1),
                    (start + count) / Math.Max(elapsed, 1e-9), TimeSpan.FromSeconds(elapsed / (batch + 1) * (batches - batch - 1))));
            }
            engine.Synchronize();
            double seconds = epochClock.Elapsed.TotalSeconds;
            trainingSeconds += seconds;
            epochSeconds.Add(seconds);
            losses.Add(lossSum / batches);

            if (epoch % o.EvalEvery == 0 || epoch == o.Epochs)
            {
                RankingMetrics validation = engine.Evaluate(setup.ValidationTargets, setup.Cutoffs);
                var point = new EvaluationPoint(epoch, losses[^1], validation, clock.Elapsed.TotalSeconds);
                evaluations.Add(point);
                evaluated?.Invoke(point);
                double ndcg = validation.NdcgAt(TrainingSetup.SelectionCutoff);
                if (ndcg > bestNdcg)
                {
                    bestNdcg = ndcg;
                    bestEpoch = epoch;
                    engine.KeepBest();
                    sinceBest = 0;
                }
                else if (o.Patience > 0 && ++sinceBest >= o.Patience)
                {
                    stoppedEarly = epoch < o.Epochs;
                    break;
                }
            }
        }

        engine.RestoreBest();
        RankingMetrics test = engine.Evaluate(setup.TestTargets, setup.Cutoffs);
        if (o.CheckpointDirectory is { } directory)
        {
            engine.WriteCheckpoint(directory);
        }
        return new TrainingReport
        {
            Dataset = dataset,
            Device = engine.Device,
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

    /// <summary>The checkpoint files: the best table and its propagation, users and items apart.</summary>
    public static void WriteCheckpoint(string directory, int users, int width, ReadOnlySpan<float> table, ReadOnlySpan<float> propagated)
    {
        Directory.CreateDirectory(directory);
        Kernels.IO.Npy.Write(Path.Combine(directory, "users.npy"), table[..(users * width)], users, width);
        Kernels.IO.Npy.Write(Path.Combine(directory, "items.npy"), table[(users * width)..], table.Length / width - users, width);
        Kernels.IO.Npy.Write(Path.Combine(directory, "users_propagated.npy"), propagated[..(users * width)], users, width);
        Kernels.IO.Npy.Write(Path.Combine(directory, "items_propagated.npy"), propagated[(users * width)..], propagated.Length / width - users, width);
    }
}
