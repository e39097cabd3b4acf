// The one entry point that binds kernels to a backend: the SIMD CPU paths or an ILGPU
// accelerator (CUDA, OpenCL, ILGPU's CPU simulator). Tables, graphs and filters are
// created by a context and stay on its device. Every call is validated here, once, before
// any launch, and then dispatched to the backend's implementation of its family
// (ComputeBackend: Cpu/<family>/Cpu*.cs or Gpu/<family>/Ilgpu*.cs), which trusts it.
using ILGPU.Runtime;
using Stair.Kernels.Cpu;
using Stair.Kernels.Gpu;
using Stair.Kernels.Gpu.Propagation;
using Stair.Kernels.Gpu.Ranking;

namespace Stair.Kernels;

/// <summary>
/// Kernels bound to one backend and device. Create tables (<see cref="CreateTable"/>,
/// <see cref="Upload(ReadOnlySpan{float}, int, int)"/>), graphs (<see cref="Upload(CsrMatrix)"/>) and filters
/// (<see cref="CreateFilter"/>) once, then call <see cref="Spmm"/> and <see cref="Fsc"/> in a loop: nothing is
/// copied between host and device inside those calls.
/// </summary>
/// <remarks>
/// A context may be shared by threads: every call on it (and on its tables, graphs, filters and
/// optimizer states) takes one lock, so calls run one at a time, in full, and give the bits serial
/// calls give; disposing waits for the call in flight, and later calls throw
/// <see cref="ObjectDisposedException"/>. For parallel work, give each thread its own context. Results are deterministic on every backend (no atomics, a
/// fixed order of accumulation); the ILGPU backends round each product and sum separately
/// where the CPU tiers fuse them, so they agree with the CPU to rounding, not bit for bit.
/// </remarks>
public sealed partial class ComputeContext : IDisposable
{
    private readonly ComputeBackend _backend;
    private readonly CpuOptions _cpuOptions;
    private bool _disposed;

    // Every public call on the context, its tables, graphs, filters and optimizer states takes this
    // lock: calls from several threads run one at a time, in full, with the same bits as serial calls,
    // and a disposal waits for the call in flight (later calls throw ObjectDisposedException).
    // ILGPU's streams, buffers and kernel caches are not safe to share between threads; without this,
    // 8 threads on one OpenCL context ended in a double free.
    private readonly object _gate = new();

    private ComputeContext(Backend backend, CpuOptions cpuOptions, Func<ComputeContext, ComputeBackend> bind)
    {
        Backend = backend;
        _cpuOptions = cpuOptions;
        _backend = bind(this);
        Device = _backend.Device;
    }

    /// <summary>The backend the context runs on (<see cref="Kernels.Backend.Auto"/> resolved).</summary>
    public Backend Backend { get; }

    /// <summary>The device, in words (for <see cref="Kernels.Backend.Auto"/> this is the choice it made).</summary>
    public string Device { get; }

    internal bool IsDisposed => _disposed;

    /// <summary>The lock that serializes every public call on this context and the objects it created.</summary>
    internal object Gate => _gate;

    /// <summary>The tier and threads of the CPU backend, and of host-side work on the others.</summary>
    internal CpuOptions CpuOptions => _cpuOptions;

    /// <summary>The backend's implementation of every family (what a validated call dispatches to).</summary>
    internal ComputeBackend Families => _backend;

    /// <summary>The ILGPU accelerator of an ILGPU backend (tests reach kernels and the stream through it).</summary>
    internal IlgpuDevice Ilgpu => _backend.Ilgpu ?? throw new InvalidOperationException("The CPU backend has no ILGPU device.");

    internal AcceleratorStream Stream => Ilgpu.Stream;

    /// <summary>
    /// Opens a context on <paramref name="backend"/>. <see cref="Kernels.Backend.Auto"/> takes CUDA if present,
    /// else an OpenCL GPU, else the SIMD CPU paths (an OpenCL CPU device such as PoCL is never faster
    /// than those).
    /// </summary>
    /// <param name="backend">Where to run.</param>
    /// <param name="cpuOptions">SIMD tier and threads for the CPU backend.</param>
    /// <exception cref="BackendUnavailableException">No usable device for the backend; the message says what is missing.</exception>
    public static ComputeContext Create(Backend backend = Backend.Auto, CpuOptions? cpuOptions = null)
    {
        cpuOptions ??= CpuOptions.Default;
        cpuOptions.Validate();
        if (!Enum.IsDefined(backend))
        {
            throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown backend.");
        }
        if (backend == Backend.Auto)
        {
            if (BackendDiscovery.ProbeCuda().Available)
            {
                return Create(Backend.Cuda, cpuOptions);
            }
            BackendReport cl = BackendDiscovery.ProbeOpenCL();
            if (cl.Available && cl.Devices.Any(d => d.Usable && d.Details.StartsWith("CL_DEVICE_TYPE_GPU", StringComparison.Ordinal)))
            {
                return Create(Backend.OpenCL, cpuOptions);
            }
            return Create(Backend.Cpu, cpuOptions);
        }
        if (backend == Backend.Cpu)
        {
            return new ComputeContext(backend, cpuOptions, owner => CpuBackend.Create(owner, cpuOptions));
        }
        IlgpuDevice device = IlgpuDevice.Open(backend);
        try
        {
            return new ComputeContext(backend, cpuOptions, owner => IlgpuBackend.Create(owner, device, cpuOptions));
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Allocates a rows × width table (contents unspecified until written).</summary>
    public DeviceTable CreateTable(int rows, int width)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ArgumentOutOfRangeException.ThrowIfNegative(rows);
            ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
            return _backend.CreateTable(rows, width);
        }
    }

    /// <summary>Allocates a rows × width table and copies <paramref name="data"/> into it.</summary>
    public DeviceTable Upload(ReadOnlySpan<float> data, int rows, int width)
    {
        lock (_gate)
        {
            DeviceTable table = CreateTable(rows, width);
            try
            {
                table.Upload(data);
                return table;
            }
            catch
            {
                table.Dispose();
                throw;
            }
        }
    }

    /// <summary>Prepares <paramref name="matrix"/> on the device (with its transpose unless it is symmetric).</summary>
    public DeviceGraph Upload(CsrMatrix matrix)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ArgumentNullException.ThrowIfNull(matrix);
            return _backend.Propagation.Upload(matrix, new PropagationPlan(matrix, _cpuOptions));
        }
    }

    /// <summary>Prepares a plan's (possibly rectangular, forward-only) matrix on the device, for <see cref="LayerUnchecked"/>.</summary>
    internal DeviceGraph UploadPlan(PropagationPlan plan)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return _backend.Propagation.Upload(plan.Matrix, plan);
        }
    }

    /// <summary>
    /// One product layer (<see cref="IPropagationBackend.Layer"/>) for a caller that runs the layers itself: the
    /// distributed driver, over a rank's rows. Its shapes are the caller's to get right; ownership and disposal
    /// are checked here.
    /// </summary>
    internal void LayerUnchecked(DeviceGraph graph, DeviceTable input, DeviceTable output, DeviceTable seed, StepwiseFilter? filter, Propagation.LayerMode mode)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            foreach ((DeviceTable t, string name) in new[] { (input, nameof(input)), (output, nameof(output)), (seed, nameof(seed)) })
            {
                t.ThrowIfDisposed();
                if (!ReferenceEquals(t.Owner, this))
                {
                    throw new ArgumentException($"The {name} table belongs to another context.", name);
                }
            }
            if (!ReferenceEquals(graph.Owner, this) || (filter is not null && !ReferenceEquals(filter.Owner, this)))
            {
                throw new ArgumentException("A graph or filter of another context was passed.", nameof(graph));
            }
            filter?.ThrowIfDisposed();
            if (graph.Rows > 0)
            {
                _backend.Propagation.Layer(graph, input, output, seed, filter, mode);
            }
        }
    }

    /// <summary>Prepares the strengths β (length d, each finite in [0, 1]) and layer count L of a stepwise convolution.</summary>
    public StepwiseFilter CreateFilter(ReadOnlySpan<float> beta, int layers)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ArgumentOutOfRangeException.ThrowIfNegative(layers);
            if (beta.IsEmpty)
            {
                throw new ArgumentException("β must have at least one entry.", nameof(beta));
            }
            for (int j = 0; j < beta.Length; j++)
            {
                if (!float.IsFinite(beta[j]) || beta[j] < 0f || beta[j] > 1f)
                {
                    throw new ArgumentException($"β[{j}] is {beta[j]}; each β_j must be finite and in [0, 1].", nameof(beta));
                }
            }
            float[] b = beta.ToArray();
            var scale = new float[b.Length];
            StepwiseWeights.FinalScale(b, layers, scale);
            return _backend.Propagation.CreateFilter(b, scale, layers);
        }
    }

    /// <summary>Y = A·X, or Aᵀ·X when <paramref name="transpose"/> (a precomputed transpose: no atomics).</summary>
    public void Spmm(DeviceGraph graph, DeviceTable input, DeviceTable output, bool transpose = false)
    {
        lock (_gate)
        {
            ValidateCall(graph, input, output);
            int inRows = transpose ? graph.Rows : graph.Columns, outRows = transpose ? graph.Columns : graph.Rows;
            ValidateShape(input, inRows, input.Width, nameof(input));
            ValidateShape(output, outRows, input.Width, nameof(output));
            _backend.Propagation.Spmm(graph, input, output, transpose);
        }
    }

    /// <summary>
    /// The dense product C = A·Bᵀ of whole tables: <paramref name="c"/>[i, j] = Σ_p a[i, p]·b[j, p]
    /// (a is m × k, b is n × k, c must be m × n). Overwrites c; asynchronous on the ILGPU backends
    /// (call <see cref="Synchronize"/> or download). On the CPU backend it runs the SIMD dense product
    /// with this context's <see cref="CpuOptions"/>; passing the same table as a and b there computes
    /// the upper triangle of A·Aᵀ and mirrors it (bitwise the same result, half the work).
    /// Each element is one multiply-add chain over p in storage order, so results repeat bit for bit.
    /// </summary>
    /// <param name="a">Left operand, m × k.</param>
    /// <param name="b">Right operand, n × k (may be <paramref name="a"/>).</param>
    /// <param name="c">Output, m × n; must not be a or b.</param>
    /// <exception cref="ArgumentException">A table belongs to another context, the widths differ, c has the wrong shape or is an input.</exception>
    /// <exception cref="ObjectDisposedException">The context or a table was disposed.</exception>
    public void MultiplyTransposed(DeviceTable a, DeviceTable b, DeviceTable c)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ValidateOwned(a, nameof(a));
            ValidateOwned(b, nameof(b));
            ValidateOwned(c, nameof(c));
            if (a.Width != b.Width)
            {
                throw new ArgumentException($"The widths must be equal: a is {a.Rows} × {a.Width}, b is {b.Rows} × {b.Width}.", nameof(b));
            }
            if (c.Overlaps(a) || c.Overlaps(b))
            {
                throw new ArgumentException("The output table c must not be, or overlap, an input table.", nameof(c));
            }
            ValidateShape(c, a.Rows, b.Rows, nameof(c));
            _backend.Dense.MultiplyTransposed(a, b, c, ReferenceEquals(a, b));
        }
    }

    /// <summary>
    /// Forward stepwise convolution of <paramref name="input"/> over the square graph with the filter's β and L
    /// (see <see cref="Propagation.Fsc"/>).
    /// </summary>
    public void Fsc(DeviceGraph graph, DeviceTable input, DeviceTable output, StepwiseFilter filter)
        => FscCore(graph, input, output, filter, transpose: false, nameof(input), nameof(output));

    /// <summary>
    /// The gradient of <see cref="Fsc"/>: the same filter over Aᵀ, mapping ∂L/∂output to ∂L/∂input
    /// (see <see cref="Propagation.FscBackward"/>).
    /// </summary>
    public void FscBackward(DeviceGraph graph, DeviceTable outputGradient, DeviceTable inputGradient, StepwiseFilter filter)
        => FscCore(graph, outputGradient, inputGradient, filter, transpose: true, nameof(outputGradient), nameof(inputGradient));

    private void FscCore(DeviceGraph graph, DeviceTable input, DeviceTable output, StepwiseFilter filter, bool transpose,
        string inputName, string outputName)
    {
        lock (_gate)
        {
            ValidateCall(graph, input, output, inputName, outputName);
            ValidateFilter(filter);
            if (graph.Rows != graph.Columns)
            {
                throw new ArgumentException($"Stepwise convolution needs a square matrix, got {graph.Rows} × {graph.Columns}.", nameof(graph));
            }
            ValidateShape(input, graph.Rows, filter.Width, inputName);
            ValidateShape(output, graph.Rows, filter.Width, outputName);
            _backend.Propagation.Fsc(graph, input, output, filter, transpose);
        }
    }

    /// <summary>Waits until every launched kernel has finished.</summary>
    public void Synchronize()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _backend.Synchronize();
        }
    }

    /// <summary>Frees the device, its kernels and scratch memory. Tables, graphs and filters of the context become unusable.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _backend.Dispose();
        }
    }

    // Test hooks of the ILGPU propagation driver and ranking (the CPU backend has neither knob).
    private IlgpuPropagation IlgpuPropagation => _backend.Propagation as IlgpuPropagation
        ?? throw new InvalidOperationException("Only the ILGPU backends have a device work layout.");

    /// <summary>Reloads the propagation kernels with a forced work layout, so the simulator can check the GPU layout.</summary>
    internal void ForceKernelLayout(bool gpuLayout) => IlgpuPropagation.ForceKernelLayout(gpuLayout);

    /// <summary>Rows with more entries than this are summed in chunks (graphs uploaded afterwards); see <see cref="IlgpuPropagation.HubRowThreshold"/>.</summary>
    internal int HubRowThreshold
    {
        get => IlgpuPropagation.HubRowThreshold;
        set => IlgpuPropagation.HubRowThreshold = value;
    }

    /// <summary>Entries per chunk of a hub row (graphs uploaded afterwards).</summary>
    internal int HubChunkLength
    {
        get => IlgpuPropagation.HubChunkLength;
        set => IlgpuPropagation.HubChunkLength = value;
    }

    /// <summary>Most scores per device block of a ranking (see <see cref="IlgpuRanking.BlockScores"/>); the CPU backend ranks in place and ignores it.</summary>
    internal long RankingBlockScores
    {
        set
        {
            if (_backend.Ranking is IlgpuRanking ranking)
            {
                ranking.BlockScores = value;
            }
        }
    }

    private void ValidateCall(DeviceGraph graph, DeviceTable input, DeviceTable output, string inputName = "input", string outputName = "output")
    {
        ThrowIfDisposed();
        ValidateGraph(graph);
        ValidateOwned(input, inputName, $"The {inputName} table");
        ValidateOwned(output, outputName, $"The {outputName} table");
        if (input.Overlaps(output))
        {
            throw new ArgumentException($"The {outputName} table must not be, or overlap, the {inputName} table.", outputName);
        }
    }

    private void ValidateGraph(DeviceGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        graph.ThrowIfDisposed();
        if (!ReferenceEquals(graph.Owner, this))
        {
            throw new ArgumentException("The graph belongs to another context.", nameof(graph));
        }
    }

    private void ValidateFilter(StepwiseFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        filter.ThrowIfDisposed();
        if (!ReferenceEquals(filter.Owner, this))
        {
            throw new ArgumentException("The filter belongs to another context.", nameof(filter));
        }
    }

    private void ValidateOwned(DeviceTable table, string name, string? what = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(table, name);
        table.ThrowIfDisposed();
        if (!ReferenceEquals(table.Owner, this))
        {
            throw new ArgumentException($"{what ?? "The table"} belongs to another context.", name);
        }
    }

    private static void ValidateShape(DeviceTable table, int rows, int width, string name)
    {
        if (table.Rows != rows || table.Width != width)
        {
            throw new ArgumentException($"Expected a {rows} × {width} table, got {table.Rows} × {table.Width}.", name);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
