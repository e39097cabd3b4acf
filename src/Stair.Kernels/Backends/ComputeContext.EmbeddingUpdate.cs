// The EmbeddingUpdate family on a ComputeContext: AdamW/Adam steps on device-resident tables,
// optionally BSC-smoothed by the backend's own stepwise convolution (a filter built from b) and
// clipped. Checked here, once; run by the backend (IEmbeddingUpdateBackend): the SIMD host
// kernels on the CPU backend, Gpu/EmbeddingUpdate's kernels on the ILGPU backends, which read
// back three ints at the end of the step (non-finite count, first bad row, clipped rows).
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu.EmbeddingUpdate;

namespace Stair.Kernels;

public sealed partial class ComputeContext
{
    /// <summary>Zero Adam moments (m, v) and t = 0 for a rows × width table on this context's device.</summary>
    public DeviceAdamState CreateAdamState(int rows, int width)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ArgumentOutOfRangeException.ThrowIfNegative(rows);
            ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
            return _backend.EmbeddingUpdate.CreateAdamState(rows, width);
        }
    }

    /// <summary>
    /// One AdamW (or Adam) step on a device table, without smoothing (see <see cref="EmbeddingUpdate.AdamWStep"/> for the math and
    /// the non-finite policy). Waits for the step to finish (it reads back the status).
    /// </summary>
    public UpdateResult AdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions options)
    {
        lock (_gate)
        {
            ValidateUpdate(table, gradient, state, options);
            return _backend.EmbeddingUpdate.AdamWStep(table, gradient, state, options);
        }
    }

    /// <summary>
    /// One BSC-smoothed AdamW (or Adam) step on a device table: moments and Δ, Δ̃ = <see cref="Fsc"/> of Δ over
    /// <paramref name="graph"/> (S̃) with <paramref name="filter"/> (strengths b, e.g. from
    /// <see cref="StepwiseWeights.Backward"/>, and L), clip, apply. Everything stays on the device; the step
    /// ends by reading back three status ints (see <see cref="EmbeddingUpdate.BscAdamWStep"/> for the math).
    /// </summary>
    public UpdateResult BscAdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, DeviceGraph graph, StepwiseFilter filter,
        AdamWOptions options)
    {
        lock (_gate)
        {
            ValidateUpdate(table, gradient, state, options);
            ValidateGraph(graph);
            ValidateFilter(filter);
            if (graph.Rows != graph.Columns || graph.Rows != state.Rows)
            {
                throw new ArgumentException($"The graph must be square with one row per table row ({state.Rows}), got {graph.Rows} × {graph.Columns}.", nameof(graph));
            }
            if (filter.Width != state.Width)
            {
                throw new ArgumentException($"The filter has {filter.Width} strengths; the table is {state.Width} wide.", nameof(filter));
            }
            return _backend.EmbeddingUpdate.BscAdamWStep(table, gradient, state, graph, filter, options);
        }
    }

    private void ValidateUpdate(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions options)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        table.ThrowIfDisposed();
        gradient.ThrowIfDisposed();
        state.ThrowIfDisposed();
        options.Validate(nameof(options));
        if (!ReferenceEquals(table.Owner, this))
        {
            throw new ArgumentException("The table belongs to another context.", nameof(table));
        }
        if (!ReferenceEquals(gradient.Owner, this))
        {
            throw new ArgumentException("The gradient belongs to another context.", nameof(gradient));
        }
        if (!ReferenceEquals(state.Owner, this))
        {
            throw new ArgumentException("The state belongs to another context.", nameof(state));
        }
        ValidateShape(table, state.Rows, state.Width, nameof(table));
        ValidateShape(gradient, state.Rows, state.Width, nameof(gradient));
        if (table.Overlaps(gradient))
        {
            throw new ArgumentException("The gradient must not be the table.", nameof(gradient));
        }
        if (table.Overlaps(state.M) || table.Overlaps(state.V))
        {
            throw new ArgumentException("The table must not be one of the optimizer's moments.", nameof(table));
        }
        if (gradient.Overlaps(state.M) || gradient.Overlaps(state.V))
        {
            throw new ArgumentException("The gradient must not be one of the optimizer's moments.", nameof(gradient));
        }
    }
}

/// <summary>
/// Adam/AdamW state of one table on a <see cref="ComputeContext"/>'s device: moments m and v (as device tables,
/// downloadable for checkpoints), the step count t, and the scratch a step needs (allocated on first use, then reused).
/// </summary>
public sealed class DeviceAdamState : IDisposable
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? _status;
    private readonly DeviceTable?[] _scratch = new DeviceTable?[2];
    private AdamState? _host;
    private BscWorkspace? _workspace;
    private bool _disposed;

    internal DeviceAdamState(ComputeContext owner, DeviceTable m, DeviceTable v, MemoryBuffer1D<int, Stride1D.Dense>? status)
    {
        Owner = owner;
        M = m;
        V = v;
        _status = status;
    }

    /// <summary>The context that owns the state.</summary>
    public ComputeContext Owner { get; }

    /// <summary>First moment m.</summary>
    public DeviceTable M { get; }

    /// <summary>Second moment v.</summary>
    public DeviceTable V { get; }

    /// <summary>Rows of the table served.</summary>
    public int Rows => M.Rows;

    /// <summary>Width of the table served.</summary>
    public int Width => M.Width;

    /// <summary>Steps taken so far (t); a skipped step does not count.</summary>
    public long Step
    {
        get => _host?.Step ?? _step;
        internal set
        {
            _step = value;
            if (_host is not null)
            {
                _host.Step = value;
            }
        }
    }

    private long _step;

    /// <summary>Restores the step count (with moments uploaded from a checkpoint).</summary>
    public void SetStep(long step)
    {
        lock (Owner.Gate)
        {
            ThrowIfDisposed();
            ArgumentOutOfRangeException.ThrowIfNegative(step);
            Step = step;
        }
    }

    internal int[] HostStatus { get; } = new int[3];

    internal ArrayView<int> Status => _status!.View;

    internal AdamState Host => _host ??= new AdamState(Rows, Width, M.HostArray, V.HostArray) { Step = _step };

    internal BscWorkspace CpuWorkspace => _workspace ??= new BscWorkspace(Rows, Width);

    internal DeviceTable Scratch(int which) => _scratch[which] ??= Owner.CreateTable(Rows, Width);

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed || Owner.IsDisposed || M.IsDisposed || V.IsDisposed, this);

    /// <summary>Frees the moments and scratch.</summary>
    public void Dispose()
    {
        lock (Owner.Gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                M.Dispose();
                V.Dispose();
                _scratch[0]?.Dispose();
                _scratch[1]?.Dispose();
                _status?.Dispose();
            }
        }
    }
}
