// The ILGPU backends of a ComputeContext (CUDA, OpenCL, the CPU simulator): tables are device
// buffers, and every family's driver (beside its kernels under Gpu/<family>/) loads its kernels
// through the device's one cache. Host-side parts (the BPR batch grouping, ranking's top-K,
// kNN's candidate offers) use the context's CPU options.
using Stair.Kernels.Gpu.BprLoss;
using Stair.Kernels.Gpu.Dense;
using Stair.Kernels.Gpu.EmbeddingUpdate;
using Stair.Kernels.Gpu.KnnGraph;
using Stair.Kernels.Gpu.Propagation;
using Stair.Kernels.Gpu.Ranking;
using Stair.Kernels.Gpu.Whitening;

namespace Stair.Kernels.Gpu;

internal static class IlgpuBackend
{
    /// <summary>Binds the families to <paramref name="device"/>; the propagation kernels load now, so a device that cannot compile them fails here.</summary>
    public static ComputeBackend Create(ComputeContext owner, IlgpuDevice device, CpuOptions hostOptions)
    {
        device.Kernels<PropagationKernels>();
        var propagation = new IlgpuPropagation(owner, device);
        return new ComputeBackend
        {
            Device = device.Description,
            CreateTable = (rows, width) => new DeviceTable(owner, rows, width, null, 0, device.Allocate<float>((long)rows * width, $"a {rows} × {width} table")),
            Propagation = propagation,
            Dense = new IlgpuDense(device),
            BprLoss = new IlgpuBprLoss(device),
            EmbeddingUpdate = new IlgpuEmbeddingUpdate(owner, device, propagation),
            Ranking = new IlgpuRanking(device, hostOptions),
            Whitening = new IlgpuWhitening(owner, device),
            KnnGraph = new IlgpuKnnGraph(owner, device, hostOptions),
            Ilgpu = device,
        };
    }
}
