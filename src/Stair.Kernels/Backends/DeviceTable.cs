// A dense row-major float table owned by a ComputeContext: device memory on an ILGPU
// backend, a host array on the CPU backend. Explicit upload and download; nothing copies
// behind the caller's back. A table can also be a view of consecutive rows of another
// table (Slice(rowStart, rowCount)), so a model can keep users and items in one N × d table for
// propagation and still update each block with its own optimizer.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels;

/// <summary>A rows × width float table resident on a <see cref="ComputeContext"/>'s device.</summary>
public sealed class DeviceTable : IDisposable
{
    private readonly float[]? _host;
    private readonly int _hostOffset;
    private MemoryBuffer1D<float, Stride1D.Dense>? _device;
    private readonly ArrayView<float> _viewOfParent;
    private readonly DeviceTable? _parent;
    private bool _disposed;

    internal DeviceTable(ComputeContext owner, int rows, int width, float[]? host, int hostOffset, MemoryBuffer1D<float, Stride1D.Dense>? device)
    {
        Owner = owner;
        Rows = rows;
        Width = width;
        _host = host;
        _hostOffset = hostOffset;
        _device = device;
    }

    private DeviceTable(DeviceTable parent, int rowStart, int rows)
    {
        Owner = parent.Owner;
        Rows = rows;
        Width = parent.Width;
        _parent = parent.Root;
        long offset = parent.StorageOffset + (long)rowStart * parent.Width;
        StorageOffset = offset;
        if (parent._host is not null)
        {
            _host = parent._host;
            _hostOffset = checked(_parent._hostOffset + (int)offset); // the root's own start in its array, plus the rows before the view
        }
        else
        {
            _viewOfParent = _parent._device!.View.SubView(offset, (long)rows * Width);
        }
    }

    /// <summary>The context that owns the table.</summary>
    public ComputeContext Owner { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Row width.</summary>
    public int Width { get; }

    /// <summary>Number of floats (Rows × Width).</summary>
    public long Length => (long)Rows * Width;

    /// <summary>True when this table is a view of rows of another table (see <see cref="Slice"/>).</summary>
    public bool IsView => _parent is not null;

    /// <summary>
    /// A view of rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>) of this
    /// table: no copy, writes through either are seen by both. Disposing the view frees nothing; disposing the table
    /// it was taken from makes the view unusable too. Kernels reject an output that overlaps one of their inputs.
    /// </summary>
    public DeviceTable Slice(int rowStart, int rowCount)
    {
        lock (Owner.Gate)
        {
            ThrowIfDisposed();
            ArgumentOutOfRangeException.ThrowIfNegative(rowStart);
            ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
            if ((long)rowStart + rowCount > Rows)
            {
                throw new ArgumentOutOfRangeException(nameof(rowCount), rowCount,
                    $"Rows {rowStart}..{(long)rowStart + rowCount - 1} do not fit a table of {Rows} rows.");
            }
            return new DeviceTable(this, rowStart, rowCount);
        }
    }

    /// <summary>Copies <paramref name="source"/> (exactly <see cref="Length"/> floats, row-major) into the table.</summary>
    public void Upload(ReadOnlySpan<float> source)
    {
        lock (Owner.Gate)
        {
            ThrowIfDisposed();
            CheckLength(source.Length, nameof(source));
            if (_host is not null)
            {
                source.CopyTo(Host);
            }
            else
            {
                View.CopyFromCPU(Owner.Stream, source);
                Owner.Stream.Synchronize();
            }
        }
    }

    /// <summary>Waits for pending work and copies the table into <paramref name="destination"/> (exactly <see cref="Length"/> floats).</summary>
    public void Download(Span<float> destination)
    {
        lock (Owner.Gate)
        {
            ThrowIfDisposed();
            CheckLength(destination.Length, nameof(destination));
            if (_host is not null)
            {
                Host.CopyTo(destination);
            }
            else
            {
                Owner.Stream.Synchronize();
                View.CopyToCPU(Owner.Stream, destination);
                Owner.Stream.Synchronize();
            }
        }
    }

    /// <summary>Downloads the table into a new array.</summary>
    public float[] ToArray()
    {
        var result = new float[Length];
        Download(result);
        return result;
    }

    /// <summary>Frees the table's memory (a view frees nothing). Using it afterwards throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (Owner.Gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                if (_parent is null)
                {
                    _device?.Dispose();
                }
                _device = null;
            }
        }
    }

    internal bool IsDisposed => _disposed || (_parent?._disposed ?? false);

    // The table that owns the storage, and this table's offset into it (in floats).
    private DeviceTable Root => _parent ?? this;

    private long StorageOffset { get; }

    /// <summary>The table's floats on the CPU backend.</summary>
    internal Span<float> Host
    {
        get
        {
            ThrowIfDisposed();
            return _host.AsSpan(_hostOffset, checked((int)Length));
        }
    }

    /// <summary>The whole backing array of a CPU-backend table that is not a view (for host structures that wrap it).</summary>
    internal float[] HostArray
    {
        get
        {
            ThrowIfDisposed();
            return _parent is null && _host is not null && _hostOffset == 0 && _host.Length == Length
                ? _host
                : throw new InvalidOperationException("Only a CPU-backend table made over its own array has one.");
        }
    }

    internal ArrayView<float> View
    {
        get
        {
            ThrowIfDisposed();
            return _parent is null ? _device!.View : _viewOfParent;
        }
    }

    /// <summary>True when the two tables share at least one float of storage.</summary>
    internal bool Overlaps(DeviceTable other)
    {
        if (!ReferenceEquals(Root, other.Root) || Length == 0 || other.Length == 0)
        {
            return false;
        }
        return StorageOffset < other.StorageOffset + other.Length && other.StorageOffset < StorageOffset + Length;
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed || Owner.IsDisposed, this);

    private void CheckLength(long length, string name)
    {
        if (length != Length)
        {
            throw new ArgumentException($"Expected {Rows} × {Width} = {Length} floats, got {length}.", name);
        }
    }
}

/// <summary>Rows [<paramref name="RowStart"/>, RowStart + <paramref name="RowCount"/>) of a table, as a backend reads them (no object allocated per call).</summary>
internal readonly record struct TableRows(DeviceTable Table, int RowStart, int RowCount)
{
    /// <summary>All rows of <paramref name="table"/>.</summary>
    public static TableRows Of(DeviceTable table) => new(table, 0, table.Rows);

    public int Width => Table.Width;

    public long Length => (long)RowCount * Table.Width;

    /// <summary>The rows' floats on the CPU backend.</summary>
    public Span<float> Host => Table.Host.Slice(RowStart * Table.Width, checked((int)Length));

    /// <summary>The rows' floats on an ILGPU backend.</summary>
    public ILGPU.ArrayView<float> View => Table.View.SubView((long)RowStart * Table.Width, Length);
}
