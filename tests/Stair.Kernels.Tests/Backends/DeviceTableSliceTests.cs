// Row views of device tables: they share storage with their table on every backend, a
// kernel can write into a view without touching the rows around it, overlapping
// input/output views are rejected, and a view dies with its table.
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Backends;

public class DeviceTableSliceTests
{
    public static TheoryData<Backend> AllBackends() => new() { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda };

    [SkippableTheory]
    [MemberData(nameof(AllBackends))]
    public void Views_share_storage_and_kernels_write_only_their_rows(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        const int d = 3;
        CsrMatrix a = TestGraphs.Square("powerlaw");
        int n = a.Rows;
        float[] x = TestGraphs.Table(n, d, seed: 5);
        // Output rows live in the middle of a bigger table whose other rows are poisoned sentinels.
        float[] big = TestGraphs.Poisoned((n + 7) * d);
        big.AsSpan(0, 4 * d).Fill(-1.5f);
        big.AsSpan((4 + n) * d).Fill(2.5f);
        using DeviceTable whole = context.Upload(big, n + 7, d);
        using DeviceTable input = context.Upload(x, n, d);
        using DeviceGraph g = context.Upload(a);
        DeviceTable middle = whole.Slice(4, n);
        Assert.True(middle.IsView);
        context.Spmm(g, input, middle);

        float[] got = whole.ToArray();
        using ComputeContext cpu = ComputeContext.Create(Backend.Cpu);
        using DeviceGraph cg = cpu.Upload(a);
        using DeviceTable cin = cpu.Upload(x, n, d);
        using DeviceTable cout = cpu.CreateTable(n, d);
        cpu.Spmm(cg, cin, cout);
        float[] expected = cout.ToArray();
        Assert.All(got.AsSpan(0, 4 * d).ToArray(), v => Assert.Equal(-1.5f, v));
        Assert.All(got.AsSpan((4 + n) * d).ToArray(), v => Assert.Equal(2.5f, v));
        float[] inner = got.AsSpan(4 * d, n * d).ToArray();
        Bits.AssertBitsEqual(inner, middle.ToArray(), "slice");
        for (int i = 0; i < inner.Length; i++)
        {
            // ILGPU backends multiply then add; the CPU fuses: agree to a few float32 roundings of the row sums.
            Assert.True(Math.Abs(inner[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"element {i}: {inner[i]} vs {expected[i]}");
        }

        // Upload through a view lands in the table's rows, and a view of a view keeps the absolute offset.
        DeviceTable lastTwo = whole.Slice(n + 5, 2);
        lastTwo.Slice(1, 1).Upload(new float[] { 7f, 8f, 9f });
        float[] after = whole.ToArray();
        Bits.AssertBitsEqual(new[] { 7f, 8f, 9f }, after.AsSpan((n + 6) * d, d).ToArray(), "rows after the slice");
        Assert.Equal(2.5f, after[(n + 5) * d]);
    }

    [SkippableTheory]
    [MemberData(nameof(AllBackends))]
    public void Overlapping_views_are_rejected_and_views_die_with_their_table(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        using ComputeContext context = ComputeContext.Create(backend);
        CsrMatrix a = TestGraphs.Square("powerlaw");
        int n = a.Rows;
        using DeviceGraph g = context.Upload(a);
        DeviceTable whole = context.CreateTable(2 * n, 2);
        DeviceTable first = whole.Slice(0, n), second = whole.Slice(n, n), shifted = whole.Slice(1, n);
        context.Spmm(g, first, second); // disjoint halves of one table: fine
        ArgumentException ex = Assert.Throws<ArgumentException>(() => context.Spmm(g, first, shifted));
        Assert.Equal("output", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => whole.Slice(n + 1, n));
        Assert.Throws<ArgumentOutOfRangeException>(() => whole.Slice(-1, 1));
        first.Dispose(); // a view frees nothing
        second.ToArray();
        whole.Dispose();
        Assert.Throws<ObjectDisposedException>(() => second.ToArray());
        Assert.Throws<ObjectDisposedException>(() => second.Slice(0, 1));
    }
}
