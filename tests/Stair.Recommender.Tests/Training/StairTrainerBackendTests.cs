// The trainer on the ILGPU backends (the CPU simulator always; OpenCL where a device exists, or failing
// with STAIR_REQUIRE_OPENCL=1; CUDA where one exists): on a tiny planted data set it must learn (beat the
// untrained model on the same backend) and agree with the CPU backend's run. Not bit for bit: the ILGPU
// kernels do not fuse multiply-adds and compute BPR's σ in float32 (kernels.md, "Propagation on the ILGPU
// backends"), so the runs drift apart by rounding; the tolerances below come from measured drift.
using System.Diagnostics;
using Stair.Kernels;
using Stair.Recommender.Tests.Infrastructure;
using Stair.Recommender.Training;
using Xunit.Abstractions;

namespace Stair.Recommender.Tests.Training;

public class StairTrainerBackendTests(ITestOutputHelper output)
{
    // 40 users × 40 items, 4 train interactions per user (160: one batch per epoch), d = 8, 40 epochs: the simulator
    // runs every thread, so this is as small as keeps a clear learning signal. Measured gains over the untrained model
    // (identical on CPU, the simulator and PoCL): no-modality-init NDCG@20 +0.518, Recall@20 +0.450; stair +0.255 and
    // +0.138 (Recall@20 from 0.8625 to its ceiling 1.0; at 20 epochs it was +0.166 / +0.113, too near the 0.1 bound).
    internal static RecommendationDataset Tiny() => StairTrainerTests.Planted(usersPerCluster: 10, itemsPerCluster: 10, perUser: 8, featureClusters: 2, skew: 1);

    internal static StairOptions Options(Backend backend, string configuration)
    {
        StairOptions o = StairTrainerTests.Small(40) with { Backend = backend, Dim = 8, EvalEvery = 40 };
        return configuration switch
        {
            "no-modality-init" => o with { ModalityInit = false },
            "stair" => o,
            _ => throw new ArgumentOutOfRangeException(nameof(configuration), configuration, null),
        };
    }

    public static TheoryData<Backend, string> BackendsAndConfigurations()
    {
        var data = new TheoryData<Backend, string>();
        foreach (Backend backend in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            foreach (string configuration in new[] { "no-modality-init", "stair" })
            {
                data.Add(backend, configuration);
            }
        }
        return data;
    }

    // Tolerances. Measured (planted seed 7, trainer seed 11, PoCL from .ci/opencl-env.sh on the 2-core Zen 3 VM, and the
    // ILGPU simulator): the test metrics were identical to the CPU run's in both configurations and the epoch losses within 1.3e-7 of
    // them (relative). A near-tie that rounding flips in one user's top 20 moves Recall@20 by 1/(2 test items · 40
    // users) = 0.0125 and NDCG@20 by less; two such flips are allowed. The losses drift by rounding only (float32
    // kernels, u ≈ 6e-8 per operation, σ in float32 on ILGPU); 1e-5 is ~100× the measured drift, room for a device
    // whose exp/log are approximate (CUDA's ex2.approx/lg2.approx), while a real difference in the step (a missing
    // kernel, a different sampler stream) moves the losses by 1e-3 and more from the first epoch on.
    private const double MetricTolerance = 0.025, LossTolerance = 1e-5;

    [SkippableTheory]
    [MemberData(nameof(BackendsAndConfigurations))]
    public void The_trainer_learns_on_the_backend_and_agrees_with_the_cpu(Backend backend, string configuration)
    {
        BackendRequirement.SkipIfMissing(backend);
        RecommendationDataset data = Tiny();
        StairOptions options = Options(backend, configuration);
        // The untrained model's metrics come from the CPU backend (the initialization; ILGPU runs cost seconds each).
        RankingMetrics untrained = new StairTrainer(data, options with { Backend = Backend.Cpu, Epochs = 1, EvalEvery = 1, LearningRate = 1e-12f }).Train().Test;
        TrainingReport cpu = new StairTrainer(data, options with { Backend = Backend.Cpu }).Train();
        var clock = Stopwatch.StartNew();
        TrainingReport other = new StairTrainer(data, options).Train();
        double seconds = clock.Elapsed.TotalSeconds;
        double lossDrift = cpu.EpochLosses.Zip(other.EpochLosses, (a, b) => Math.Abs(a - b) / a).Max();
        double ndcgGain = other.Test.NdcgAt(20) - untrained.NdcgAt(20), recallGain = other.Test.RecallAt(20) - untrained.RecallAt(20);
        output.WriteLine($"{backend} {configuration} ({other.Device}): {seconds:F1} s (setup {other.SetupSeconds:F1} s, median epoch {other.MedianEpochSeconds:F3} s); CPU {cpu.SetupSeconds + cpu.EpochSeconds.Sum():F2} s");
        output.WriteLine($"  gain over untrained NDCG@20 {ndcgGain:+0.0000;-0.0000} Recall@20 {recallGain:+0.0000;-0.0000} (untrained {untrained.NdcgAt(20):F4} / {untrained.RecallAt(20):F4})");
        output.WriteLine($"  CPU NDCG@20 {cpu.Test.NdcgAt(20):F6} Recall@20 {cpu.Test.RecallAt(20):F6}; {backend} NDCG@20 {other.Test.NdcgAt(20):F6} Recall@20 {other.Test.RecallAt(20):F6}; max relative epoch-loss drift {lossDrift:E2}");

        Assert.True(ndcgGain >= StairTrainerLearningTests.NdcgBound && recallGain >= StairTrainerLearningTests.RecallBound,
            $"{backend} {configuration} must learn: NDCG@20 {ndcgGain:+0.0000;-0.0000}, Recall@20 {recallGain:+0.0000;-0.0000} over the untrained model");
        Assert.Equal(cpu.EpochLosses.Length, other.EpochLosses.Length);
        Assert.True(lossDrift <= LossTolerance, $"epoch losses drift {lossDrift:E2} from the CPU run's (tolerance {LossTolerance:E0})");
        Assert.InRange(other.Test.NdcgAt(20) - cpu.Test.NdcgAt(20), -MetricTolerance, MetricTolerance);
        Assert.InRange(other.Test.RecallAt(20) - cpu.Test.RecallAt(20), -MetricTolerance, MetricTolerance);
    }
}
