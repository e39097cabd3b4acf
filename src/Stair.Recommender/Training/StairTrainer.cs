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
public sealed class StairTrainer : IStairTrainer
{
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
        var clock = Stopwatch.StartNew();
        using ComputeContext context = ComputeContext.Create(_options.Backend);
        TrainingSetup setup = TrainingSetup.Build(_data, _options, context);
        using var engine = new DeviceEngine(context, setup, _options) { Fault = Fault };
        return TrainingLoop.Run(_data.Name, _options, setup, engine, clock,
            e => Prepared?.Invoke(this, e), e => BatchCompleted?.Invoke(this, e), e => Evaluated?.Invoke(this, e));
    }

    /// <summary>The kernels on one <see cref="ComputeContext"/>: the tables live on its device; only the loss scalar comes back per batch.</summary>
    private sealed class DeviceEngine : ITrainingEngine
    {
        private readonly ComputeContext _context;
        private readonly TrainingSetup _setup;
        private readonly AdamWOptions _adam;
        private readonly List<IDisposable> _owned = [];
        private readonly DeviceGraph _graph;
        private readonly StepwiseFilter _forward;
        private readonly DeviceGraph? _knn;
        private readonly StepwiseFilter? _backward;
        private readonly DeviceTable _embeddings, _propagated, _propagatedGradient, _gradient;
        private readonly DeviceTable _userRows, _itemRows, _userGradient, _itemGradient;
        private readonly DeviceAdamState _userState, _itemState;
        private float[]? _best;

        public DeviceEngine(ComputeContext context, TrainingSetup setup, StairOptions o)
        {
            _context = context;
            _setup = setup;
            int users = setup.Users, items = setup.Items, n = setup.Nodes, d = o.Dim;
            try
            {
                _graph = Own(context.Upload(setup.Adjacency));
                _forward = Own(context.CreateFilter(setup.Beta, o.Layers));
                if (setup.Knn is not null)
                {
                    _knn = Own(context.Upload(setup.Knn));
                    _backward = Own(context.CreateFilter(setup.Strengths!, o.Layers));
                }
                _embeddings = Own(context.Upload(setup.Initial, n, d));
                _propagated = Own(context.CreateTable(n, d));
                _propagatedGradient = Own(context.CreateTable(n, d));
                _gradient = Own(context.CreateTable(n, d));
                _userRows = _embeddings.Slice(0, users);
                _itemRows = _embeddings.Slice(users, items);
                _userGradient = _gradient.Slice(0, users);
                _itemGradient = _gradient.Slice(users, items);
                _userState = Own(context.CreateAdamState(users, d));
                _itemState = Own(context.CreateAdamState(items, d));
                _adam = new AdamWOptions(o.LearningRate, WeightDecay: o.WeightDecay);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public string Device => _context.Device;

        public TrainerFault Fault { get; init; }

        public double Step(ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives)
        {
            ComputeContext context = _context;
            context.Fsc(_graph, _embeddings, _propagated, _forward);
            double loss = context.ComputeBprLoss(_propagated, _setup.Users, users, positives, negatives, _propagatedGradient, GradientMode.Overwrite);
            if (Fault == TrainerFault.FlipBprGradient)
            {
                _propagatedGradient.Upload(_propagatedGradient.ToArray().Select(g => -g).ToArray());
            }
            if (Fault == TrainerFault.ZeroFscBackward)
            {
                _gradient.Upload(new float[_gradient.Length]);
            }
            else
            {
                context.FscBackward(_graph, _propagatedGradient, _gradient, _forward);
            }
            if (Fault == TrainerFault.SkipAdamW)
            {
                return loss;
            }
            context.AdamWStep(_userRows, _userGradient, _userState, _adam);
            if (_knn is not null)
            {
                context.BscAdamWStep(_itemRows, _itemGradient, _itemState, _knn, _backward!, _adam);
            }
            else
            {
                context.AdamWStep(_itemRows, _itemGradient, _itemState, _adam);
            }
            return loss;
        }

        public void Synchronize() => _context.Synchronize();

        public RankingMetrics Evaluate(RankingTargets targets, int[] cutoffs)
        {
            _context.Fsc(_graph, _embeddings, _propagated, _forward);
            return _context.EvaluateRanking(_propagated, _setup.Users, targets, cutoffs);
        }

        public void KeepBest() => _best = _embeddings.ToArray();

        public void RestoreBest()
        {
            if (_best is not null)
            {
                _embeddings.Upload(_best);
            }
        }

        public void WriteCheckpoint(string directory)
            => TrainingLoop.WriteCheckpoint(directory, _setup.Users, _embeddings.Width, _embeddings.ToArray(), _propagated.ToArray());

        public void Dispose()
        {
            foreach (IDisposable item in _owned)
            {
                item.Dispose();
            }
            _owned.Clear();
        }

        private T Own<T>(T item)
            where T : IDisposable
        {
            _owned.Add(item);
            return item;
        }
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
}
