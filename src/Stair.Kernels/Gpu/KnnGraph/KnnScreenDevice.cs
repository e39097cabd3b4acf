// The ILGPU screen of the kNN graph: the packed unit rows uploaded once, every block pair
// (a ≤ b) multiplied on the device by the shared DenseKernels (C = U_a·U_bᵀ), the block
// downloaded and offered to both blocks' rows on the host (rows in parallel, then columns
// in parallel, so each row of the screening state has one writer). The next pair's product
// is launched before the host screens the current one, so device and host overlap. Identity with the CPU
// does not depend on the device's rounding: the screen only keeps survivors, the host
// finish decides (Cpu/KnnGraph/KnnCandidates.cs).
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.KnnGraph;
using Stair.Kernels.Gpu.Dense;

namespace Stair.Kernels.Gpu.KnnGraph;

internal static unsafe class KnnScreenDevice
{
    /// <summary>Block height on the device: 4,096² scores are 64 MB, large enough to fill a GPU.</summary>
    internal const int DefaultBlockRows = 4096;

    /// <summary>Screens every pair of <paramref name="rows"/> on the device; <paramref name="blockRows"/> &gt; 0 forces the block height (tests).</summary>
    public static void Screen(ComputeContext context, IlgpuDevice device, KnnRows rows, KnnCandidates candidates, SimdTier tier, int threads, int blockRows = 0)
    {
        int n = rows.Count, columns = rows.Columns;
        if (n < 2)
        {
            return;
        }
        int b = Math.Min(n, blockRows > 0 ? blockRows : DefaultBlockRows);
        int blocks = (n + b - 1) / b;
        var pairs = new List<(int A, int B)>();
        for (int a = 0; a < blocks; a++)
        {
            for (int c = a; c < blocks; c++)
            {
                pairs.Add((a, c));
            }
        }
        DenseKernels dense = device.Kernels<DenseKernels>();
        AcceleratorStream stream = device.Stream;
        using DeviceTable unit = context.Upload(rows.Unit.AsSpan(0, n * columns), n, columns);
        // Two score buffers: the device computes pair t + 1 while the host screens pair t.
        using DeviceTable even = context.CreateTable(b, b);
        using DeviceTable odd = context.CreateTable(b, b);
        float[] host = GC.AllocateUninitializedArray<float>(b * b, pinned: true);
        var job = new OfferJob(candidates, tier);

        (int R0, int M, int C0, int N) Launch(int t)
        {
            (int a, int c) = pairs[t];
            int r0 = a * b, c0 = c * b, m = Math.Min(b, n - r0), nc = Math.Min(b, n - c0);
            ArrayView<float> u = unit.View;
            dense.MultiplyTransposed(stream, u.SubView((long)r0 * columns, (long)m * columns), columns,
                u.SubView((long)c0 * columns, (long)nc * columns), columns, (t % 2 == 0 ? even : odd).View, nc, m, nc, columns);
            return (r0, m, c0, nc);
        }

        fixed (float* scores = host)
        {
            job.Scores = scores;
            (int R0, int M, int C0, int N) current = Launch(0);
            for (int t = 0; t < pairs.Count; t++)
            {
                (int r0, int m, int c0, int nc) = current;
                (t % 2 == 0 ? even : odd).View.SubView(0, (long)m * nc).CopyToCPU(stream, host.AsSpan(0, m * nc));
                stream.Synchronize();
                if (t + 1 < pairs.Count)
                {
                    current = Launch(t + 1);
                }
                job.Set(r0, m, c0, nc, columnsPhase: false);
                CpuWorkerPool.Shared.Run(job, threads);
                if (r0 != c0)
                {
                    job.Set(r0, m, c0, nc, columnsPhase: true);
                    CpuWorkerPool.Shared.Run(job, threads);
                }
            }
            stream.Synchronize();
        }
    }

    // Rows phase: parts are row slices offering to their own rows (the diagonal block sees each pair
    // from both rows). Columns phase: parts are column slices offering to their columns' rows.
    private sealed class OfferJob(KnnCandidates candidates, SimdTier tier) : ParallelJob
    {
        private const int Slice = 64;
        private int _r0, _m, _c0, _n;
        private bool _columnsPhase;

        public float* Scores;

        public void Set(int r0, int m, int c0, int n, bool columnsPhase)
        {
            (_r0, _m, _c0, _n, _columnsPhase) = (r0, m, c0, n, columnsPhase);
            PartCount = ((columnsPhase ? n : m) + Slice - 1) / Slice;
        }

        public override void Execute(int part)
        {
            int from = part * Slice, to = Math.Min((_columnsPhase ? _n : _m), from + Slice);
            if (_columnsPhase)
            {
                candidates.Offer(Scores, _n, _r0, 0, _m, _c0, from, to, toRows: false, toColumns: true, tier);
            }
            else
            {
                candidates.Offer(Scores, _n, _r0, from, to, _c0, 0, _n, toRows: true, toColumns: false, tier);
            }
        }
    }
}
