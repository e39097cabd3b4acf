// ILGPU twins of the CPU propagation drivers: the same CSR × dense product and the same
// fused Horner FSC layer, written once as kernel bodies and compiled by ILGPU for CUDA,
// OpenCL and its CPU simulator.
//
// Layout of the work: one thread per output element (row, j), consecutive threads along
// j, so a group reads whole gathered rows in coalesced stretches and all its threads read
// the same column index and value (a broadcast). Every element is the same FMA chain in
// storage order as on the CPU (acc = fma(a_k, x_k, acc) from +0), so the results are
// deterministic, need no atomics, and match the CPU tiers bit for bit wherever the device
// rounds FMA exactly (CUDA and OpenCL both require a correctly rounded fma; see GpuMath).
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

/// <summary>The propagation kernels of one accelerator, loaded once and kept.</summary>
internal sealed class PropagationKernels
{
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _layer;

    public PropagationKernels(Accelerator accelerator)
    {
        Accelerator = accelerator;
        // Groups of 256 threads where the device allows it (4 rows of d = 64); the simulator's
        // and small devices' limits are respected.
        GroupSize = Math.Max(1, Math.Min(256, accelerator.MaxNumThreadsPerGroup));
        _layer = accelerator.LoadKernel<ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(LayerKernel);
    }

    public Accelerator Accelerator { get; }

    public int GroupSize { get; }

    /// <summary>Launches one product layer over <paramref name="rows"/> × <paramref name="width"/> outputs.</summary>
    public void Layer(AcceleratorStream stream, ArrayView<int> rowPointers, ArrayView<int> columns, ArrayView<float> values,
        ArrayView<float> input, ArrayView<float> output, ArrayView<float> seed, ArrayView<float> beta, ArrayView<float> scale,
        int rows, int width, RowEpilogueKind kind)
    {
        long total = (long)rows * width;
        if (total == 0)
        {
            return;
        }
        int groups = checked((int)((total + GroupSize - 1) / GroupSize));
        _layer(stream, new KernelConfig(groups, GroupSize), rowPointers, columns, values, input, output, seed, beta, scale,
            rows, width, (int)kind);
    }

    // One thread per output element. The epilogue kind is uniform over the launch, so the
    // branch costs nothing; views that a kind does not use are passed as 1-element dummies.
    private static void LayerKernel(ArrayView<int> rowPointers, ArrayView<int> columns, ArrayView<float> values,
        ArrayView<float> input, ArrayView<float> output, ArrayView<float> seed, ArrayView<float> beta, ArrayView<float> scale,
        int rows, int width, int kind)
    {
        long index = (long)Grid.IdxX * Group.DimX + Group.IdxX;
        if (index >= (long)rows * width)
        {
            return;
        }
        int row = (int)(index / width);
        int j = (int)(index - (long)row * width);
        float acc = 0f;
        int end = rowPointers[row + 1];
        for (int k = rowPointers[row]; k < end; k++)
        {
            acc += values[k] * input[(long)columns[k] * width + j];
        }
        if (kind == (int)RowEpilogueKind.Store)
        {
            output[index] = acc;
        }
        else
        {
            float s = acc * beta[j] + seed[index];
            if (kind == (int)RowEpilogueKind.FscLast)
            {
                s *= scale[j];
            }
            output[index] = s;
        }
    }
}
