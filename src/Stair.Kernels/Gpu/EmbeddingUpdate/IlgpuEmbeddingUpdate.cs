// The ILGPU backend of the embedding-update family: the scan, moments and apply kernels of
// EmbeddingUpdateKernels, with the BSC smoothing run by this backend's own FSC driver; a step
// reads back three status ints at its end (non-finite count, first bad row, clipped rows) and
// makes no other host round trip.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu.EmbeddingUpdate;

namespace Stair.Kernels.Gpu.EmbeddingUpdate;

internal sealed class IlgpuEmbeddingUpdate(ComputeContext owner, IlgpuDevice device, IPropagationBackend propagation) : IEmbeddingUpdateBackend
{
    private AcceleratorStream Stream => device.Stream;

    public DeviceAdamState CreateAdamState(int rows, int width)
    {
        DeviceTable m = owner.CreateTable(rows, width);
        DeviceTable? v = null;
        MemoryBuffer1D<int, Stride1D.Dense>? status = null;
        try
        {
            v = owner.CreateTable(rows, width);
            status = device.Allocate<int>(3, "the update status");
            m.View.MemSetToZero(Stream);
            v.View.MemSetToZero(Stream);
            Stream.Synchronize();
            return new DeviceAdamState(owner, m, v, status);
        }
        catch
        {
            m.Dispose();
            v?.Dispose();
            status?.Dispose();
            throw;
        }
    }

    public UpdateResult AdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions options)
    {
        (EmbeddingUpdateKernels kernels, AdamScalars scalars, int rows, int width, int length) = Begin(gradient, state, options);
        ArrayView<int> status = state.Status;
        bool l2 = !options.Decoupled && options.WeightDecay != 0f;
        if (options.Clip.Mode == ClipMode.None)
        {
            kernels.Moments(Stream, table.View, gradient.View, state.M.View, state.V.View, table.View, status, scalars, length, l2,
                MomentsOutput.Table);
        }
        else
        {
            DeviceTable delta = state.Scratch(0);
            kernels.Moments(Stream, table.View, gradient.View, state.M.View, state.V.View, delta.View, status, scalars, length, l2,
                MomentsOutput.Delta);
            kernels.Apply(Stream, table.View, delta.View, status, scalars, rows, width, options.Clip.Mode);
        }
        return Finish(state, options);
    }

    public UpdateResult BscAdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, DeviceGraph graph, StepwiseFilter filter,
        AdamWOptions options)
    {
        (EmbeddingUpdateKernels kernels, AdamScalars scalars, int rows, int width, int length) = Begin(gradient, state, options);
        ArrayView<int> status = state.Status;
        DeviceTable delta = state.Scratch(0), smoothed = state.Scratch(1);
        kernels.Moments(Stream, table.View, gradient.View, state.M.View, state.V.View, delta.View, status, scalars, length,
            !options.Decoupled && options.WeightDecay != 0f, MomentsOutput.Delta);
        // On a skipped step this smooths a stale Δ into scratch; the apply below then returns at once.
        propagation.Fsc(graph, delta, smoothed, filter, transpose: false);
        kernels.Apply(Stream, table.View, smoothed.View, status, scalars, rows, width, options.Clip.Mode);
        return Finish(state, options);
    }

    // Both steps start alike: the kernels, the scan of the gradient into the status, and t + 1's scalars.
    private (EmbeddingUpdateKernels, AdamScalars, int Rows, int Width, int Length) Begin(DeviceTable gradient, DeviceAdamState state, AdamWOptions options)
    {
        int rows = state.Rows, width = state.Width;
        int length = checked(rows * width);
        EmbeddingUpdateKernels kernels = device.Kernels<EmbeddingUpdateKernels>();
        kernels.Scan(Stream, gradient.View, state.Status, length, width);
        return (kernels, new AdamScalars(options, state.Step + 1, width), rows, width, length);
    }

    private UpdateResult Finish(DeviceAdamState state, AdamWOptions options)
    {
        int[] host = state.HostStatus;
        state.Status.SubView(0, 3).CopyToCPU(Stream, host);
        Stream.Synchronize();
        if (host[0] > 0)
        {
            if (options.NonFinite == NonFinitePolicy.Throw)
            {
                int row = int.MaxValue - host[1];
                throw new ArgumentException($"The gradient holds {host[0]} non-finite value(s); the first is in row {row} (index {row} of the rows). Nothing was written.", "gradient");
            }
            return new UpdateResult(state.Step, 0, host[0]);
        }
        state.Step++;
        return new UpdateResult(state.Step, host[2], 0);
    }
}
