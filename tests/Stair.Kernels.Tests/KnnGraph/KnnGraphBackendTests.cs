// The kNN graph with its similarity blocks on every ILGPU backend (the CPU simulator always;
// OpenCL and CUDA where a device exists, skipped otherwise, OpenCL required under
// STAIR_REQUIRE_OPENCL=1): the same neighbour lists as every CPU tier, bit for bit, on
// near-ties the device's float32 rounding cannot order. Sizes stay small for the simulator.
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;

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
            foreach (SimdTier tier in TierCoverage.Expected())
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
        CsrMatrix device = gpu.BuildKnnGraph(rows, modalities);
        CsrMatrix cpu = Kernels.KnnGraph.Build(rows, modalities);
        Assert.Equal(cpu.RowPointers.ToArray(), device.RowPointers.ToArray());
        Assert.Equal(cpu.ColumnIndices.ToArray(), device.ColumnIndices.ToArray());
        Bits.AssertBitsEqual(cpu.Values.ToArray(), device.Values.ToArray(), "device kNN graph values vs CPU");
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void The_block_product_matches_float64_within_the_screening_bound(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        using ComputeContext gpu = ComputeContext.Create(backend);
        var kernels = gpu.Ilgpu.Kernels<Stair.Kernels.Gpu.Dense.DenseKernels>();
        foreach ((int m, int n, int k, int lda) in new[] { (37, 70, 19, 21), (1, 1, 1, 1), (64, 65, 33, 33), (5, 130, 40, 41) })
        {
            float[] a = KnnGraphTests.Gaussian(m, lda, m + k), b = KnnGraphTests.Gaussian(n, lda, n + k);
            using DeviceTable da = gpu.Upload(a, m, lda), db = gpu.Upload(b, n, lda), dc = gpu.CreateTable(m, n + 3);
            dc.Upload(Enumerable.Repeat(float.NaN, m * (n + 3)).ToArray()); // an unwritten element fails
            kernels.MultiplyTransposed(gpu.Stream, da.View, lda, db.View, lda, dc.View, n + 3, m, n, k);
            float[] c = dc.ToArray();
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double exact = 0, magnitude = 0;
                    for (int p = 0; p < k; p++)
                    {
                        exact += (double)a[i * lda + p] * b[j * lda + p];
                        magnitude += Math.Abs((double)a[i * lda + p] * b[j * lda + p]);
                    }
                    // Any order of k float32 products and sums: within γ_k·Σ|a_p b_p| (what the screen assumes).
                    double gamma = k * Math.ScaleB(1.0, -24) / (1 - k * Math.ScaleB(1.0, -24));
                    Assert.True(Math.Abs(c[i * (n + 3) + j] - exact) <= gamma * magnitude + 1e-30, $"{m}×{n}×{k} C[{i},{j}] = {c[i * (n + 3) + j]}, expected {exact}");
                }
                for (int j = n; j < n + 3; j++)
                {
                    Assert.True(float.IsNaN(c[i * (n + 3) + j]), "wrote past n");
                }
            }
        }
    }
}
