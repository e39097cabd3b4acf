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
        // Tables are host tables (64-byte aligned, huge pages from 8 MiB: HostTable), so the CLI, the
        // recommender and every other context user gather from the layout the kernels are fastest on.
        CreateTable = (rows, width) =>
        {
            long length = HostMemory.TableLength(rows, width);
            // The host's reported limit (physical memory, a container's limit or GCHeapHardLimit, as the GC sees it):
            // a table past it is refused before allocating, as the ILGPU backends refuse one past the device's memory,
            // instead of a bare OutOfMemoryException from the GC or the kernel's OOM killer.
            long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            if (limit > 0 && length * sizeof(float) > limit)
            {
                throw new OutOfMemoryException(
                    $"Could not allocate a {rows} × {width} table: {length * sizeof(float):N0} bytes, more than the {limit:N0} bytes of memory available to this process (the GC's limit).");
            }
            float[] storage = HostMemory.Allocate(length, zeroed: true, out int offset, out _);
            return new DeviceTable(owner, rows, width, storage, offset, null);
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
