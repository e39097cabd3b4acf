// Adam/AdamW state of one embedding table on a ComputeContext's device: the moments m and v
// (device memory, or a host AdamState on the CPU backend), the step count, and the scratch a
// step needs (Δ and the smoothed Δ̃ for BSC, a two-counter status word), allocated once.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels;

/// <summary>
/// Optimizer state for one rows × width table on a <see cref="ComputeContext"/>, created by
/// <see cref="ComputeContext.CreateAdamState"/> and advanced by <see cref="ComputeContext.AdamWStep"/> and
/// <see cref="ComputeContext.BscAdamWStep"/>. Starts at zero moments and t = 0.
/// </summary>
public sealed class DeviceAdamState : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private bool _disposed;

    internal DeviceAdamState(ComputeContext owner, int rows, int width, AdamState? host,
        DeviceTable? m, DeviceTable? v, DeviceTable? delta, DeviceTable? smoothed, MemoryBuffer1D<int, Stride1D.Dense>? status)
    {
        Owner = owner;
        Rows = rows;
        Width = width;
        HostState = host;
        M = m;
        V = v;
        Delta = delta;
        Smoothed = smoothed;
        Status = status;
        foreach (IDisposable? d in new IDisposable?[] { m, v, delta, smoothed, status })
        {
            if (d is not null)
            {
                _owned.Add(d);
            }
        }
    }

    /// <summary>The context that owns the state.</summary>
    public ComputeContext Owner { get; }

    /// <summary>Rows of the table the state serves.</summary>
    public int Rows { get; }

    /// <summary>Width d of the table the state serves.</summary>
    public int Width { get; }

    /// <summary>Steps taken so far (t); a skipped step does not count.</summary>
    public long Step => HostState?.Step ?? DeviceStep;

    /// <summary>Copies the first and second moments to the host (for checkpoints).</summary>
    public (float[] M, float[] V) DownloadMoments()
    {
        ThrowIfDisposed();
        return HostState is not null ? ((float[])HostState.M.Clone(), (float[])HostState.V.Clone()) : (M!.ToArray(), V!.ToArray());
    }

    /// <summary>Frees the state's memory.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            foreach (IDisposable d in _owned)
            {
                d.Dispose();
            }
        }
    }

    internal long DeviceStep { get; set; }

    internal AdamState? HostState { get; }

    internal BscWorkspace? HostWorkspace { get; set; }

    internal DeviceTable? M { get; }

    internal DeviceTable? V { get; }

    internal DeviceTable? Delta { get; }

    internal DeviceTable? Smoothed { get; }

    internal MemoryBuffer1D<int, Stride1D.Dense>? Status { get; }

    internal int[] StatusHost { get; } = new int[2];

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed || Owner.IsDisposed, this);
}
