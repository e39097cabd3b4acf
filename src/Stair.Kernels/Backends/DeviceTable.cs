// A dense row-major float table owned by a ComputeContext: device memory on an ILGPU
// backend, a host array on the CPU backend. Explicit upload and download; nothing copies
// behind the caller's back.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels;

/// <summary>A rows × width float table resident on a <see cref="ComputeContext"/>'s device.</summary>
public sealed class DeviceTable : IDisposable
{
    private readonly float[]? _host;
    private MemoryBuffer1D<float, Stride1D.Dense>? _device;
    private bool _disposed;

    internal DeviceTable(ComputeContext owner, int rows, int width, float[]? host, MemoryBuffer1D<float, Stride1D.Dense>? device)
    {
        Owner = owner;
        Rows = rows;
        Width = width;
        _host = host;
        _device = device;
    }

    /// <summary>The context that owns the table.</summary>
    public ComputeContext Owner { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Row width.</summary>
    public int Width { get; }

    /// <summary>Number of floats (Rows × Width).</summary>
    public long Length => (long)Rows * Width;

    /// <summary>Copies <paramref name="source"/> (exactly <see cref="Length"/> floats, row-major) into the table.</summary>
    public void Upload(ReadOnlySpan<float> source)
    {
        ThrowIfDisposed();
        CheckLength(source.Length, nameof(source));
        if (_host is not null)
        {
            source.CopyTo(_host);
        }
        else
        {
            _device!.View.CopyFromCPU(Owner.Stream, source);
            Owner.Stream.Synchronize();
        }
    }

    /// <summary>Waits for pending work and copies the table into <paramref name="destination"/> (exactly <see cref="Length"/> floats).</summary>
    public void Download(Span<float> destination)
    {
        ThrowIfDisposed();
        CheckLength(destination.Length, nameof(destination));
        if (_host is not null)
        {
            _host.CopyTo(destination);
        }
        else
        {
            Owner.Stream.Synchronize();
            _device!.View.CopyToCPU(Owner.Stream, destination);
            Owner.Stream.Synchronize();
        }
    }

    /// <summary>Downloads the table into a new array.</summary>
    public float[] ToArray()
    {
        var result = new float[Length];
        Download(result);
        return result;
    }

    /// <summary>Frees the table's memory. Using it afterwards throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _device?.Dispose();
            _device = null;
        }
    }

    internal bool IsDisposed => _disposed;

    internal float[] Host
    {
        get
        {
            ThrowIfDisposed();
            return _host!;
        }
    }

    internal ArrayView<float> View
    {
        get
        {
            ThrowIfDisposed();
            return _device!.View;
        }
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed || Owner.IsDisposed, this);

    private void CheckLength(int length, string name)
    {
        if (length != Length)
        {
            throw new ArgumentException($"Expected {Rows} × {Width} = {Length} floats, got {length}.", name);
        }
    }
}
