// The CPU backend of a ComputeContext: tables are host arrays, graphs PropagationPlans, and
// every family runs its SIMD drivers with the context's tier and threads.
using Stair.Kernels.Cpu.BprLoss;
using Stair.Kernels.Cpu.Dense;
using Stair.Kernels.Cpu.EmbeddingUpdate;
using Stair.Kernels.Cpu.KnnGraph;
using Stair.Kernels.Cpu.Propagation;
using Stair.Kernels.Cpu.Ranking;
using Stair.Kernels.Cpu.Whitening;

namespace Stair.Kernels.Cpu;

internal static class CpuBackend
{
    public static ComputeBackend Create(ComputeContext owner, CpuOptions options) => new()
    {
        Device = $"CPU SIMD ({SimdTiers.Resolve(options.Tier).ToString().ToLowerInvariant()}, {options.EffectiveThreads} threads)",
        CreateTable = (rows, width) =>
        {
            long length = (long)rows * width;
            if (length > Array.MaxLength)
            {
                throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A {rows} × {width} table exceeds the largest array .NET can hold.");
            }
            return new DeviceTable(owner, rows, width, new float[length], null);
        },
        Propagation = new CpuPropagation(owner),
        Dense = new CpuDense(options),
        BprLoss = new CpuBprLoss(options),
        EmbeddingUpdate = new CpuEmbeddingUpdate(owner, options),
        Ranking = new CpuRanking(options),
        Whitening = new CpuWhitening(options),
        KnnGraph = new CpuKnnGraph(options),
    };
}
