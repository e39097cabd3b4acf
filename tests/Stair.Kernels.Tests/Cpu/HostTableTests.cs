// The host-memory layout the CPU kernels gather from: HostTable, the CPU backend's tables and
// the propagation workspace start on a cache line, and from 8 MiB on on a 2 MiB huge page that
// was advised (and, where the system grants transparent huge pages, is backed by them).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Cpu;

public sealed unsafe class HostTableTests
{
    private static long Address(ReadOnlySpan<float> span) => (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 33)]
    [InlineData(1000, 64)]
    [InlineData(40_000, 64)] // 10 MB: huge-page aligned
    public void Tables_start_aligned_are_zeroed_and_rows_are_slices(int rows, int width)
    {
        var table = new HostTable(rows, width);
        Assert.Equal(rows * width, table.Length);
        Assert.Equal(0, Address(table.Span) % HostMemory.CacheLineBytes);
        bool large = (long)rows * width * sizeof(float) >= HostMemory.HugePageThresholdBytes;
        Assert.Equal(large && OperatingSystem.IsLinux(), table.HugePagesAdvised);
        if (large)
        {
            Assert.Equal(0, Address(table.Span) % HostMemory.HugePageBytes);
        }
        Assert.All(table.Span.ToArray(), v => Assert.Equal(0f, v));
        table.Row(rows - 1)[width - 1] = 5f;
        Assert.Equal(5f, table.Span[^1]);
        Assert.Equal(Address(table.Span) + (long)(rows - 1) * width * sizeof(float), Address(table.Row(rows - 1)));
    }

    [Fact]
    public void Bad_sizes_and_rows_are_rejected_naming_the_argument()
    {
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new HostTable(-1, 4)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => new HostTable(4, 0)).ParamName);
        var tooBig = Assert.Throws<ArgumentOutOfRangeException>(() => new HostTable(int.MaxValue, 64));
        Assert.Equal("rows", tooBig.ParamName);
        Assert.Contains("exceeds", tooBig.Message);
        var table = new HostTable(3, 2);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => table.Row(3)).ParamName);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => table.Row(-1)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => HostTable.CopyOf(new float[5], 2)).ParamName);
    }

    [Fact]
    public void CopyOf_keeps_the_values_and_the_table_is_a_span()
    {
        float[] values = [1, 2, 3, 4, 5, 6];
        HostTable table = HostTable.CopyOf(values, 3);
        Assert.Equal(2, table.Rows);
        ReadOnlySpan<float> span = table;
        Bits.AssertBitsEqual(values, span.ToArray(), "table span");
        Bits.AssertBitsEqual(values, table.Memory.ToArray(), "table memory");
    }

    [Fact]
    public void Cpu_context_tables_and_propagation_workspaces_are_host_tables()
    {
        using var context = ComputeContext.Create(Backend.Cpu);
        foreach ((int rows, int width) in new[] { (5, 3), (19_445, 64), (100_000, 64) })
        {
            using DeviceTable table = context.CreateTable(rows, width);
            long address = Address(table.Host);
            Assert.Equal(0, address % HostMemory.CacheLineBytes);
            if ((long)rows * width * sizeof(float) >= HostMemory.HugePageThresholdBytes)
            {
                Assert.Equal(0, address % HostMemory.HugePageBytes);
            }
            var workspace = new PropagationWorkspace(rows, width);
            Assert.Equal(0, (long)workspace.Layer(0) % HostMemory.CacheLineBytes);
            Assert.Equal(0, (long)workspace.Layer(1) % HostMemory.CacheLineBytes);
        }
    }
}

/// <summary>The huge-page check runs alone: AnonHugePages is process-wide, and a parallel test's tables being
/// collected meanwhile would lower the count it reads.</summary>
[Collection(nameof(HugePageCollection))]
public sealed class HugePageTests
{
    [SkippableFact]
    public void A_large_table_is_backed_by_huge_pages_where_the_system_grants_them()
    {
        const string setting = "/sys/kernel/mm/transparent_hugepage/enabled";
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists(setting) && !File.ReadAllText(setting).Contains("[never]"),
            "transparent huge pages are off on this system");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = AnonHugePagesKiB();
        var table = new HostTable(256 * 1024, 64); // 64 MiB: 32 huge pages
        long after = AnonHugePagesKiB();
        GC.KeepAlive(table);
        // The zeroing faults the table in. A system short of contiguous memory may back some of it with small
        // pages; a quarter of the huge pages shows the advice took (without it, THP "madvise" gives none).
        Assert.True(after - before >= 8 * 2048, $"AnonHugePages grew by {after - before} KiB for a 64 MiB table");
    }

    private static long AnonHugePagesKiB()
    {
        foreach (string line in File.ReadLines("/proc/self/smaps_rollup"))
        {
            if (line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            }
        }
        return 0;
    }
}

[CollectionDefinition(nameof(HugePageCollection), DisableParallelization = true)]
public sealed class HugePageCollection;
