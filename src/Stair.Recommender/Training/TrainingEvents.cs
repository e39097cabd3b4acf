// Events a training run raises, so a front end (the CLI's progress line, a notebook, a
// logger) can follow it without the trainer printing anything itself.
namespace Stair.Recommender.Training;

/// <summary>Raised once the model is ready to train.</summary>
/// <param name="Device">The device the kernels run on.</param>
/// <param name="Seconds">Setup time (graphs, kNN graph, whitening, uploads).</param>
/// <param name="Details">What was prepared, in words (graph sizes, ranks of the whitened modalities).</param>
public sealed record PreparedEventArgs(string Device, double Seconds, string Details);

/// <summary>Raised after every training batch.</summary>
/// <param name="Epoch">Current epoch (1-based).</param>
/// <param name="Batch">Batches done in this epoch (1-based).</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="MeanLoss">Mean BPR loss of the epoch's batches so far.</param>
/// <param name="SamplesPerSecond">Training triples per second in this epoch so far.</param>
/// <param name="EpochEta">Estimated time to the end of the epoch.</param>
public sealed record BatchEventArgs(int Epoch, int Batch, int Batches, double MeanLoss, double SamplesPerSecond, TimeSpan EpochEta);

/// <summary>A trainer: one process (<see cref="StairTrainer"/>) or one rank of a distributed run (<see cref="DistributedStairTrainer"/>).</summary>
public interface IStairTrainer
{
    /// <summary>Raised when the graphs, initialization and tables are ready.</summary>
    event EventHandler<PreparedEventArgs>? Prepared;

    /// <summary>Raised after every batch (for progress displays).</summary>
    event EventHandler<BatchEventArgs>? BatchCompleted;

    /// <summary>Raised after every validation evaluation.</summary>
    event EventHandler<EvaluationPoint>? Evaluated;

    /// <summary>Trains, evaluates and returns the report (test metrics at the best validation epoch).</summary>
    TrainingReport Train();
}
