// What stands behind a ComputeContext: its table storage and one implementation per kernel
// family, all for one backend. ComputeContext validates every call and dispatches here; it
// never asks which backend it runs on. Built by CpuBackend.Create (Cpu/CpuBackend.cs) or
// IlgpuBackend.Create (Gpu/IlgpuBackend.cs).
using Stair.Kernels.Gpu;

namespace Stair.Kernels;

internal sealed class ComputeBackend : IDisposable
{
    /// <summary>The device, in words.</summary>
    public required string Device { get; init; }

    /// <summary>Allocates a rows × width table (contents unspecified).</summary>
    public required Func<int, int, DeviceTable> CreateTable { get; init; }

    public required IPropagationBackend Propagation { get; init; }

    public required IDenseBackend Dense { get; init; }

    public required IBprLossBackend BprLoss { get; init; }

    public required IEmbeddingUpdateBackend EmbeddingUpdate { get; init; }

    public required IRankingBackend Ranking { get; init; }

    public required IWhiteningBackend Whitening { get; init; }

    public required IKnnGraphBackend KnnGraph { get; init; }

    /// <summary>The ILGPU accelerator behind an ILGPU backend; null on the CPU backend.</summary>
    public IlgpuDevice? Ilgpu { get; init; }

    /// <summary>Waits for every launched kernel.</summary>
    public void Synchronize() => Ilgpu?.Synchronize();

    public void Dispose()
    {
        Propagation.Dispose();
        BprLoss.Dispose();
        Ilgpu?.Dispose();
    }
}
