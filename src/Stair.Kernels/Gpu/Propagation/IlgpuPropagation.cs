// The ILGPU backend of the propagation family: graph upload (with the hub rows split into
// chunks), the filter's device copy, and the FSC driver: the layer loop over PropagationKernels
// with two ping-pong scratch tables and the hub partial sums, all kept between calls.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels.Gpu.Propagation;

internal sealed class IlgpuPropagation(ComputeContext owner, IlgpuDevice device) : IPropagationBackend
{
    private readonly DeviceScratch<float> _scratchA = new(device, "FSC scratch");
    private readonly DeviceScratch<float> _scratchB = new(device, "FSC scratch");
    private readonly DeviceScratch<float> _hubPartials = new(device, "hub partial sums");
    private int? _hubRowThreshold;

    private AcceleratorStream Stream => device.Stream;

    private PropagationKernels Kernels => device.Kernels<PropagationKernels>();

    /// <summary>Reloads the kernels with a forced work layout, so the simulator can check the GPU layout.</summary>
    internal void ForceKernelLayout(bool gpuLayout) => device.ReplaceKernels(acc => new PropagationKernels(acc, gpuLayout));

    /// <summary>
    /// Rows with more entries than this are summed in chunks by several groups (see <see cref="HubChunks"/>).
    /// Only the GPU layout needs it: there a hub row holds up its group while the others idle.
    /// On CPU devices groups walk many rows and are scheduled dynamically, and the two extra
    /// launches cost more than they save (PoCL, Baby FSC: 12.0 ms with hub chunks, 10.4 without).
    /// </summary>
    internal int HubRowThreshold
    {
        get => _hubRowThreshold ?? (Kernels.GpuLayout ? 1024 : int.MaxValue);
        set => _hubRowThreshold = value;
    }

    /// <summary>Entries per chunk of a hub row.</summary>
    internal int HubChunkLength { get; set; } = 256;

    public DeviceGraph Upload(CsrMatrix matrix, PropagationPlan plan)
    {
        var buffers = new List<IDisposable>();
        try
        {
            DeviceCsr forward = UploadCsr(matrix, buffers);
            DeviceCsr transposed = plan.IsSymmetric || plan.ForwardOnly ? forward : UploadCsr(plan.Transposed, buffers); // a forward-only plan has no Aᵀ
            return new DeviceGraph(owner, matrix, null, forward, transposed, plan.IsSymmetric, buffers);
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

    public StepwiseFilter CreateFilter(float[] beta, float[] scale, int layers)
    {
        MemoryBuffer1D<float, Stride1D.Dense> deviceBeta = device.Allocate<float>(beta.Length, "β");
        MemoryBuffer1D<float, Stride1D.Dense>? deviceScale = null;
        try
        {
            deviceScale = device.Allocate<float>(beta.Length, "the layer scale");
            deviceBeta.View.CopyFromCPU(Stream, beta);
            deviceScale.View.CopyFromCPU(Stream, scale);
            Stream.Synchronize();
            return new StepwiseFilter(owner, beta, scale, layers, deviceBeta, deviceScale);
        }
        catch
        {
            deviceBeta.Dispose();
            deviceScale?.Dispose();
            throw;
        }
    }

    public void Spmm(DeviceGraph graph, DeviceTable input, DeviceTable output, bool transpose)
    {
        DeviceCsr a = transpose ? graph.TransposedCsr! : graph.Forward!;
        Kernels.Layer(Stream, a, input.View, output.View, input.View, input.View, input.View, HubPartials(a, input.Width),
            input.Width, RowEpilogueKind.Store);
    }

    // Horner form, one launch per layer: Gᵏ = E + β ⊙ (A Gᵏ⁻¹), the last layer scaled by c.
    public void Fsc(DeviceGraph graph, DeviceTable input, DeviceTable output, StepwiseFilter filter, bool transpose)
    {
        int n = graph.Rows, width = filter.Width, layers = filter.Layers;
        if (layers == 0 || n == 0)
        {
            input.View.CopyTo(Stream, output.View);
            return;
        }
        long length = (long)n * width;
        ArrayView<float> a1 = layers >= 2 ? _scratchA.View(length) : default;
        ArrayView<float> a2 = layers >= 3 ? _scratchB.View(length) : default;
        DeviceCsr a = transpose ? graph.TransposedCsr! : graph.Forward!;
        ArrayView<float> partials = HubPartials(a, width);
        PropagationKernels kernels = Kernels;
        ArrayView<float> source = input.View;
        for (int l = 1; l <= layers; l++)
        {
            bool last = l == layers;
            ArrayView<float> target = last ? output.View : (l % 2 == 1 ? a1 : a2).SubView(0, length);
            kernels.Layer(Stream, a, source, target, input.View, filter.BetaView, filter.ScaleView, partials,
                width, last ? RowEpilogueKind.FscLast : RowEpilogueKind.FscInner);
            source = target;
        }
    }

    public void Layer(DeviceGraph graph, DeviceTable input, DeviceTable output, DeviceTable seed, StepwiseFilter? filter, Stair.Kernels.Propagation.LayerMode mode)
    {
        DeviceCsr a = graph.Forward!;
        RowEpilogueKind kind = mode switch
        {
            Stair.Kernels.Propagation.LayerMode.Store => RowEpilogueKind.Store,
            Stair.Kernels.Propagation.LayerMode.Inner => RowEpilogueKind.FscInner,
            _ => RowEpilogueKind.FscLast,
        };
        Kernels.Layer(Stream, a, input.View, output.View, seed.View, filter?.BetaView ?? input.View, filter?.ScaleView ?? input.View,
            HubPartials(a, input.Width), input.Width, kind);
    }

    public void Dispose()
    {
        _scratchA.Dispose();
        _scratchB.Dispose();
        _hubPartials.Dispose();
    }

    private DeviceCsr UploadCsr(CsrMatrix m, List<IDisposable> buffers)
    {
        MemoryBuffer1D<long, Stride1D.Dense> ptr = device.Allocate<long>(m.Rows + 1L, "row offsets");
        buffers.Add(ptr);
        MemoryBuffer1D<int, Stride1D.Dense> cols = device.Allocate<int>(m.NonZeros, "column indices");
        buffers.Add(cols);
        MemoryBuffer1D<float, Stride1D.Dense> vals = device.Allocate<float>(m.NonZeros, "values");
        buffers.Add(vals);
        ptr.View.CopyFromCPU(Stream, m.RowOffsets);
        // Past 2³¹ entries the host side is native memory no span covers whole: copy it in pieces.
        const int Piece = 1 << 28;
        for (long start = 0; start < m.NonZeros; start += Piece)
        {
            int length = (int)Math.Min(Piece, m.NonZeros - start);
            cols.View.SubView(start, length).CopyFromCPU(Stream, m.ColumnStorage.Slice(start, length));
            vals.View.SubView(start, length).CopyFromCPU(Stream, m.ValueStorage.Slice(start, length));
        }
        HubChunks? hubs = UploadHubs(m, buffers);
        Stream.Synchronize();
        GC.KeepAlive(m);
        return new DeviceCsr(m.Rows, m.Columns, ptr.View, cols.View, vals.View, hubs);
    }

    private HubChunks? UploadHubs(CsrMatrix m, List<IDisposable> buffers)
    {
        int threshold = HubRowThreshold, chunk = HubChunkLength;
        var hubRows = new List<int>();
        var chunkPointers = new List<int> { 0 };
        var begin = new List<long>();
        var end = new List<long>();
        ReadOnlySpan<long> rowOffsets = m.RowOffsets;
        for (int r = 0; r < m.Rows; r++)
        {
            if (rowOffsets[r + 1] - rowOffsets[r] <= threshold)
            {
                continue;
            }
            hubRows.Add(r);
            for (long k = rowOffsets[r]; k < rowOffsets[r + 1]; k += chunk)
            {
                begin.Add(k);
                end.Add(Math.Min(k + chunk, rowOffsets[r + 1]));
            }
            chunkPointers.Add(checked(begin.Count));
        }
        if (hubRows.Count == 0)
        {
            return null;
        }
        ArrayView<T> Put<T>(List<T> data, string what)
            where T : unmanaged
        {
            MemoryBuffer1D<T, Stride1D.Dense> buffer = device.Allocate<T>(data.Count, what);
            buffers.Add(buffer);
            buffer.View.SubView(0, data.Count).CopyFromCPU(Stream, data.ToArray());
            return buffer.View;
        }
        return new HubChunks(threshold, hubRows.Count, begin.Count, Put(hubRows, "hub rows"), Put(chunkPointers, "hub chunk pointers"),
            Put(begin, "hub chunk starts"), Put(end, "hub chunk ends"));
    }

    // Partial sums of hub chunks: chunks × width floats, grown on demand.
    private ArrayView<float> HubPartials(DeviceCsr a, int width)
        => a.Hubs is null ? default : _hubPartials.View((long)a.Hubs.ChunkCount * width);
}
