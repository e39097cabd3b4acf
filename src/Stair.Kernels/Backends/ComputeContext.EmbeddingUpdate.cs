// ComputeContext's EmbeddingUpdate entry points (STAIR-KERNELS.md §5): AdamW/Adam and the
// BSC-smoothed step on device-resident tables, validated here once. On the CPU backend they
// call EmbeddingUpdate's SIMD drivers; on ILGPU backends the scan, moments, smoothing (the
// propagation kernel, reused), clip and apply all run on the device, and only the two status
// counters (non-finite gradients, clipped rows) come back at the end of the step.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu.EmbeddingUpdate;
using Stair.Kernels.Gpu.EmbeddingUpdate;

namespace Stair.Kernels;

public sealed partial class ComputeContext
{
    private EmbeddingUpdateKernels? _updateKernels;

    /// <summary>Zero Adam moments (t = 0) for a <paramref name="rows"/> × <paramref name="width"/> table on this device.</summary>
    public DeviceAdamState CreateAdamState(int rows, int width)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (Backend == Backend.Cpu)
        {
            return new DeviceAdamState(this, rows, width, new AdamState(rows, width), null, null, null, null, null);
        }
        var created = new List<IDisposable>();
        try
        {
            float[] zeros = new float[(long)rows * width];
            DeviceTable m = Upload(zeros, rows, width);
            created.Add(m);
            DeviceTable v = Upload(zeros, rows, width);
            created.Add(v);
            DeviceTable delta = CreateTable(rows, width);
            created.Add(delta);
            DeviceTable smoothed = CreateTable(rows, width);
            created.Add(smoothed);
            MemoryBuffer1D<int, Stride1D.Dense> status = AllocateInts(2, "the update status");
            return new DeviceAdamState(this, rows, width, null, m, v, delta, smoothed, status);
        }
        catch
        {
            foreach (IDisposable d in created)
            {
                d.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// One AdamW (or, with <see cref="AdamWOptions.Decoupled"/> false, Adam) step on <paramref name="table"/> in place;
    /// see <see cref="EmbeddingUpdate.Step"/> for the math and the non-finite policy.
    /// </summary>
    /// <param name="table">E (state.Rows × state.Width), e.g. a <see cref="DeviceTable.Slice"/> of a model's table.</param>
    /// <param name="gradient">∂L/∂E, same shape, not overlapping the table.</param>
    /// <param name="state">The table's optimizer state.</param>
    /// <param name="options">Hyperparameters, clip and non-finite policy.</param>
    /// <returns>The new step count, the rows the clip changed, and whether the step was skipped.</returns>
    public UpdateResult AdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions options)
    {
        ValidateUpdate(table, gradient, state, options);
        if (Backend == Backend.Cpu)
        {
            return EmbeddingUpdate.Step(table.Host, gradient.Host, state.HostState!, options, _cpuOptions);
        }
        return RunDeviceStep(table, gradient, state, options, null, null);
    }

    /// <summary>
    /// One BSC-smoothed AdamW (or Adam) step: the update Δ is smoothed by the stepwise filter over <paramref name="graph"/>
    /// (S̃) with the strengths b and layers of <paramref name="filter"/> — the propagation kernel, with β = b — then
    /// clipped and applied; see <see cref="EmbeddingUpdate.BscStep"/>.
    /// </summary>
    /// <param name="table">E of the items (state.Rows × state.Width).</param>
    /// <param name="gradient">∂L/∂E, same shape, not overlapping the table.</param>
    /// <param name="state">The table's optimizer state.</param>
    /// <param name="graph">S̃: square, one row per table row.</param>
    /// <param name="filter">b (e.g. <see cref="StepwiseWeights.Backward"/>) and L, width d.</param>
    /// <param name="options">Hyperparameters, clip and non-finite policy.</param>
    public UpdateResult BscAdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, DeviceGraph graph, StepwiseFilter filter,
        AdamWOptions options)
    {
        ValidateUpdate(table, gradient, state, options);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(filter);
        graph.ThrowIfDisposed();
        filter.ThrowIfDisposed();
        if (!ReferenceEquals(graph.Owner, this))
        {
            throw new ArgumentException("The graph belongs to another context.", nameof(graph));
        }
        if (!ReferenceEquals(filter.Owner, this))
        {
            throw new ArgumentException("The filter belongs to another context.", nameof(filter));
        }
        if (graph.Rows != graph.Columns || graph.Rows != state.Rows)
        {
            throw new ArgumentException($"The graph must be square with one row per table row ({state.Rows}), got {graph.Rows} × {graph.Columns}.", nameof(graph));
        }
        if (filter.Width != state.Width)
        {
            throw new ArgumentException($"The filter has {filter.Width} strengths but the table is {state.Width} wide.", nameof(filter));
        }
        if (Backend == Backend.Cpu)
        {
            state.HostWorkspace ??= new BscWorkspace(state.Rows, state.Width);
            return EmbeddingUpdate.BscStep(table.Host, gradient.Host, state.HostState!, graph.Plan!, filter.Beta, filter.Layers,
                state.HostWorkspace, options);
        }
        return RunDeviceStep(table, gradient, state, options, graph, filter);
    }

    private UpdateResult RunDeviceStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions options,
        DeviceGraph? graph, StepwiseFilter? filter)
    {
        _updateKernels ??= Compile(acc => new EmbeddingUpdateKernels(acc));
        ArrayView<int> status = state.Status!.View;
        status.MemSetToZero(Stream);
        _updateKernels.Scan(Stream, gradient.View, status);
        long step = state.DeviceStep + 1;
        var scalars = new AdamScalars(options, step, state.Width);
        bool l2 = !options.Decoupled && options.WeightDecay != 0f;
        int rows = state.Rows, width = state.Width;
        if (graph is null)
        {
            _updateKernels.Moments(Stream, rows, width, table.View, gradient.View, state.M!.View, state.V!.View, state.Delta!.View, status,
                scalars, l2, options.Clip.Mode, UpdateKernelMode.Fused);
        }
        else
        {
            _updateKernels.Moments(Stream, rows, width, table.View, gradient.View, state.M!.View, state.V!.View, state.Delta!.View, status,
                scalars, l2, options.Clip.Mode, UpdateKernelMode.MomentsOnly);
            // A skipped step leaves Δ stale; the smoothing then works on it, but the apply kernel reads the status and writes nothing.
            Fsc(graph, state.Delta, state.Smoothed!, filter!);
            _updateKernels.Apply(Stream, rows, width, table.View, state.Smoothed!.View, status, scalars, options.Clip.Mode);
        }
        status.CopyToCPU(Stream, state.StatusHost);
        Stream.Synchronize();
        int nonFinite = state.StatusHost[0], clipped = state.StatusHost[1];
        if (nonFinite != 0)
        {
            if (options.NonFinite == NonFinitePolicy.Throw)
            {
                throw new ArgumentException($"The gradient holds {nonFinite} non-finite value(s). Nothing was written.", nameof(gradient));
            }
            return new UpdateResult(state.DeviceStep, 0, nonFinite);
        }
        state.DeviceStep = step;
        return new UpdateResult(step, clipped, 0);
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
            throw new ArgumentException("The optimizer state belongs to another context.", nameof(state));
        }
        ValidateShape(table, state.Rows, state.Width, nameof(table));
        ValidateShape(gradient, state.Rows, state.Width, nameof(gradient));
        if (table.Overlaps(gradient))
        {
            throw new ArgumentException("The gradient must not overlap the table.", nameof(gradient));
        }
    }
}
