// The CPU screen of the kNN graph: the packed unit rows cut into B-row blocks, every block
// pair (a ≤ b) multiplied once through the shared DenseProduct (C = U_a·U_bᵀ, B × B in a
// per-worker buffer) and offered to both blocks' rows. Pairs are scheduled as a round-robin
// tournament: within a round no two pairs share a block, so the workers of a round write
// disjoint rows of the screening state without locks; the rounds run one after another.
// Memory beyond the state: one B × B float block per worker, never I × I.
using System.Buffers;
using Stair.Kernels.Cpu.Dense;

namespace Stair.Kernels.Cpu.KnnGraph;

internal static unsafe class KnnScreenCpu
{
    /// <summary>Largest block height; 512 × 512 scores (1 MB) per worker, the product's panels stay in L2/L3.</summary>
    internal const int MaxBlockRows = 512;

    /// <summary>Screens every pair of <paramref name="rows"/> into <paramref name="candidates"/>; <paramref name="blockRows"/> &gt; 0 forces the block height (tests).</summary>
    public static void Screen(KnnRows rows, KnnCandidates candidates, SimdTier tier, int threads, int blockRows = 0)
        => Run(rows, candidates, tier, threads, blockRows);

    /// <summary>The same block products with no screening: the GEMM floor of <see cref="Screen"/> (benchmarks).</summary>
    internal static void ProductsOnly(KnnRows rows, SimdTier tier, int threads) => Run(rows, null, tier, threads, 0);

    private static void Run(KnnRows rows, KnnCandidates? candidates, SimdTier tier, int threads, int blockRows)
    {
        int n = rows.Count;
        if (n < 2)
        {
            return;
        }
        int b = blockRows > 0 ? blockRows : BlockRows(n, threads);
        int blocks = (n + b - 1) / b;
        fixed (float* unit = rows.Unit)
        {
            var job = new PairJob(unit, rows.Columns, n, b, candidates, tier);
            foreach ((int A, int B)[] round in Tournament(blocks))
            {
                job.Pairs = round;
                job.PartCount = round.Length;
                CpuWorkerPool.Shared.Run(job, threads);
            }
        }
    }

    /// <summary>
    /// A block height that gives every worker the same number of pairs in each round: the block count is
    /// rounded up to a multiple of 2·threads (a round of an even count c has c / 2 pairs), then the height to
    /// a multiple of 16 (the product's row tile).
    /// </summary>
    internal static int BlockRows(int n, int threads)
    {
        int blocks = (n + MaxBlockRows - 1) / MaxBlockRows;
        if (threads > 1)
        {
            int step = 2 * threads;
            blocks = Math.Max(step, (blocks + step - 1) / step * step);
        }
        int b = (n + blocks - 1) / blocks;
        return Math.Max(16, (b + 15) / 16 * 16);
    }

    /// <summary>
    /// The pairs of a round-robin tournament over <paramref name="blocks"/> blocks: first one round of the
    /// diagonal pairs (a, a), then, by the circle method, rounds in which every block meets another at most
    /// once (an odd count gets a bye). Every pair a &lt; b appears exactly once.
    /// </summary>
    internal static List<(int A, int B)[]> Tournament(int blocks)
    {
        var rounds = new List<(int A, int B)[]> { Enumerable.Range(0, blocks).Select(a => (a, a)).ToArray() };
        int n = blocks % 2 == 0 ? blocks : blocks + 1; // block n − 1 is a bye when the count is odd
        for (int t = 0; t < n - 1; t++)
        {
            var round = new List<(int, int)>(n / 2);
            void Add(int x, int y)
            {
                if (x < blocks && y < blocks)
                {
                    round.Add((Math.Min(x, y), Math.Max(x, y)));
                }
            }
            Add(n - 1, t);
            for (int i = 1; i < n / 2; i++)
            {
                Add((t + i) % (n - 1), (t - i + n - 1) % (n - 1));
            }
            if (round.Count > 0)
            {
                rounds.Add(round.ToArray());
            }
        }
        return rounds;
    }

    private sealed class PairJob : ParallelJob
    {
        private readonly float* _unit;
        private readonly int _columns;
        private readonly int _rows;
        private readonly int _block;
        private readonly KnnCandidates? _candidates;
        private readonly SimdTier _tier;

        public PairJob(float* unit, int columns, int rows, int block, KnnCandidates? candidates, SimdTier tier)
        {
            _unit = unit;
            _columns = columns;
            _rows = rows;
            _block = block;
            _candidates = candidates;
            _tier = tier;
        }

        public (int A, int B)[] Pairs = [];

        public override void Execute(int part)
        {
            (int a, int b) = Pairs[part];
            int r0 = a * _block, c0 = b * _block;
            int m = Math.Min(_block, _rows - r0), n = Math.Min(_block, _rows - c0);
            float[] scores = ArrayPool<float>.Shared.Rent(m * n);
            try
            {
                fixed (float* c = scores)
                {
                    float* ua = _unit + (long)r0 * _columns;
                    if (a == b)
                    {
                        DenseProduct.MultiplySelfTransposed(_tier, 1, ua, _columns, c, n, m, _columns);
                        // The block is symmetric: each row's side sees every pair of the block once.
                        _candidates?.Offer(c, n, r0, 0, m, c0, 0, n, toRows: true, toColumns: false, _tier);
                    }
                    else
                    {
                        DenseProduct.MultiplyTransposed(_tier, 1, ua, _columns, _unit + (long)c0 * _columns, _columns, c, n, m, n, _columns);
                        _candidates?.Offer(c, n, r0, 0, m, c0, 0, n, toRows: true, toColumns: true, _tier);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scores);
            }
        }
    }
}
