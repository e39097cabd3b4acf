// The propagation kernels on every ILGPU backend (CPU simulator always; OpenCL and CUDA
// where a device exists, reported as skipped otherwise) against the float64 reference,
// repeatable bit for bit, and close to the SIMD CPU path (which fuses the multiply-adds). Sizes stay small: the simulator runs each thread.
// Set STAIR_REQUIRE_OPENCL=1 (as .ci/run does after setting up PoCL) to fail rather than
// skip when no OpenCL device is found.
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using static Stair.Kernels.Tests.Infrastructure.Reference;

namespace Stair.Kernels.Tests.Backends;

public class BackendPropagationTests
{
    public static TheoryData<Backend, string, int> BackendGraphWidth()
    {
        var data = new TheoryData<Backend, string, int>();
        foreach (Backend backend in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            foreach (string graph in TestGraphs.SquareCases)
            {
                foreach (int d in new[] { 1, 7, 33 })
                {
                    data.Add(backend, graph, d);
                }
            }
        }
        return data;
    }

    public static TheoryData<Backend> GpuBackends() => new() { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda };

    internal static void SkipIfMissing(Backend backend)
    {
        // STAIR_REQUIRE_OPENCL=1 / STAIR_REQUIRE_CUDA=1 (CI with PoCL, the GPU check): a missing or rejected device fails
        // every test of that backend with the reason, instead of skipping it.
        string? required = backend switch
        {
            Backend.OpenCL => "STAIR_REQUIRE_OPENCL",
            Backend.Cuda => "STAIR_REQUIRE_CUDA",
            _ => null,
        };
        if (required is not null && Environment.GetEnvironmentVariable(required) == "1")
        {
            BackendReport report = BackendDiscovery.Probe().First(r => r.Backend == backend);
            Assert.True(report.Available, $"{required}=1 but no usable {backend} device: {report.Reason}"
                + string.Concat(report.Devices.Where(d => !d.Usable).Select(d => $"; {d.Name}: {d.Problem}")) + (report.Driver is null ? "" : $" (driver: {report.Driver})"));
            return;
        }
        Skip.IfNot(BackendDiscovery.IsAvailable(backend), $"no {backend} device on this machine");
    }

    [SkippableTheory]
    [MemberData(nameof(BackendGraphWidth))]
    public void Spmm_fsc_and_their_transposes_match_float64_and_repeat_bit_for_bit(Backend backend, string graph, int d)
    {
        SkipIfMissing(backend);
        CsrMatrix a = TestGraphs.Square(graph);
        const int layers = 3;
        float[] beta = StepwiseWeights.Forward(d, 0.3);
        float[] x = TestGraphs.Table(a.Rows, d, seed: 3 * d);
        using ComputeContext gpu = ComputeContext.Create(backend);
        using ComputeContext cpu = ComputeContext.Create(Backend.Cpu);
        using DeviceGraph g = gpu.Upload(a);
        using DeviceGraph cg = cpu.Upload(a);
        using DeviceTable input = gpu.Upload(x, a.Rows, d);
        using DeviceTable cinput = cpu.Upload(x, a.Rows, d);
        using DeviceTable output = gpu.CreateTable(a.Rows, d);
        using DeviceTable coutput = cpu.CreateTable(a.Rows, d);
        using StepwiseFilter filter = gpu.CreateFilter(beta, layers);
        using StepwiseFilter cfilter = cpu.CreateFilter(beta, layers);
        double spmmTol = Float64Reference.SpmmTolerance(Math.Max(TestGraphs.MaxRowLength(a), TestGraphs.MaxRowLength(a.Transpose())));
        double fscTol = Float64Reference.FscTolerance(Math.Max(TestGraphs.MaxRowLength(a), TestGraphs.MaxRowLength(a.Transpose())), layers);

        foreach (string kernel in new[] { "spmm", "spmm-t", "fsc", "fsc-t" })
        {
            bool transpose = kernel.EndsWith("-t", StringComparison.Ordinal);
            output.Upload(TestGraphs.Poisoned((int)output.Length)); // an unwritten element fails
            if (kernel.StartsWith("spmm", StringComparison.Ordinal))
            {
                gpu.Spmm(g, input, output, transpose);
                cpu.Spmm(cg, cinput, coutput, transpose);
            }
            else
            {
                gpu.FscOrBackward(g, input, output, filter, transpose);
                cpu.FscOrBackward(cg, cinput, coutput, cfilter, transpose);
            }
            float[] y = output.ToArray();
            double[] xd = ToDouble(x);
            if (kernel.StartsWith("spmm", StringComparison.Ordinal))
            {
                AssertClose(Spmm(a, xd, d, transpose), Spmm(a, xd, d, transpose, absolute: true), y, spmmTol, $"{backend} {kernel} {graph} d={d}");
            }
            else
            {
                AssertClose(Fsc(a, xd, d, layers, beta, transpose), Fsc(a, xd, d, layers, beta, transpose, absolute: true), y, fscTol, $"{backend} {kernel} {graph} d={d}");
            }
            // Deterministic: a second launch gives the same bits.
            if (kernel.StartsWith("spmm", StringComparison.Ordinal))
            {
                gpu.Spmm(g, input, output, transpose);
            }
            else
            {
                gpu.FscOrBackward(g, input, output, filter, transpose);
            }
            Bits.AssertBitsEqual(y, output.ToArray(), $"{backend} {kernel} {graph} d={d}, second launch");
            // The CPU path computes the same sums with fused multiply-adds: equal up to the same rounding bound.
            double[] bound = kernel.StartsWith("spmm", StringComparison.Ordinal) ? Spmm(a, xd, d, transpose, absolute: true) : Fsc(a, xd, d, layers, beta, transpose, absolute: true);
            AssertClose(Array.ConvertAll(coutput.ToArray(), v => (double)v), bound, y, 2 * (kernel.StartsWith("spmm", StringComparison.Ordinal) ? spmmTol : fscTol), $"{backend} vs cpu {kernel} {graph} d={d}");
        }
    }

    // The GPU work layout (one column per thread, one row per group) is what CUDA and OpenCL
    // GPUs run; the simulator checks it here, since this machine has no GPU.
    [Theory]
    [InlineData("powerlaw", 33)]
    [InlineData("hub", 7)]
    [InlineData("adjacency", 64)]
    public void The_gpu_work_layout_matches_float64_on_the_simulator(string graph, int d)
    {
        CsrMatrix a = TestGraphs.Square(graph);
        using ComputeContext context = ComputeContext.Create(Backend.IlgpuCpu);
        context.ForceKernelLayout(gpuLayout: true);
        float[] beta = StepwiseWeights.Forward(d, 0.2);
        float[] x = TestGraphs.Table(a.Rows, d, 9);
        using DeviceGraph g = context.Upload(a);
        using DeviceTable input = context.Upload(x, a.Rows, d);
        using DeviceTable output = context.Upload(TestGraphs.Poisoned(a.Rows * d), a.Rows, d);
        using StepwiseFilter filter = context.CreateFilter(beta, 3);
        context.FscBackward(g, input, output, filter);
        int maxRow = Math.Max(TestGraphs.MaxRowLength(a), TestGraphs.MaxRowLength(a.Transpose()));
        AssertClose(Fsc(a, ToDouble(x), d, 3, beta, transpose: true), Fsc(a, ToDouble(x), d, 3, beta, transpose: true, absolute: true),
            output.ToArray(), Float64Reference.FscTolerance(maxRow, 3), $"gpu layout {graph} d={d}");
        context.Spmm(g, input, output);
        AssertClose(Spmm(a, ToDouble(x), d), Spmm(a, ToDouble(x), d, absolute: true), output.ToArray(), Float64Reference.SpmmTolerance(maxRow), "gpu layout spmm");
    }

    // Hub rows are summed in chunks by separate groups and combined in chunk order. The real
    // threshold (1,024 entries) is hit by the Baby-shaped graph in validate; here a tiny one
    // sends most rows of the test graphs down that path, in both work layouts.
    [SkippableTheory]
    [InlineData(Backend.IlgpuCpu, false)]
    [InlineData(Backend.IlgpuCpu, true)]
    [InlineData(Backend.OpenCL, false)]
    [InlineData(Backend.Cuda, true)]
    public void Hub_rows_split_into_chunks_match_float64_and_repeat(Backend backend, bool gpuLayout)
    {
        SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        context.ForceKernelLayout(gpuLayout);
        context.HubRowThreshold = 3;
        context.HubChunkLength = 2;
        foreach (string graph in new[] { "hub", "powerlaw", "adjacency" })
        {
            CsrMatrix a = TestGraphs.Square(graph);
            const int d = 9, layers = 2;
            float[] beta = StepwiseWeights.Forward(d, 0.4);
            float[] x = TestGraphs.Table(a.Rows, d, 17);
            using DeviceGraph g = context.Upload(a);
            using DeviceTable input = context.Upload(x, a.Rows, d);
            using DeviceTable output = context.Upload(TestGraphs.Poisoned(a.Rows * d), a.Rows, d);
            using StepwiseFilter filter = context.CreateFilter(beta, layers);
            int maxRow = Math.Max(TestGraphs.MaxRowLength(a), TestGraphs.MaxRowLength(a.Transpose()));
            foreach (bool transpose in new[] { false, true })
            {
                context.FscOrBackward(g, input, output, filter, transpose);
                float[] first = output.ToArray();
                AssertClose(Fsc(a, ToDouble(x), d, layers, beta, transpose), Fsc(a, ToDouble(x), d, layers, beta, transpose, absolute: true),
                    first, Float64Reference.FscTolerance(maxRow, layers), $"hubs {backend} {graph} transpose={transpose}");
                context.FscOrBackward(g, input, output, filter, transpose);
                Bits.AssertBitsEqual(first, output.ToArray(), $"hubs {backend} {graph} transpose={transpose}, second launch");
                context.Spmm(g, input, output, transpose);
                AssertClose(Spmm(a, ToDouble(x), d, transpose), Spmm(a, ToDouble(x), d, transpose, absolute: true), output.ToArray(),
                    Float64Reference.SpmmTolerance(maxRow), $"hubs spmm {backend} {graph} transpose={transpose}");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void Zero_layers_copy_and_a_rectangular_spmm_works(Backend backend)
    {
        SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        CsrMatrix rect = TestGraphs.RandomPowerLaw(30, 20, seed: 4);
        using DeviceGraph g = context.Upload(rect);
        float[] x = TestGraphs.Table(20, 5, 1);
        using DeviceTable input = context.Upload(x, 20, 5);
        using DeviceTable output = context.CreateTable(30, 5);
        context.Spmm(g, input, output);
        AssertClose(Spmm(rect, ToDouble(x), 5), Spmm(rect, ToDouble(x), 5, absolute: true), output.ToArray(), Float64Reference.SpmmTolerance(30), "rect");

        CsrMatrix square = TestGraphs.Square("powerlaw");
        using DeviceGraph sg = context.Upload(square);
        float[] e = TestGraphs.Table(square.Rows, 4, 2);
        using DeviceTable se = context.Upload(e, square.Rows, 4);
        using DeviceTable so = context.CreateTable(square.Rows, 4);
        using StepwiseFilter zero = context.CreateFilter(new float[] { 0.5f, 0.5f, 0.5f, 0.5f }, layers: 0);
        context.Fsc(sg, se, so, zero);
        Bits.AssertBitsEqual(e, so.ToArray(), "FSC with zero layers is the input");
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void Bad_calls_are_rejected_before_launch_and_write_nothing(Backend backend)
    {
        SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        using ComputeContext other = ComputeContext.Create(Backend.Cpu);
        CsrMatrix a = TestGraphs.Square("adjacency");
        using DeviceGraph g = context.Upload(a);
        using DeviceTable input = context.Upload(TestGraphs.Table(a.Rows, 4, 1), a.Rows, 4);
        float[] poison = TestGraphs.Poisoned(a.Rows * 4);
        using DeviceTable output = context.Upload(poison, a.Rows, 4);
        using DeviceTable narrow = context.CreateTable(a.Rows, 3);
        using DeviceTable foreign = other.CreateTable(a.Rows, 4);
        using StepwiseFilter filter = context.CreateFilter(new float[] { 0.9f, 0.5f, 0.2f, 0f }, 2);
        using StepwiseFilter wrongWidth = context.CreateFilter(new float[] { 0.9f, 0.5f, 0.2f }, 2);

        Assert.Equal("output", Assert.Throws<ArgumentException>(() => context.Spmm(g, input, narrow)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => context.Spmm(g, foreign, output)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => context.Spmm(g, input, input)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => context.Fsc(g, input, output, wrongWidth)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => context.CreateFilter(new float[] { 0.5f, float.NaN }, 2)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => context.CreateFilter(new float[] { 1.5f }, 2)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => context.CreateFilter(new float[] { 0.5f }, -1));
        Bits.AssertBitsEqual(poison, output.ToArray(), "rejected call left the output");

        DeviceTable disposed = context.CreateTable(a.Rows, 4);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.Spmm(g, disposed, output));
        Assert.Throws<ObjectDisposedException>(() => disposed.ToArray());
        Bits.AssertBitsEqual(poison, output.ToArray(), "rejected call left the output");
    }

    [SkippableTheory]
    [MemberData(nameof(GpuBackends))]
    public void A_disposed_context_rejects_every_use(Backend backend)
    {
        SkipIfMissing(backend);
        ComputeContext context = ComputeContext.Create(backend);
        DeviceTable table = context.CreateTable(3, 2);
        DeviceGraph graph = context.Upload(TestGraphs.Square("single"));
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.CreateTable(1, 1));
        Assert.Throws<ObjectDisposedException>(() => table.ToArray());
        Assert.Throws<ObjectDisposedException>(() => context.Spmm(graph, table, table));
        context.Dispose(); // twice is fine
    }

    [Fact]
    public void A_missing_backend_names_what_is_missing()
    {
        foreach (BackendReport report in BackendDiscovery.Probe())
        {
            if (!report.Available)
            {
                var ex = Assert.Throws<BackendUnavailableException>(() => ComputeContext.Create(report.Backend));
                Assert.Equal(report.Backend, ex.Backend);
                Assert.False(string.IsNullOrWhiteSpace(ex.Reason));
                Assert.Contains(report.Reason!, ex.Message);
            }
        }
        Assert.Contains(BackendDiscovery.Probe(), r => r.Backend == Backend.Cpu && r.Available);
        Assert.Contains(BackendDiscovery.Probe(), r => r.Backend == Backend.IlgpuCpu && r.Available);
    }

    [Fact]
    public void Auto_reports_its_choice()
    {
        using ComputeContext context = ComputeContext.Create(Backend.Auto);
        Assert.NotEqual(Backend.Auto, context.Backend);
        Assert.False(string.IsNullOrWhiteSpace(context.Device));
    }
}

public class BackendFaultTests
{
    // The request must be one no machine can serve, whatever its overcommit policy: more than the
    // memory the device itself reports (ILGPU backends), or past the largest .NET array (CPU backend,
    // which rejects it before allocating).
    [SkippableTheory]
    [InlineData(Backend.IlgpuCpu)]
    [InlineData(Backend.OpenCL)]
    [InlineData(Backend.Cuda)]
    public void Out_of_device_memory_is_a_clear_exception_with_the_size_and_the_context_stays_usable(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        long reported = context.Ilgpu.Accelerator.MemorySize;
        // The simulator reports long.MaxValue (no limit of its own; it allocates host memory): there the
        // request is 2⁵⁷ bytes and more, beyond the user address space of any 64-bit machine (2⁵⁶ with
        // 5-level paging), which no overcommit policy can map.
        long limit = reported == long.MaxValue ? 1L << 57 : reported;
        const int width = 1 << 25;
        long rows = limit / ((long)width * sizeof(float)) + 1;   // rows·width·4 bytes > limit
        Assert.True(rows <= int.MaxValue, $"{backend} reports {reported:N0} bytes: no table can be asked for beyond that");
        long bytes = rows * width * sizeof(float);
        var ex = Assert.Throws<OutOfMemoryException>(() => context.CreateTable((int)rows, width));
        Assert.Contains($"{bytes:N0} bytes", ex.Message);
        Assert.Contains($"a {rows} × {width} table", ex.Message);
        using DeviceTable small = context.Upload(new float[] { 1, 2, 3, 4 }, 2, 2);
        Bits.AssertBitsEqual(new float[] { 1, 2, 3, 4 }, small.ToArray(), "small table");
    }

    [Fact]
    public void A_cpu_table_past_the_largest_array_is_rejected_before_allocating_and_the_context_stays_usable()
    {
        using ComputeContext context = ComputeContext.Create(Backend.Cpu);
        int rows = Array.MaxLength / 4096 + 1;
        ArgumentException ex = ArgumentAssert.Throws("rows", () => context.CreateTable(rows, 4096));
        Assert.Contains($"{rows} × 4096", ex.Message);
        using DeviceTable small = context.Upload(new float[] { 1, 2, 3, 4 }, 2, 2);
        Bits.AssertBitsEqual(new float[] { 1, 2, 3, 4 }, small.ToArray(), "small table");
    }

    // PoCL has no subgroups, so a warp shuffle cannot compile there: the failure must not
    // poison later compiles in the same ILGPU context.
    private static void ShuffleKernel(ILGPU.ArrayView<int> data)
    {
        int i = ILGPU.Grid.GlobalIndex.X;
        data[i] = ILGPU.Warp.Shuffle(data[i], 0);
    }

    [SkippableFact]
    public void A_failed_kernel_compile_does_not_break_later_kernels_on_opencl()
    {
        BackendPropagationTests.SkipIfMissing(Backend.OpenCL);
        using ComputeContext context = ComputeContext.Create(Backend.OpenCL);
        Assert.Throws<NotSupportedException>(() =>
            context.Ilgpu.Compile(acc => ILGPU.Runtime.KernelLoaders.LoadKernel<ILGPU.Index1D, ILGPU.ArrayView<int>>(acc, (ILGPU.Index1D _, ILGPU.ArrayView<int> d) => ShuffleKernel(d))));
        // A fresh kernel set compiles and runs correctly after the failure.
        var fresh = context.Ilgpu.Compile(acc => new Stair.Kernels.Gpu.Propagation.PropagationKernels(acc));
        Assert.NotNull(fresh);
        CsrMatrix a = TestGraphs.Square("adjacency");
        using DeviceGraph g = context.Upload(a);
        float[] x = TestGraphs.Table(a.Rows, 5, 1);
        using DeviceTable input = context.Upload(x, a.Rows, 5);
        using DeviceTable output = context.CreateTable(a.Rows, 5);
        context.Spmm(g, input, output);
        Reference.AssertClose(Reference.Spmm(a, Reference.ToDouble(x), 5), Reference.Spmm(a, Reference.ToDouble(x), 5, absolute: true),
            output.ToArray(), Stair.Kernels.Validation.Float64Reference.SpmmTolerance(TestGraphs.MaxRowLength(a)), "after a failed compile");
    }
}
