// Host memory laid out for the CPU kernels. The propagation kernels gather whole rows of a
// table at random; a row that starts on a 64-byte boundary costs d/16 cache lines instead of
// d/16 + 1, and a table on 2 MiB transparent huge pages costs one TLB entry per 2 MiB instead
// of one per 4 KiB (kernels.md, "Host tables": both measured). Memory comes from pinned
// arrays, so a span handed out keeps its array alive: there is nothing to free and no span can
// outlive its memory.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Stair.Kernels;

/// <summary>Pinned, aligned float arrays for tables the CPU kernels read (internal: <see cref="HostTable"/> is the public face).</summary>
internal static unsafe class HostMemory
{
    /// <summary>Every allocation starts on a cache line.</summary>
    public const int CacheLineBytes = 64;

    /// <summary>Large allocations start on a transparent huge page.</summary>
    public const int HugePageBytes = 2 << 20;

    /// <summary>From this size on an allocation is huge-page aligned and advised (the padding is then at most 1/4 of it).</summary>
    public const long HugePageThresholdBytes = 4L * HugePageBytes;

    private const int MadviseHugePage = 14; // MADV_HUGEPAGE, Linux

    /// <summary>The most floats one allocation can hold (an array's limit less the largest padding).</summary>
    public const long MaxFloats = 0x7FFFFFC7 - HugePageBytes / sizeof(float);

    /// <summary>
    /// Allocates a pinned array whose floats [offset, offset + length) start 64-byte aligned, and at
    /// <see cref="HugePageThresholdBytes"/> or more 2 MiB aligned and advised for huge pages (Linux; the advice is a
    /// hint and its failure is ignored). Zeroed unless <paramref name="zeroed"/> is false.
    /// </summary>
    public static float[] Allocate(long length, bool zeroed, out int offset, out bool hugePages)
    {
        if (length < 0 || length > MaxFloats)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A host table holds at most {MaxFloats:N0} floats.");
        }
        long bytes = length * sizeof(float);
        hugePages = bytes >= HugePageThresholdBytes;
        int alignment = hugePages ? HugePageBytes : CacheLineBytes;
        float[] array = GC.AllocateUninitializedArray<float>((int)length + alignment / sizeof(float), pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        long skip = (alignment - ((long)start & (alignment - 1))) & (alignment - 1);
        offset = (int)(skip / sizeof(float));
        if (hugePages && OperatingSystem.IsLinux())
        {
            // Before the first touch, so the zeroing below already faults in huge pages.
            _ = Madvise(start + skip, (nuint)(bytes / HugePageBytes * HugePageBytes), MadviseHugePage);
        }
        if (zeroed)
        {
            array.AsSpan(offset, (int)length).Clear();
        }
        return array;
    }

    /// <summary>rows × width after checking both (rows ≥ 0, width ≥ 1) and that one allocation holds it.</summary>
    public static long TableLength(int rows, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        long length = (long)rows * width;
        if (length > MaxFloats)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A {rows} × {width} table exceeds the {MaxFloats:N0} floats one host table holds.");
        }
        return length;
    }

    /// <summary>True when the span starts on a 64-byte boundary.</summary>
    public static bool IsCacheLineAligned(ReadOnlySpan<float> span)
        => ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)) & (CacheLineBytes - 1)) == 0;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(void* address, nuint length, int advice);
}

/// <summary>
/// A rows × width float table in host memory laid out for the CPU kernels: it starts on a 64-byte
/// boundary, and from 8 MiB on on a 2 MiB boundary advised for transparent huge pages (Linux).
/// </summary>
/// <remarks>
/// <para>Pass <see cref="Span"/> (or the table itself) wherever the span API of <see cref="Propagation"/>,
/// <see cref="EmbeddingUpdate"/> and the other kernels takes a table. Any span works there; this layout is what
/// makes row gathers cheapest. Measured on the reference VM (kernels.md, "Host tables": the benchmark report's
/// <c>array</c> variant against the same tier on host tables, same run): an Electronics-sized SpMM over an ordinary
/// <c>float[]</c> (16–24 bytes off a cache line, 4 KiB pages) took 2.1–2.5× as long, FSC 1.2×.</para>
/// <para>The CPU backend of <see cref="ComputeContext"/> lays out its <see cref="DeviceTable"/>s the same way.
/// The memory is a pinned managed array: it is freed by the garbage collector once neither the table nor a span
/// of it is reachable, so there is nothing to dispose.</para>
/// </remarks>
public sealed class HostTable
{
    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>Allocates a zeroed table.</summary>
    /// <param name="rows">Rows (≥ 0).</param>
    /// <param name="width">Floats per row (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range, or rows × width exceeds what one table holds.</exception>
    public HostTable(int rows, int width)
    {
        long length = HostMemory.TableLength(rows, width);
        _array = HostMemory.Allocate(length, zeroed: true, out _offset, out bool huge);
        HugePagesAdvised = huge && OperatingSystem.IsLinux();
        Rows = rows;
        Width = width;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Floats per row.</summary>
    public int Width { get; }

    /// <summary>Rows × width.</summary>
    public int Length => Rows * Width;

    /// <summary>True when the table was advised for transparent huge pages (whether the kernel backs it with them is the system's choice).</summary>
    public bool HugePagesAdvised { get; }

    /// <summary>The table's floats, row-major.</summary>
    public Span<float> Span => _array.AsSpan(_offset, Length);

    /// <summary>The table's floats as <see cref="Memory{T}"/> (for asynchronous code).</summary>
    public Memory<float> Memory => _array.AsMemory(_offset, Length);

    /// <summary>One row.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not in [0, <see cref="Rows"/>).</exception>
    public Span<float> Row(int row)
    {
        if ((uint)row >= (uint)Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"The table has {Rows} rows.");
        }
        return _array.AsSpan(_offset + row * Width, Width);
    }

    /// <summary>A new table holding a copy of <paramref name="values"/> (row-major, <paramref name="width"/> floats per row).</summary>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="width"/>.</exception>
    public static HostTable CopyOf(ReadOnlySpan<float> values, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (values.Length % width != 0)
        {
            throw new ArgumentException($"{values.Length} floats are not whole rows of width {width}.", nameof(values));
        }
        var table = new HostTable(values.Length / width, width);
        values.CopyTo(table.Span);
        return table;
    }

    /// <summary>The table's floats.</summary>
    public static implicit operator Span<float>(HostTable table) => table.Span;

    /// <summary>The table's floats, read-only.</summary>
    public static implicit operator ReadOnlySpan<float>(HostTable table) => table.Span;
}
