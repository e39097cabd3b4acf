// What a training run produces: the metrics of every evaluation, the best epoch chosen on
// validation NDCG@20, the test metrics at that epoch, and timings. Serializable as JSON
// (--metrics-out) so runs can be compared and plotted.
using System.Text.Json;
using System.Text.Json.Serialization;
using Stair.Kernels;

namespace Stair.Recommender.Training;

/// <summary>One evaluation during training.</summary>
/// <param name="Epoch">Epochs completed (1-based).</param>
/// <param name="TrainLoss">Mean BPR loss over the epoch's batches.</param>
/// <param name="Validation">Validation metrics (training items excluded).</param>
/// <param name="Seconds">Wall time since training started.</param>
public sealed record EvaluationPoint(int Epoch, double TrainLoss, RankingMetrics Validation, double Seconds);

/// <summary>The outcome of <see cref="StairTrainer.Train"/>.</summary>
public sealed record TrainingReport
{
    /// <summary>Data set name.</summary>
    public required string Dataset { get; init; }

    /// <summary>The device the kernels ran on.</summary>
    public required string Device { get; init; }

    /// <summary>The options of the run (ablation switches included).</summary>
    public required StairOptions Options { get; init; }

    /// <summary>Mean BPR loss of every epoch, in order.</summary>
    public required double[] EpochLosses { get; init; }

    /// <summary>Every evaluation on the validation split.</summary>
    public required IReadOnlyList<EvaluationPoint> Evaluations { get; init; }

    /// <summary>The epoch with the best validation NDCG@20 (0 when no evaluation ran).</summary>
    public required int BestEpoch { get; init; }

    /// <summary>Test metrics of the model at <see cref="BestEpoch"/> (training and validation items excluded).</summary>
    public required RankingMetrics Test { get; init; }

    /// <summary>Mean seconds per training epoch (evaluation excluded).</summary>
    public required double SecondsPerEpoch { get; init; }

    /// <summary>Seconds of each training epoch in order (evaluation excluded). The first includes the JIT's first compiles.</summary>
    public required double[] EpochSeconds { get; init; }

    /// <summary>Median of <see cref="EpochSeconds"/>: the steady-state epoch time, robust to the first epoch's warm-up (0 when none ran).</summary>
    public double MedianEpochSeconds
    {
        get
        {
            if (EpochSeconds.Length == 0)
            {
                return 0;
            }
            double[] sorted = EpochSeconds.Order().ToArray();
            int mid = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }

    /// <summary>Seconds spent preparing the model (graphs, kNN, whitening) before the first epoch.</summary>
    public required double SetupSeconds { get; init; }

    /// <summary>True when training stopped before <see cref="StairOptions.Epochs"/> because validation NDCG@20 stopped improving.</summary>
    public required bool StoppedEarly { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static TrainingReport FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingReport>(json, Json) ?? throw new InvalidDataException("The metrics file holds no report.");
}
