// STAIR over MPI ranks: the same setup and epoch loop as StairTrainer, with the table, its Adam
// state, Ã and S̃ split by rows (blocks of Ã balanced by non-zeros; a rank's item rows are its rows
// of S̃). Every rank draws the same batches; each step is DistributedPropagation.Fsc, the routed
// BPR loss, FscBackward, AdamW on owned user rows and BSC-smoothed AdamW on owned item rows, each
// bitwise the single-process kernel, so after any number of steps the tables are those of
// StairTrainer on the CPU backend with the same seed. Evaluation gathers the propagated table to
// rank 0, which ranks it as one process does and sends the metrics to every rank.
using System.Diagnostics;
using Stair.Kernels;
using Stair.Kernels.Distributed;

namespace Stair.Recommender.Training;

/// <summary>
/// Trains STAIR (or an ablation) with the rows of every table split over the ranks of an <see cref="MpiComm"/>;
/// the result is bitwise that of <see cref="StairTrainer"/> on the CPU backend. Collective: every rank constructs
/// it with the same data and options and calls <see cref="Train"/>.
/// </summary>
/// <remarks>
/// Every rank holds the data set (the interactions, features and the whole Ã and S̃, from which it keeps its
/// rows); the embedding table, its gradients and the Adam moments are split. The kernels run on each rank's
/// CPU with <see cref="CpuOptions"/> (by default the machine's cores divided by the ranks on it).
/// </remarks>
public sealed class DistributedStairTrainer : IStairTrainer
{
    private readonly RecommendationDataset _data;
    private readonly StairOptions _options;
    private readonly MpiComm _comm;
    private readonly CpuOptions _cpu;

    /// <summary>Prepares a trainer on one rank; nothing runs until <see cref="Train"/>.</summary>
    /// <param name="dataset">The data set (the same on every rank).</param>
    /// <param name="options">The options (the same on every rank); the backend must be the CPU.</param>
    /// <param name="comm">The ranks that train together.</param>
    /// <param name="cpuOptions">SIMD tier and threads of this rank (default: this machine's cores shared by the ranks).</param>
    /// <exception cref="ArgumentException">The options are invalid or do not fit the data set.</exception>
    public DistributedStairTrainer(RecommendationDataset dataset, StairOptions options, MpiComm comm, CpuOptions? cpuOptions = null)
    {
        _ = new StairTrainer(dataset, options); // the same checks as one process
        ArgumentNullException.ThrowIfNull(comm);
        if (options.Backend != Backend.Cpu)
        {
            throw new ArgumentException($"Distributed training runs its kernels on each rank's CPU; backend {options.Backend} was asked for.", nameof(options));
        }
        _data = dataset;
        _options = options;
        _comm = comm;
        _cpu = cpuOptions ?? new CpuOptions(Threads: Math.Max(1, Environment.ProcessorCount / comm.Size));
    }

    /// <summary>Raised on every rank when the graphs and tables are ready.</summary>
    public event EventHandler<PreparedEventArgs>? Prepared;

    /// <summary>Raised on every rank after every batch.</summary>
    public event EventHandler<BatchEventArgs>? BatchCompleted;

    /// <summary>Raised on every rank after every validation evaluation (the same metrics everywhere).</summary>
    public event EventHandler<EvaluationPoint>? Evaluated;

    /// <summary>Trains and returns the report; every rank returns the same losses and metrics.</summary>
    public TrainingReport Train()
    {
        var clock = Stopwatch.StartNew();
        // The setup (kNN graph, whitening) runs as one process runs it, so every rank starts from the same bits.
        using ComputeContext context = ComputeContext.Create(Backend.Cpu);
        TrainingSetup setup = TrainingSetup.Build(_data, _options, context);
        var engine = new RankEngine(_comm, _cpu, context, setup, _options);
        return TrainingLoop.Run(_data.Name, _options, setup, engine, clock,
            e => Prepared?.Invoke(this, e), e => BatchCompleted?.Invoke(this, e), e => Evaluated?.Invoke(this, e));
    }

    /// <summary>One rank's rows: [start, end) of Ã's rows, of which the users come first and the items after.</summary>
    private sealed class RankEngine : ITrainingEngine
    {
        private const int Root = 0;
        private readonly MpiComm _comm;
        private readonly ComputeContext _context;
        private readonly TrainingSetup _setup;
        private readonly CpuOptions _cpu;
        private readonly AdamWOptions _adam;
        private readonly DistributedPlan _graph;
        private readonly DistributedPlan? _knn;
        private readonly int _width, _layers, _ownUsers, _ownItems;
        private readonly float[] _embeddings, _propagated, _propagatedGradient, _gradient;
        private readonly AdamState _userState, _itemState;
        private readonly BscWorkspace? _workspace;
        private float[]? _best;

        public RankEngine(MpiComm comm, CpuOptions cpu, ComputeContext context, TrainingSetup setup, StairOptions o)
        {
            _comm = comm;
            _context = context;
            _setup = setup;
            _cpu = cpu;
            _width = o.Dim;
            _layers = o.Layers;
            _adam = new AdamWOptions(o.LearningRate, WeightDecay: o.WeightDecay);
            _graph = DistributedPlan.Partition(comm, setup.Adjacency, cpu);
            int start = _graph.RowStart, end = start + _graph.LocalRows, users = setup.Users;
            _ownUsers = Math.Max(0, Math.Min(end, users) - start);
            _ownItems = _graph.LocalRows - _ownUsers;
            if (setup.Knn is { } knn)
            {
                // This rank's item rows of S̃ (and of S̃ᵀ when S̃ is not symmetric), with the same tier and threads.
                int firstItem = Math.Max(start, users) - users;
                CsrMatrix rows = Rows(knn, firstItem, _ownItems);
                CsrMatrix? transposed = knn.IsSymmetric() ? null : Rows(knn.Transpose(), firstItem, _ownItems);
                _knn = DistributedPlan.FromLocalRows(comm, setup.Items, firstItem, rows, transposed, cpu);
                _workspace = new BscWorkspace(_ownItems, _width);
            }
            int local = _graph.LocalRows * _width;
            _embeddings = setup.Initial.AsSpan(start * _width, local).ToArray();
            _propagated = new float[local];
            _propagatedGradient = new float[local];
            _gradient = new float[local];
            _userState = new AdamState(_ownUsers, _width);
            _itemState = new AdamState(_ownItems, _width);
        }

        public string Device => $"{_context.Device}, {_cpu.EffectiveThreads} thread{(_cpu.EffectiveThreads == 1 ? "" : "s")} per rank × {_comm.Size} MPI rank{(_comm.Size == 1 ? "" : "s")}";

        public double Step(ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives)
        {
            int d = _width, userFloats = _ownUsers * d;
            DistributedPropagation.Fsc(_graph, _embeddings, _propagated, d, _layers, _setup.Beta);
            double loss = DistributedTraining.BprLoss(_graph, _propagated, d, _setup.Users, users, positives, negatives, _propagatedGradient);
            DistributedPropagation.FscBackward(_graph, _propagatedGradient, _gradient, d, _layers, _setup.Beta);
            DistributedTraining.AdamWStep(_comm, _embeddings.AsSpan(0, userFloats), _gradient.AsSpan(0, userFloats), _userState, _adam, _cpu);
            if (_knn is not null)
            {
                DistributedTraining.BscAdamWStep(_knn, _embeddings.AsSpan(userFloats), _gradient.AsSpan(userFloats), _itemState, _setup.Strengths!, _layers,
                    _workspace!, _adam);
            }
            else
            {
                DistributedTraining.AdamWStep(_comm, _embeddings.AsSpan(userFloats), _gradient.AsSpan(userFloats), _itemState, _adam, _cpu);
            }
            return loss;
        }

        public void Synchronize()
        {
        }

        // Rank 0 ranks the whole propagated table with the same kernels as one process; every rank gets its metrics.
        public RankingMetrics Evaluate(RankingTargets targets, int[] cutoffs)
        {
            DistributedPropagation.Fsc(_graph, _embeddings, _propagated, _width, _layers, _setup.Beta);
            float[] whole = Gather(_propagated);
            int ks = cutoffs.Length;
            var packed = new double[2 + 2 * ks];
            if (_comm.Rank == Root)
            {
                using DeviceTable table = _context.Upload(whole, _setup.Nodes, _width);
                RankingMetrics m = _context.EvaluateRanking(table, _setup.Users, targets, cutoffs);
                packed[0] = m.UsersEvaluated;
                packed[1] = m.UsersSkipped;
                for (int i = 0; i < ks; i++)
                {
                    packed[2 + i] = m.Recall[i];
                    packed[2 + ks + i] = m.Ndcg[i];
                }
            }
            _comm.Broadcast(packed, Root);
            return new RankingMetrics(cutoffs, packed[2..(2 + ks)], packed[(2 + ks)..], (int)packed[0], (int)packed[1]);
        }

        public void KeepBest() => _best = (float[])_embeddings.Clone();

        public void RestoreBest() => _best?.CopyTo(_embeddings, 0);

        public void WriteCheckpoint(string directory)
        {
            float[] table = Gather(_embeddings), propagated = Gather(_propagated);
            if (_comm.Rank == Root)
            {
                TrainingLoop.WriteCheckpoint(directory, _setup.Users, _width, table, propagated);
            }
        }

        public void Dispose()
        {
        }

        private float[] Gather(float[] local)
        {
            float[] whole = _comm.Rank == Root ? new float[_setup.Nodes * _width] : [];
            DistributedTraining.GatherRows(_graph, local, whole, _width, Root);
            return whole;
        }

        private static CsrMatrix Rows(CsrMatrix m, int start, int count)
        {
            var builder = new CsrBuilder(count, m.Columns, m.RowOffsets[start + count] - m.RowOffsets[start]);
            for (int r = start; r < start + count; r++)
            {
                builder.AppendRow(m.RowColumns(r), m.RowValues(r));
            }
            return builder.Build();
        }
    }
}
