// The one entry point that binds kernels to a backend: the SIMD CPU paths or an ILGPU
// accelerator (CUDA, OpenCL, ILGPU's CPU simulator). Tables, graphs and filters are
// created by a context and stay on its device; calls validate everything here, before any
// launch, exactly as the CPU entry points do.
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Stair.Kernels.Cpu.Dense;
using Stair.Kernels.Gpu.Dense;
using Stair.Kernels.Gpu.Propagation;

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
    private readonly Context? _ilgpu;
    private readonly Accelerator? _accelerator;
    private PropagationKernels? _kernels;
    private DenseKernels? _dense;
    private readonly CpuOptions _cpuOptions;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratchA;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratchB;
    private MemoryBuffer1D<float, Stride1D.Dense>? _hubPartials;
    private PropagationWorkspace? _cpuWorkspace;
    private bool _disposed;

    // Every public call on the context, its tables, graphs, filters and optimizer states takes this
    // lock: calls from several threads run one at a time, in full, with the same bits as serial calls,
    // and a disposal waits for the call in flight (later calls throw ObjectDisposedException).
    // ILGPU's streams, buffers and kernel caches are not safe to share between threads; without this,
    // 8 threads on one OpenCL context ended in a double free.
    private readonly object _gate = new();

    private ComputeContext(Backend backend, string device, CpuOptions cpuOptions, Context? ilgpu, Accelerator? accelerator, PropagationKernels? kernels)
    {
        Backend = backend;
        Device = device;
        _cpuOptions = cpuOptions;
        _ilgpu = ilgpu;
        _accelerator = accelerator;
        _kernels = kernels;
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

    internal AcceleratorStream Stream => _accelerator!.DefaultStream;

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
            string tier = SimdTiers.Resolve(cpuOptions.Tier).ToString().ToLowerInvariant();
            return new ComputeContext(Backend.Cpu, $"CPU SIMD ({tier}, {cpuOptions.EffectiveThreads} threads)", cpuOptions, null, null, null);
        }

        Context context = backend switch
        {
            Backend.Cuda => Context.Create(b => b.Cuda()),
            Backend.OpenCL => Context.Create(b => b.OpenCL()),
            _ => Context.Create(b => b.DefaultCPU()),
        };
        Accelerator? accelerator = null;
        try
        {
            Device? device = backend switch
            {
                Backend.Cuda => context.Devices.OfType<CudaDevice>().FirstOrDefault(),
                Backend.OpenCL => context.Devices.OfType<CLDevice>().OrderBy(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU ? 0 : 1).FirstOrDefault(),
                _ => context.Devices.OfType<CPUDevice>().FirstOrDefault(),
            };
            if (device is null)
            {
                string reason = backend switch
                {
                    Backend.Cuda => BackendDiscovery.ProbeCuda().Reason,
                    Backend.OpenCL => BackendDiscovery.ProbeOpenCL().Reason,
                    _ => null,
                } ?? "no device found";
                throw new BackendUnavailableException(backend, reason);
            }
            accelerator = device.CreateAccelerator(context);
            PropagationKernels kernels = LoadKernels(context, accelerator);
            return new ComputeContext(backend, Describe(device), cpuOptions, context, accelerator, kernels);
        }
        catch
        {
            accelerator?.Dispose();
            context.Dispose();
            throw;
        }
    }

    // One failed kernel compile poisons the ILGPU context's cache: clear it before reporting,
    // so later compiles in the same process start clean.
    private static PropagationKernels LoadKernels(Context context, Accelerator accelerator)
        => Compile(context, accelerator, acc => new PropagationKernels(acc));

    internal static T Compile<T>(Context context, Accelerator accelerator, Func<Accelerator, T> load)
    {
        try
        {
            return load(accelerator);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            context.ClearCache(ClearCacheMode.Everything);
            throw new NotSupportedException($"A kernel failed to compile for {accelerator.Name}: {ex.Message}", ex);
        }
    }

    /// <summary>Reloads the propagation kernels with a forced work layout, so the simulator can check the GPU layout.</summary>
    internal void ForceKernelLayout(bool gpuLayout) => _kernels = Compile(acc => new PropagationKernels(acc, gpuLayout));

    /// <summary>Compiles kernels on this context's accelerator with the same failure recovery as the library's own.</summary>
    internal T Compile<T>(Func<Accelerator, T> load)
    {
        ThrowIfDisposed();
        return Compile(_ilgpu!, _accelerator!, load);
    }

    /// <summary>The dense-product kernels of this context's accelerator, compiled on first use (not on the CPU backend).</summary>
    internal DenseKernels Dense
    {
        get
        {
            ThrowIfDisposed();
            if (_accelerator is null)
            {
                throw new InvalidOperationException("The CPU backend has no ILGPU kernels; it runs Cpu.Dense.DenseProduct.");
            }
            return _dense ??= Compile(acc => new DenseKernels(acc));
        }
    }

    private static string Describe(Device device) => device switch
    {
        CudaDevice cuda => $"{cuda.Name} (CUDA, compute capability {cuda.Architecture})",
        CLDevice cl => $"{cl.Name} ({cl.PlatformName}, {cl.DeviceVersion})",
        _ => $"{device.Name} (ILGPU CPU simulator)",
    };

    /// <summary>Allocates a rows × width table (contents unspecified until written).</summary>
    public DeviceTable CreateTable(int rows, int width)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ArgumentOutOfRangeException.ThrowIfNegative(rows);
            ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
            long length = (long)rows * width;
            if (Backend == Backend.Cpu)
            {
                if (length > Array.MaxLength)
                {
                    throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A {rows} × {width} table exceeds the largest array .NET can hold.");
                }
                return new DeviceTable(this, rows, width, new float[length], null);
            }
            return new DeviceTable(this, rows, width, null, AllocateFloats(length, $"a {rows} × {width} table"));
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
            var plan = new PropagationPlan(matrix, _cpuOptions);
            if (Backend == Backend.Cpu)
            {
                return new DeviceGraph(this, matrix, plan, null, null, plan.IsSymmetric, []);
            }
            var buffers = new List<IDisposable>();
            try
            {
                DeviceCsr forward = UploadCsr(matrix, buffers);
                DeviceCsr transposed = plan.IsSymmetric ? forward : UploadCsr(plan.Transposed, buffers);
                return new DeviceGraph(this, matrix, null, forward, transposed, plan.IsSymmetric, buffers);
            }
            catch
            {
                foreach (IDisposable buffer in buffers)
                {
                    buffer.Dispose();
                }
                throw;
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
            for (int j = 0; j < b.Length; j++)
            {
                scale[j] = (float)StepwiseWeights.LayerWeight(b[j], 0, layers);
            }
            if (Backend == Backend.Cpu)
            {
                return new StepwiseFilter(this, b, scale, layers, null, null);
            }
            MemoryBuffer1D<float, Stride1D.Dense> deviceBeta = AllocateFloats(b.Length, "β");
            MemoryBuffer1D<float, Stride1D.Dense>? deviceScale = null;
            try
            {
                deviceScale = AllocateFloats(b.Length, "the layer scale");
                deviceBeta.View.CopyFromCPU(Stream, b);
                deviceScale.View.CopyFromCPU(Stream, scale);
                Stream.Synchronize();
                return new StepwiseFilter(this, b, scale, layers, deviceBeta, deviceScale);
            }
            catch
            {
                deviceBeta.Dispose();
                deviceScale?.Dispose();
                throw;
            }
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
            if (Backend == Backend.Cpu)
            {
                Propagation.Spmm(graph.Plan!, input.Host, output.Host, input.Width, transpose);
                return;
            }
            DeviceCsr a = transpose ? graph.TransposedCsr! : graph.Forward!;
            _kernels!.Layer(Stream, a, input.View, output.View, input.View, input.View, input.View, HubPartials(a, input.Width),
                input.Width, RowEpilogueKind.Store);
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
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            ArgumentNullException.ThrowIfNull(c);
            a.ThrowIfDisposed();
            b.ThrowIfDisposed();
            c.ThrowIfDisposed();
            if (!ReferenceEquals(a.Owner, this))
            {
                throw new ArgumentException("Table a belongs to another context.", nameof(a));
            }
            if (!ReferenceEquals(b.Owner, this))
            {
                throw new ArgumentException("Table b belongs to another context.", nameof(b));
            }
            if (!ReferenceEquals(c.Owner, this))
            {
                throw new ArgumentException("Table c belongs to another context.", nameof(c));
            }
            if (a.Width != b.Width)
            {
                throw new ArgumentException($"The widths must be equal: a is {a.Rows} × {a.Width}, b is {b.Rows} × {b.Width}.", nameof(b));
            }
            if (c.Overlaps(a) || c.Overlaps(b))
            {
                throw new ArgumentException("The output table c must not be, or overlap, an input table.", nameof(c));
            }
            ValidateShape(c, a.Rows, b.Rows, nameof(c));
            int m = a.Rows, n = b.Rows, k = a.Width;
            if (Backend == Backend.Cpu)
            {
                MultiplyTransposedOnCpu(a.Host, b.Host, c.Host, m, n, k, ReferenceEquals(a, b));
                return;
            }
            Dense.MultiplyTransposed(Stream, a.View, k, b.View, k, c.View, n, m, n, k);
        }
    }

    private unsafe void MultiplyTransposedOnCpu(Span<float> a, Span<float> b, Span<float> c, int m, int n, int k, bool self)
    {
        SimdTier tier = SimdTiers.Resolve(_cpuOptions.Tier);
        int threads = _cpuOptions.EffectiveThreads;
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (self)
            {
                DenseProduct.MultiplySelfTransposed(tier, threads, pa, Math.Max(1, k), pc, Math.Max(1, n), m, k);
            }
            else
            {
                DenseProduct.MultiplyTransposed(tier, threads, pa, Math.Max(1, k), pb, Math.Max(1, k), pc, Math.Max(1, n), m, n, k);
            }
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
            ArgumentNullException.ThrowIfNull(filter);
            filter.ThrowIfDisposed();
            if (!ReferenceEquals(filter.Owner, this))
            {
                throw new ArgumentException("The filter belongs to another context.", nameof(filter));
            }
            if (graph.Rows != graph.Columns)
            {
                throw new ArgumentException($"Stepwise convolution needs a square matrix, got {graph.Rows} × {graph.Columns}.", nameof(graph));
            }
            ValidateShape(input, graph.Rows, filter.Width, inputName);
            ValidateShape(output, graph.Rows, filter.Width, outputName);
            int n = graph.Rows, width = filter.Width, layers = filter.Layers;
            if (Backend == Backend.Cpu)
            {
                if (_cpuWorkspace is null || _cpuWorkspace.Rows < n || _cpuWorkspace.Width != width)
                {
                    _cpuWorkspace = new PropagationWorkspace(n, width);
                }
                if (transpose)
                {
                    Propagation.FscBackward(graph.Plan!, input.Host, output.Host, width, layers, filter.Beta, _cpuWorkspace);
                }
                else
                {
                    Propagation.Fsc(graph.Plan!, input.Host, output.Host, width, layers, filter.Beta, _cpuWorkspace);
                }
                return;
            }
            if (layers == 0 || n == 0)
            {
                input.View.CopyTo(Stream, output.View);
                return;
            }
            long length = (long)n * width;
            if (layers >= 2 && (_scratchA is null || _scratchA.Length < length))
            {
                _scratchA?.Dispose();
                _scratchA = null;
                _scratchA = AllocateFloats(length, "FSC scratch");
            }
            if (layers >= 3 && (_scratchB is null || _scratchB.Length < length))
            {
                _scratchB?.Dispose();
                _scratchB = null;
                _scratchB = AllocateFloats(length, "FSC scratch");
            }
            DeviceCsr a = transpose ? graph.TransposedCsr! : graph.Forward!;
            ArrayView<float> partials = HubPartials(a, width);
            ArrayView<float> source = input.View;
            for (int l = 1; l <= layers; l++)
            {
                bool last = l == layers;
                ArrayView<float> target = last ? output.View : (l % 2 == 1 ? _scratchA!.View : _scratchB!.View).SubView(0, length);
                _kernels!.Layer(Stream, a, source, target, input.View, filter.BetaView, filter.ScaleView, partials,
                    width, last ? RowEpilogueKind.FscLast : RowEpilogueKind.FscInner);
                source = target;
            }
        }
    }

    /// <summary>Waits until every launched kernel has finished.</summary>
    public void Synchronize()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _accelerator?.Synchronize();
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
            _scratchA?.Dispose();
            _scratchB?.Dispose();
            _hubPartials?.Dispose();
            DisposeBpr();
            _accelerator?.Dispose();
            _ilgpu?.Dispose();
        }
    }

    /// <summary>
    /// Rows with more entries than this are summed in chunks by several groups (see <see cref="HubChunks"/>).
    /// Only the GPU layout needs it: there a hub row holds up its group while the others idle.
    /// On CPU devices groups walk many rows and are scheduled dynamically, and the two extra
    /// launches cost more than they save (PoCL, Baby FSC: 12.0 ms with hub chunks, 10.4 without).
    /// </summary>
    internal int HubRowThreshold
    {
        get => _hubRowThreshold ?? (_kernels?.GpuLayout == true ? 1024 : int.MaxValue);
        set => _hubRowThreshold = value;
    }

    private int? _hubRowThreshold;

    /// <summary>Entries per chunk of a hub row.</summary>
    internal int HubChunkLength { get; set; } = 256;

    private DeviceCsr UploadCsr(CsrMatrix m, List<IDisposable> buffers)
    {
        MemoryBuffer1D<int, Stride1D.Dense> ptr = AllocateInts(m.Rows + 1, "row pointers");
        buffers.Add(ptr);
        MemoryBuffer1D<int, Stride1D.Dense> cols = AllocateInts(m.NonZeros, "column indices");
        buffers.Add(cols);
        MemoryBuffer1D<float, Stride1D.Dense> vals = AllocateFloats(m.NonZeros, "values");
        buffers.Add(vals);
        ptr.View.CopyFromCPU(Stream, m.RowPointers);
        if (m.NonZeros > 0)
        {
            cols.View.SubView(0, m.NonZeros).CopyFromCPU(Stream, m.ColumnIndices);
            vals.View.SubView(0, m.NonZeros).CopyFromCPU(Stream, m.Values);
        }
        HubChunks? hubs = UploadHubs(m, buffers);
        Stream.Synchronize();
        return new DeviceCsr(m.Rows, m.Columns, ptr.View, cols.View, vals.View, hubs);
    }

    private HubChunks? UploadHubs(CsrMatrix m, List<IDisposable> buffers)
    {
        var hubRows = new List<int>();
        var chunkPointers = new List<int> { 0 };
        var begin = new List<int>();
        var end = new List<int>();
        ReadOnlySpan<int> rowPointers = m.RowPointers;
        for (int r = 0; r < m.Rows; r++)
        {
            if (rowPointers[r + 1] - rowPointers[r] <= HubRowThreshold)
            {
                continue;
            }
            hubRows.Add(r);
            for (int k = rowPointers[r]; k < rowPointers[r + 1]; k += HubChunkLength)
            {
                begin.Add(k);
                end.Add(Math.Min(k + HubChunkLength, rowPointers[r + 1]));
            }
            chunkPointers.Add(begin.Count);
        }
        if (hubRows.Count == 0)
        {
            return null;
        }
        ArrayView<int> Put(List<int> data, string what)
        {
            MemoryBuffer1D<int, Stride1D.Dense> buffer = AllocateInts(data.Count, what);
            buffers.Add(buffer);
            buffer.View.SubView(0, data.Count).CopyFromCPU(Stream, data.ToArray());
            return buffer.View;
        }
        return new HubChunks(HubRowThreshold, hubRows.Count, begin.Count, Put(hubRows, "hub rows"), Put(chunkPointers, "hub chunk pointers"),
            Put(begin, "hub chunk starts"), Put(end, "hub chunk ends"));
    }

    // Partial sums of hub chunks: chunks × width floats, grown on demand.
    private ArrayView<float> HubPartials(DeviceCsr a, int width)
    {
        if (a.Hubs is null)
        {
            return default;
        }
        long length = (long)a.Hubs.ChunkCount * width;
        if (_hubPartials is null || _hubPartials.Length < length)
        {
            _hubPartials?.Dispose();
            _hubPartials = null;
            _hubPartials = AllocateFloats(length, "hub partial sums");
        }
        return _hubPartials.View;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> AllocateFloats(long length, string what) => Allocate<float>(length, what);

    private MemoryBuffer1D<int, Stride1D.Dense> AllocateInts(long length, string what) => Allocate<int>(length, what);

    // ILGPU buffers need at least one element; a device that cannot serve the request gets one
    // clear exception naming what was being allocated and how many bytes.
    private unsafe MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length, string what)
        where T : unmanaged
    {
        long count = Math.Max(1, length);
        try
        {
            return _accelerator!.Allocate1D<T>(count);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            throw new OutOfMemoryException($"Could not allocate {what}: {count * sizeof(T):N0} bytes on {Device} ({ex.Message}).", ex);
        }
    }

    private void ValidateCall(DeviceGraph graph, DeviceTable input, DeviceTable output, string inputName = "input", string outputName = "output")
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(input, inputName);
        ArgumentNullException.ThrowIfNull(output, outputName);
        graph.ThrowIfDisposed();
        input.ThrowIfDisposed();
        output.ThrowIfDisposed();
        if (!ReferenceEquals(graph.Owner, this))
        {
            throw new ArgumentException("The graph belongs to another context.", nameof(graph));
        }
        if (!ReferenceEquals(input.Owner, this))
        {
            throw new ArgumentException($"The {inputName} table belongs to another context.", inputName);
        }
        if (!ReferenceEquals(output.Owner, this))
        {
            throw new ArgumentException($"The {outputName} table belongs to another context.", outputName);
        }
        if (input.Overlaps(output))
        {
            throw new ArgumentException($"The {outputName} table must not be, or overlap, the {inputName} table.", outputName);
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
