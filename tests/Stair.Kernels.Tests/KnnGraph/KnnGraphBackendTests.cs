// The kNN graph with its similarity blocks on every ILGPU backend (the CPU simulator always;
// OpenCL and CUDA where a device exists, skipped otherwise, OpenCL required under
// STAIR_REQUIRE_OPENCL=1): the same neighbour lists as every CPU tier, bit for bit, on
// near-ties the device's float32 rounding cannot order. Sizes stay small for the simulator.
using Stair.Kernels.Tests.Backends;

namespace Stair.Kernels.Tests.KnnGraph;

public class KnnGraphBackendTests
{
    public static TheoryData<Backend> GpuBackends() => BackendPropagationTests.GpuBackends();

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void Neighbours_are_identical_to_every_cpu_tier(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        using ComputeContext gpu = ComputeContext.Create(backend);
        foreach ((int rows, int columns, int k, int block) in new[] { (70, 40, 5, 16), (45, 19, 3, 0), (33, 3, 32, 8), (2, 1, 1, 0) })
        {
            float[] f = KnnGraphTests.NearTies(Math.Max(rows, 8), columns, rows)[..(rows * columns)];
            var modality = new KnnModality(f, columns, k);
            int[] device = Kernels.KnnGraph.TopK(gpu, rows, modality, CpuOptions.Default, block);
            if (rows >= 8)
            {
                Assert.Equal(KnnGraphTests.NormalizedReference(f, rows, columns, k), device);
            }
            foreach (SimdTier tier in SimdTiers.Supported)
            {
                Assert.Equal(Kernels.KnnGraph.TopK(rows, modality, new CpuOptions(tier)), device);
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void Build_gives_the_cpu_graph(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int rows = 40;
        float[] text = KnnGraphTests.NearTies(rows, 24, 1), image = KnnGraphTests.DuplicateGroups(rows, 9, 2);
        KnnModality[] modalities = [new KnnModality(text, 24, 5), new KnnModality(image, 9, 1)];
        using ComputeContext gpu = ComputeContext.Create(backend);
        CsrMatrix device = Kernels.KnnGraph.Build(gpu, rows, modalities);
        CsrMatrix cpu = Kernels.KnnGraph.Build(rows, modalities);
        Assert.Equal(cpu.RowPointers.ToArray(), device.RowPointers.ToArray());
        Assert.Equal(cpu.ColumnIndices.ToArray(), device.ColumnIndices.ToArray());
        Assert.Equal(cpu.Values.ToArray(), device.Values.ToArray());
    }
}
