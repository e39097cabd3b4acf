// Training soak (issue 17.6): the process's memory must stay flat over many training steps. Memory is
// sampled (managed heap after full compacting collections, working set, private bytes:
// Infrastructure/ProcessMemory.cs) every `every` steps from the BatchCompleted event; the reference is the
// last sample at or before a tenth of the steps (the JIT, the tables, the trainer's buffers and the GC's and
// the pinned heap's working size are all in place by then), and the last sample must be within 5 % of it
// in each measure.
//   - CI: 500 steps on a small planted data set (16 triples per batch, 10 batches per epoch).
//   - Opt-in (STAIR_SOAK=1, scripts/soak.sh): 10,000 steps on synthetic:baby, batch 1,024 (127 batches per
//     epoch, so 79 epochs: 10,033 steps), validation every 20 epochs, no early stopping; STAIR_SOAK_STEPS and
//     STAIR_SOAK_BACKEND change the length and the backend, STAIR_SOAK_LOG appends each sample to a file as it
//     is taken (the xunit output only appears at the end).
using System.Diagnostics;
using System.Globalization;
using Stair.Kernels;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Recommender.Training;
using Xunit.Abstractions;

namespace Stair.Recommender.Tests.Training;

[CollectionDefinition(nameof(TrainingSoakCollection), DisableParallelization = true)]
public sealed class TrainingSoakCollection;

[Collection(nameof(TrainingSoakCollection))]
public class TrainingSoakTests(ITestOutputHelper output)
{
    private const double Tolerance = 0.05;

    [Fact]
    public void Memory_stays_flat_over_500_training_steps()
    {
        RecommendationDataset data = StairTrainerBackendTests.Tiny(); // 160 training triples
        StairOptions options = StairTrainerTests.Small(50) with { BatchSize = 16, Dim = 8, EvalEvery = 25, Patience = 0 };
        Soak(data, options, steps: 500, every: 50);
    }

    [SkippableFact]
    public void Memory_stays_flat_over_10000_training_steps_on_synthetic_baby()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("STAIR_SOAK") == "1", "opt-in: STAIR_SOAK=1 (scripts/soak.sh)");
        int steps = int.Parse(Environment.GetEnvironmentVariable("STAIR_SOAK_STEPS") ?? "10000", CultureInfo.InvariantCulture);
        Backend backend = Enum.Parse<Backend>(Environment.GetEnvironmentVariable("STAIR_SOAK_BACKEND") ?? "Cpu", ignoreCase: true);
        var clock = Stopwatch.StartNew();
        RecommendationDataset data = DatasetLoader.Open("synthetic:baby");
        Log($"synthetic:baby loaded in {clock.Elapsed.TotalSeconds:F1} s: {data.Train.NonZeros} training pairs");
        const int batch = 1024;
        int perEpoch = (int)((data.Train.NonZeros + batch - 1) / batch);
        int epochs = (steps + perEpoch - 1) / perEpoch;
        var options = new StairOptions { Backend = backend, Epochs = epochs, BatchSize = batch, EvalEvery = 20, Patience = 0 };
        Soak(data, options, steps: epochs * perEpoch, every: 500);
    }

    private void Soak(RecommendationDataset data, StairOptions options, int steps, int every)
    {
        var trainer = new StairTrainer(data, options);
        var samples = new List<(int Step, double Seconds, ProcessMemory Memory)>();
        var clock = new Stopwatch();
        int done = 0;
        trainer.Prepared += (_, e) =>
        {
            Log($"prepared on {e.Device} in {e.Seconds:F1} s; {steps} steps of {options.BatchSize}, {options.Epochs} epochs; sampling every {every} steps");
            samples.Add((0, 0, ProcessMemory.Sample()));
            Log($"step 0: {samples[^1].Memory}");
            clock.Start();
        };
        trainer.BatchCompleted += (_, _) =>
        {
            if (++done % every == 0 || done == steps)
            {
                clock.Stop(); // the samples' collections are not training time
                samples.Add((done, clock.Elapsed.TotalSeconds, ProcessMemory.Sample()));
                Log($"step {done}: {samples[^1].Memory} ({clock.Elapsed.TotalSeconds:F0} s training, {done / clock.Elapsed.TotalSeconds:F1} steps/s)");
                clock.Start();
            }
        };
        TrainingReport report = trainer.Train();
        clock.Stop();
        Assert.Equal(steps, done);

        // The reference: the last sample at or before a tenth of the steps (step 1,000 of 10,033; step 50 of 500).
        var reference = samples.Last(s => s.Step <= steps / 10);
        var end = samples[^1];
        long maxWorkingSet = samples.Where(s => s.Step >= reference.Step).Max(s => s.Memory.WorkingSet);
        long maxPrivate = samples.Where(s => s.Step >= reference.Step).Max(s => s.Memory.Private);
        Log($"{steps} steps in {clock.Elapsed.TotalSeconds:F0} s ({steps / clock.Elapsed.TotalSeconds:F1} steps/s), final loss {report.EpochLosses[^1]:F4}, test NDCG@20 {report.Test.NdcgAt(20):F4}");
        Log($"start (step 0) {samples[0].Memory}");
        Log($"reference (step {reference.Step}) {reference.Memory}");
        Log($"end (step {end.Step}) {end.Memory}; max after the reference: working set {ProcessMemory.Mib(maxWorkingSet)} MiB, private {ProcessMemory.Mib(maxPrivate)} MiB");
        Log($"end against the reference: {ProcessMemory.Change(reference.Memory, end.Memory)}");
        Assert.True(ProcessMemory.Ratio(reference.Memory.Managed, end.Memory.Managed) <= 1 + Tolerance
            && ProcessMemory.Ratio(reference.Memory.WorkingSet, end.Memory.WorkingSet) <= 1 + Tolerance
            && ProcessMemory.Ratio(reference.Memory.Private, end.Memory.Private) <= 1 + Tolerance,
            $"memory grew past {Tolerance:P0} from step {reference.Step} to step {end.Step}: {ProcessMemory.Change(reference.Memory, end.Memory)}");
    }

    private void Log(string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("STAIR_SOAK_LOG") is { Length: > 0 } path)
        {
            File.AppendAllText(path, $"{DateTime.Now:HH:mm:ss} {line}\n");
        }
    }
}
