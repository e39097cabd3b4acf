// ILGPU twins of the CPU propagation drivers: the same CSR × dense product and the same
// fused Horner FSC layer, written once as kernel bodies and compiled by ILGPU for CUDA,
// OpenCL and its CPU simulator.
//
// Layout of the work: threads along the output columns j, a group's threads all on the
// same rows, so every thread of a group runs the same number of iterations and its loads of
// a gathered row are contiguous; on GPUs one column per thread and one row per group, on CPU
// devices eight columns per work-item and 32 rows per group (see the constructor). Every
// element is one chain in storage order (acc = a_k·x_k + acc from +0), so results are
// deterministic and need no atomics.
//
// Why not fma: ILGPU 1.5.3 compiles MathF.FusedMultiplyAdd on its CPU simulator but emits
// an undeclared `FusedMultiplyAdd` call on OpenCL, and a backend intrinsic registered for
// it (or for a NoInlining wrapper) was not applied. So the kernels multiply and add as two
// operations: ILGPU emits them as separate statements, which OpenCL may not contract, so
// the result is the same on every run; it differs from the CPU tiers' FMA chain by rounding.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels.Gpu.Propagation;

/// <summary>What a propagation kernel writes for each accumulated element.</summary>
internal enum RowEpilogueKind
{
    /// <summary>y = acc (SpMM).</summary>
    Store = 0,

    /// <summary>y = acc·β_j + seed (an inner FSC layer).</summary>
    FscInner = 1,

    /// <summary>y = (acc·β_j + seed) · c_j (the last FSC layer).</summary>
    FscLast = 2,
}

/// <summary>The shape of one layer launch: what each thread of <see cref="PropagationKernels"/>' layer kernel needs besides the views.</summary>
internal readonly record struct LayerShape(int Rows, int GroupsPerRow, int Width, RowEpilogueKind Kind, int ColumnsPerThread, int HubThreshold);

/// <summary>The propagation kernels of one accelerator, loaded once and kept.</summary>
internal sealed class PropagationKernels : IKernelSet<PropagationKernels>
{
    public static PropagationKernels Load(Accelerator accelerator) => new PropagationKernels(accelerator);

    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<long>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerShape> _layer;

    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<long>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<int>, int, int> _chunks;

    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, int, int, RowEpilogueKind> _combine;

    /// <param name="accelerator">The accelerator to load on.</param>
    /// <param name="gpuLayout">Force the GPU (true) or CPU-device (false) work layout; null picks by device.</param>
    public PropagationKernels(Accelerator accelerator, bool? gpuLayout = null)
    {
        Accelerator = accelerator;
        MaxGroupSize = Math.Max(1, accelerator.MaxNumThreadsPerGroup);
        // GPUs want many small groups to fill their multiprocessors; CPU devices (PoCL, the
        // simulator) pay per group and have few cores.
        bool gpu = gpuLayout ?? (accelerator.AcceleratorType == AcceleratorType.Cuda || IsGpuOpenCL(accelerator));
        GpuLayout = gpu;
        RowsPerGroup = gpu ? 1 : 32;
        // On a CPU OpenCL device each work-item runs scalar code; eight adjacent columns per
        // work-item give LLVM's SLP vectorizer straight-line loads and FMAs to pack. On GPUs one
        // column per thread keeps the loads coalesced across the warp.
        ColumnsPerThread = gpu ? 1 : 8;
        _chunks = accelerator.LoadKernel<ArrayView<long>, ArrayView<long>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<int>, int, int>(ChunkKernel);
        _combine = accelerator.LoadKernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int, int, RowEpilogueKind>(CombineKernel);
        _layer = accelerator.LoadKernel<ArrayView<long>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerShape>(LayerKernel);
    }

    public Accelerator Accelerator { get; }

    public int MaxGroupSize { get; }

    /// <summary>Rows a group walks through; enough to amortize a group's start on CPU OpenCL.</summary>
    public int RowsPerGroup { get; }

    /// <summary>True for the GPU work layout (one column per thread, one row per group).</summary>
    public bool GpuLayout { get; }

    /// <summary>Adjacent columns each thread computes (1 or 8).</summary>
    public int ColumnsPerThread { get; }

    private static bool IsGpuOpenCL(Accelerator accelerator) =>
        accelerator is ILGPU.Runtime.OpenCL.CLAccelerator cl && cl.DeviceType == ILGPU.Runtime.OpenCL.CLDeviceType.CL_DEVICE_TYPE_GPU;

    /// <summary>
    /// Launches one product layer of <paramref name="a"/> over its rows × <paramref name="width"/> outputs.
    /// Hub rows (if any) are skipped by the main launch and summed chunk by chunk into
    /// <paramref name="partials"/>, then combined in chunk order with the epilogue: deterministic,
    /// and no group waits on a 10,000-entry row while the others idle.
    /// </summary>
    public void Layer(AcceleratorStream stream, DeviceCsr a, ArrayView<float> input, ArrayView<float> output, ArrayView<float> seed,
        ArrayView<float> beta, ArrayView<float> scale, ArrayView<float> partials, int width, RowEpilogueKind kind)
    {
        int rows = a.Rows;
        if (rows == 0)
        {
            return;
        }
        // A group's threads all work on the same rows (a block of RowsPerGroup rows, one after
        // the other), so they run the same number of loop iterations: PoCL vectorizes across
        // the group and a GPU warp stays converged. Rows wider than the largest group take
        // several groups side by side.
        int threadsPerRow = (width + ColumnsPerThread - 1) / ColumnsPerThread;
        int groupSize = Math.Min(threadsPerRow, MaxGroupSize);
        int groupsPerRow = (threadsPerRow + groupSize - 1) / groupSize;
        int rowBlocks = (rows + RowsPerGroup - 1) / RowsPerGroup;
        int groups = checked(rowBlocks * groupsPerRow);
        HubChunks? hubs = a.Hubs;
        _layer(stream, new KernelConfig(groups, groupSize), a.RowOffsets, a.ColumnIndices, a.Values, input, output, seed, beta, scale,
            new LayerShape(rows, groupsPerRow, width, kind, ColumnsPerThread, hubs?.Threshold ?? int.MaxValue));
        if (hubs is not null)
        {
            int columnGroupSize = Math.Min(width, MaxGroupSize);
            int columnGroups = (width + columnGroupSize - 1) / columnGroupSize;
            _chunks(stream, new KernelConfig(checked(hubs.ChunkCount * columnGroups), columnGroupSize), hubs.ChunkBegin, hubs.ChunkEnd,
                a.Values, input, partials, a.ColumnIndices, columnGroups, width);
            _combine(stream, new KernelConfig(checked(hubs.HubCount * columnGroups), columnGroupSize), partials, hubs.HubRows, hubs.ChunkPointers,
                output, seed, beta, scale, columnGroups, width, kind);
        }
    }

    // partials[c, j] = Σ_{k in chunk c} a_k·x[col_k, j], one thread per (chunk, j).
    private static void ChunkKernel(ArrayView<long> chunkBegin, ArrayView<long> chunkEnd, ArrayView<float> values, ArrayView<float> input,
        ArrayView<float> partials, ArrayView<int> columns, int columnGroups, int width)
    {
        int chunk = Grid.IdxX / columnGroups;
        int j = (Grid.IdxX - chunk * columnGroups) * Group.DimX + Group.IdxX;
        if (j >= width)
        {
            return;
        }
        float acc = 0f;
        long end = chunkEnd[chunk];
        for (long k = chunkBegin[chunk]; k < end; k++)
        {
            acc += values[k] * input[(long)columns[k] * width + j];
        }
        partials[(long)chunk * width + j] = acc;
    }

    // For hub h: the sum of its chunks' partials in chunk order, then the epilogue.
    private static void CombineKernel(ArrayView<float> partials, ArrayView<int> hubRows, ArrayView<int> chunkPointers, ArrayView<float> output,
        ArrayView<float> seed, ArrayView<float> beta, ArrayView<float> scale, int columnGroups, int width, RowEpilogueKind kind)
    {
        int hub = Grid.IdxX / columnGroups;
        int j = (Grid.IdxX - hub * columnGroups) * Group.DimX + Group.IdxX;
        if (j >= width)
        {
            return;
        }
        float acc = 0f;
        int end = chunkPointers[hub + 1];
        for (int c = chunkPointers[hub]; c < end; c++)
        {
            acc += partials[(long)c * width + j];
        }
        Finish(output, seed, beta, scale, (long)hubRows[hub] * width + j, j, acc, kind);
    }

    // One thread per output column j of a block of rows; the epilogue kind is uniform over
    // the launch, so its branch costs nothing; views a kind does not use are passed as dummies.
    private static void LayerKernel(ArrayView<long> rowOffsets, ArrayView<int> columns, ArrayView<float> values,
        ArrayView<float> input, ArrayView<float> output, ArrayView<float> seed, ArrayView<float> beta, ArrayView<float> scale,
        LayerShape shape)
    {
        int rows = shape.Rows, groupsPerRow = shape.GroupsPerRow, width = shape.Width, columnsPerThread = shape.ColumnsPerThread;
        int hubThreshold = shape.HubThreshold;
        RowEpilogueKind kind = shape.Kind;
        int block = Grid.IdxX / groupsPerRow;
        int j0 = ((Grid.IdxX - block * groupsPerRow) * Group.DimX + Group.IdxX) * columnsPerThread;
        int rowsPerGroup = (rows + Grid.DimX / groupsPerRow - 1) / (Grid.DimX / groupsPerRow);
        if (j0 >= width)
        {
            return;
        }
        int rowEnd = Math.Min(rows, (block + 1) * rowsPerGroup);
        for (int row = block * rowsPerGroup; row < rowEnd; row++)
        {
            long begin = rowOffsets[row], end = rowOffsets[row + 1];
            if (end - begin > hubThreshold)
            {
                continue; // a hub row: summed in chunks by the chunk and combine launches
            }
            if (columnsPerThread == 8 && j0 + 8 <= width)
            {
                float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
                for (long k = begin; k < end; k++)
                {
                    float v = values[k];
                    long at = (long)columns[k] * width + j0;
                    a0 += v * input[at];
                    a1 += v * input[at + 1];
                    a2 += v * input[at + 2];
                    a3 += v * input[at + 3];
                    a4 += v * input[at + 4];
                    a5 += v * input[at + 5];
                    a6 += v * input[at + 6];
                    a7 += v * input[at + 7];
                }
                long index = (long)row * width + j0;
                Finish(output, seed, beta, scale, index, j0, a0, kind);
                Finish(output, seed, beta, scale, index + 1, j0 + 1, a1, kind);
                Finish(output, seed, beta, scale, index + 2, j0 + 2, a2, kind);
                Finish(output, seed, beta, scale, index + 3, j0 + 3, a3, kind);
                Finish(output, seed, beta, scale, index + 4, j0 + 4, a4, kind);
                Finish(output, seed, beta, scale, index + 5, j0 + 5, a5, kind);
                Finish(output, seed, beta, scale, index + 6, j0 + 6, a6, kind);
                Finish(output, seed, beta, scale, index + 7, j0 + 7, a7, kind);
            }
            else
            {
                int jEnd = Math.Min(width, j0 + columnsPerThread);
                for (int j = j0; j < jEnd; j++)
                {
                    float acc = 0f;
                    for (long k = begin; k < end; k++)
                    {
                        acc += values[k] * input[(long)columns[k] * width + j];
                    }
                    Finish(output, seed, beta, scale, (long)row * width + j, j, acc, kind);
                }
            }
        }
    }

    // The epilogue: y = acc, or y = acc·β_j + seed (times c_j on the last FSC layer).
    private static void Finish(ArrayView<float> output, ArrayView<float> seed, ArrayView<float> beta, ArrayView<float> scale,
        long index, int j, float acc, RowEpilogueKind kind)
    {
        if (kind == RowEpilogueKind.Store)
        {
            output[index] = acc;
        }
        else
        {
            float s = acc * beta[j] + seed[index];
            if (kind == RowEpilogueKind.FscLast)
            {
                s *= scale[j];
            }
            output[index] = s;
        }
    }
}
