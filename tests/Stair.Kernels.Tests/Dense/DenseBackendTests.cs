// ComputeContext.MultiplyTransposed (C = A·Bᵀ) on every backend — the SIMD CPU path, the
// ILGPU CPU simulator (tiny sizes: it runs each thread), OpenCL (PoCL here; required when
// STAIR_REQUIRE_OPENCL=1) and CUDA (skipped without a device) — against the float64
// reference, repeatable bit for bit, identical rows giving identical results; the internal
// DenseKernels entry with padded leading dimensions; and the argument checks.
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Dense;

public class DenseBackendTests
{
    private static readonly (int M, int N, int K)[] SmallSizes = [(1, 1, 1), (3, 17, 15), (17, 3, 33), (20, 21, 16), (5, 40, 37)];

    private static readonly (int M, int N, int K)[] LargerSizes = [(1, 100, 17), (100, 1, 33), (65, 129, 100), (130, 70, 257), (200, 64, 3)];

    public static TheoryData<Backend, int, int, int> BackendSizes()
    {
        var data = new TheoryData<Backend, int, int, int>();
        foreach (Backend backend in new[] { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            foreach ((int m, int n, int k) in SmallSizes)
            {
                data.Add(backend, m, n, k);
            }
            if (backend != Backend.IlgpuCpu)
            {
                foreach ((int m, int n, int k) in LargerSizes)
                {
                    data.Add(backend, m, n, k);
                }
            }
        }
        return data;
    }

    public static TheoryData<Backend> AllBackends() => new() { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda };

    public static TheoryData<Backend> GpuBackends() => new() { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda };

    private static void SkipIfMissing(Backend backend)
    {
        if (backend != Backend.Cpu)
        {
            BackendPropagationTests.SkipIfMissing(backend);
        }
    }

    private static void AssertMatches(float[] a, float[] b, int m, int n, int k, float[] actual, string what)
    {
        double[] expected = Float64Reference.MultiplyTransposed(a, k, b, k, m, n, k);
        double[] bound = Float64Reference.MultiplyTransposed(a, k, b, k, m, n, k, absolute: true);
        Reference.AssertClose(expected, bound, actual, Float64Reference.DenseProductTolerance(k), what);
    }

    private static float[] Poisoned(int length)
    {
        var x = new float[length];
        x.AsSpan().Fill(float.NaN);
        return x;
    }

    [SkippableTheory]
    [MemberData(nameof(BackendSizes))]
    public void Matches_float64_and_repeats_bit_for_bit(Backend backend, int m, int n, int k)
    {
        SkipIfMissing(backend);
        float[] a = DenseProductTests.Table(m, k, seed: 3 * m + k);
        float[] b = DenseProductTests.Table(n, k, seed: 5 * n + k + 1);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable da = context.Upload(a, m, k);
        using DeviceTable db = context.Upload(b, n, k);
        using DeviceTable dc = context.Upload(Poisoned(m * n), m, n);
        context.MultiplyTransposed(da, db, dc);
        float[] first = dc.ToArray();
        AssertMatches(a, b, m, n, k, first, $"{backend} {m}x{n}x{k}");
        dc.Upload(Poisoned(m * n));
        context.MultiplyTransposed(da, db, dc);
        Bits.AssertBitsEqual(first, dc.ToArray(), $"{backend} {m}x{n}x{k}, second launch");
    }

    [SkippableTheory]
    [MemberData(nameof(AllBackends))]
    public void Same_table_on_both_sides_gives_a_symmetric_product_equal_to_a_copy(Backend backend)
    {
        SkipIfMissing(backend);
        int m = backend == Backend.IlgpuCpu ? 19 : 70, k = 23;
        float[] a = DenseProductTests.Table(m, k, seed: 9);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable da = context.Upload(a, m, k);
        using DeviceTable copy = context.Upload(a, m, k);
        using DeviceTable self = context.Upload(Poisoned(m * m), m, m);
        using DeviceTable general = context.Upload(Poisoned(m * m), m, m);
        context.MultiplyTransposed(da, da, self);
        context.MultiplyTransposed(da, copy, general);
        float[] s = self.ToArray();
        Bits.AssertBitsEqual(general.ToArray(), s, $"{backend} A·Aᵀ vs A·copyᵀ");
        AssertMatches(a, a, m, m, k, s, $"{backend} self");
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < i; j++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(s[j * m + i]), BitConverter.SingleToInt32Bits(s[i * m + j]));
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void Identical_rows_give_identical_results_in_every_tile_position(Backend backend)
    {
        SkipIfMissing(backend);
        int m = backend == Backend.IlgpuCpu ? 20 : 140, n = backend == Backend.IlgpuCpu ? 18 : 100, k = 41;
        float[] a = DenseProductTests.Table(m, k, seed: 13);
        float[] b = DenseProductTests.Table(n, k, seed: 14);
        foreach (int i in new[] { 1, 4, 15, 16, m - 1 })
        {
            Array.Copy(a, 0, a, i * k, k);
        }
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable da = context.Upload(a, m, k);
        using DeviceTable db = context.Upload(b, n, k);
        using DeviceTable dc = context.Upload(Poisoned(m * n), m, n);
        context.MultiplyTransposed(da, db, dc);
        float[] c = dc.ToArray();
        foreach (int i in new[] { 1, 4, 15, 16, m - 1 })
        {
            Bits.AssertBitsEqual(c.AsSpan(0, n), c.AsSpan(i * n, n), $"{backend} row {i} vs row 0");
        }
        // A one-row product of row 0 gives the same bits as row 0 of the full product.
        using DeviceTable row = context.Upload(a.AsSpan(0, k), 1, k);
        using DeviceTable one = context.Upload(Poisoned(n), 1, n);
        context.MultiplyTransposed(row, db, one);
        Bits.AssertBitsEqual(c.AsSpan(0, n), one.ToArray(), $"{backend} one-row product vs row 0");
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void Kernel_entry_honours_padded_leading_dimensions_and_leaves_padding_alone(Backend backend)
    {
        SkipIfMissing(backend);
        int m = backend == Backend.IlgpuCpu ? 9 : 70, n = backend == Backend.IlgpuCpu ? 11 : 90, k = 19;
        int lda = k + 3, ldb = k + 1, ldc = n + 5;
        float[] a = DenseProductTests.Table(m, lda, seed: 17);
        float[] b = DenseProductTests.Table(n, ldb, seed: 18);
        float[] c = new float[m * ldc];
        c.AsSpan().Fill(-3f);
        for (int i = 0; i < m; i++)
        {
            c.AsSpan(i * ldc, n).Fill(float.NaN);
        }
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable da = context.Upload(a, m, lda);
        using DeviceTable db = context.Upload(b, n, ldb);
        using DeviceTable dc = context.Upload(c, m, ldc);
        context.Ilgpu.Kernels<Stair.Kernels.Gpu.Dense.DenseKernels>().MultiplyTransposed(context.Stream, da.View, lda, db.View, ldb, dc.View, ldc, m, n, k);
        float[] result = dc.ToArray();
        var dense = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                if (j < n)
                {
                    dense[i * n + j] = result[i * ldc + j];
                }
                else
                {
                    Assert.Equal(-3f, result[i * ldc + j]);
                }
            }
        }
        double[] expected = Float64Reference.MultiplyTransposed(a, lda, b, ldb, m, n, k);
        double[] bound = Float64Reference.MultiplyTransposed(a, lda, b, ldb, m, n, k, absolute: true);
        Reference.AssertClose(expected, bound, dense, Float64Reference.DenseProductTolerance(k), $"{backend} padded");
    }

    [SkippableTheory]
    [MemberData(nameof(AllBackends))]
    public void Bad_tables_are_rejected_naming_the_argument_before_anything_runs(Backend backend)
    {
        SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        using ComputeContext other = ComputeContext.Create(Backend.Cpu);
        using DeviceTable a = context.Upload(DenseProductTests.Table(4, 3, 1), 4, 3);
        using DeviceTable b = context.Upload(DenseProductTests.Table(5, 3, 2), 5, 3);
        using DeviceTable wide = context.Upload(DenseProductTests.Table(5, 4, 3), 5, 4);
        using DeviceTable c = context.Upload(ArgumentAssert.Poisoned(20), 4, 5);
        using DeviceTable wrong = context.Upload(ArgumentAssert.Poisoned(20), 5, 4);
        using DeviceTable foreign = other.Upload(DenseProductTests.Table(4, 3, 1), 4, 3);
        ArgumentAssert.Throws("b", () => context.MultiplyTransposed(a, wide, c));
        ArgumentAssert.Throws("c", () => context.MultiplyTransposed(a, b, wrong));
        ArgumentAssert.Throws("a", () => context.MultiplyTransposed(foreign, b, c));
        ArgumentAssert.Throws("c", () => context.MultiplyTransposed(a, b, a));
        ArgumentAssert.Throws("a", () => context.MultiplyTransposed(null!, b, c));
        DeviceTable disposed = context.Upload(DenseProductTests.Table(4, 3, 1), 4, 3);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.MultiplyTransposed(disposed, b, c));
        ArgumentAssert.Untouched(ArgumentAssert.Poisoned(20), c.ToArray(), "c");
        ArgumentAssert.Untouched(ArgumentAssert.Poisoned(20), wrong.ToArray(), "wrong");
    }

    [Fact]
    public void A_disposed_context_is_rejected()
    {
        ComputeContext context = ComputeContext.Create(Backend.Cpu);
        DeviceTable a = context.Upload(DenseProductTests.Table(2, 2, 1), 2, 2);
        DeviceTable c = context.CreateTable(2, 2);
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.MultiplyTransposed(a, a, c));
    }
}
