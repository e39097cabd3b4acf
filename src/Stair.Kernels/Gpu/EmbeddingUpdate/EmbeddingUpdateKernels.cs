// ILGPU twins of the CPU EmbeddingUpdate passes (Cpu/EmbeddingUpdate): the same scan, moments
// and apply steps with the same float32 constants (AdamScalars), so a step never leaves the
// device. A small status buffer carries what the host needs at the end of the step:
// [0] non-finite gradient count, [1] int.MaxValue − first bad row (0: none), [2] clipped rows.
// Every later kernel reads [0] and returns at once when it is set, so a bad gradient writes
// nothing without a host round trip in between. Integer atomics only: results are deterministic.
// As in the propagation kernels, products and sums are separate operations (ILGPU cannot emit
// fma on OpenCL), so these agree with the CPU tiers to rounding, not bit for bit.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu.EmbeddingUpdate;

namespace Stair.Kernels.Gpu.EmbeddingUpdate;

/// <summary>The EmbeddingUpdate kernels of one accelerator, loaded once and kept.</summary>
/// <summary>Where the moments pass puts Δ.</summary>
internal enum MomentsOutput
{
    /// <summary>Into the delta table (smoothing or a row clip follows).</summary>
    Delta = 0,

    /// <summary>Applied to the table at once (no smoothing, no clip).</summary>
    Table = 1,
}

internal sealed class EmbeddingUpdateKernels : IKernelSet<EmbeddingUpdateKernels>
{
    public static EmbeddingUpdateKernels Load(Accelerator accelerator) => new EmbeddingUpdateKernels(accelerator);


    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, int> _scan;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<int>, AdamScalars, int, MomentsOutput> _moments;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, AdamScalars, int, ClipMode> _applyRows;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, AdamScalars> _applyElements;

    public EmbeddingUpdateKernels(Accelerator accelerator)
    {
        _scan = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, int>(ScanKernel);
        _moments = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<int>, AdamScalars, int, MomentsOutput>(MomentsKernel);
        _applyRows = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, AdamScalars, int, ClipMode>(ApplyRowsKernel);
        _applyElements = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, AdamScalars>(ApplyElementsKernel);
    }

    public void Scan(AcceleratorStream stream, ArrayView<float> gradient, ArrayView<int> status, int length, int width)
    {
        status.SubView(0, 3).MemSetToZero(stream);
        if (length > 0)
        {
            _scan(stream, length, gradient, status, width);
        }
    }

    public void Moments(AcceleratorStream stream, ArrayView<float> table, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> delta, ArrayView<int> status, in AdamScalars scalars, int length, bool l2, MomentsOutput mode)
    {
        if (length > 0)
        {
            _moments(stream, length, table, gradient, m, v, delta, status, scalars, l2 ? 1 : 0, mode);
        }
    }

    public void Apply(AcceleratorStream stream, ArrayView<float> table, ArrayView<float> delta, ArrayView<int> status, in AdamScalars scalars,
        int rows, int width, ClipMode clip)
    {
        if (rows == 0)
        {
            return;
        }
        if (clip == ClipMode.None)
        {
            _applyElements(stream, rows * width, table, delta, status, scalars);
        }
        else
        {
            _applyRows(stream, rows, table, delta, status, scalars, width, clip);
        }
    }

    private static void ScanKernel(Index1D i, ArrayView<float> gradient, ArrayView<int> status, int width)
    {
        float g = gradient[i];
        if (!(g - g == 0f)) // NaN or ±∞: x − x is NaN
        {
            Atomic.Add(ref status[0], 1);
            Atomic.Max(ref status[1], int.MaxValue - i.X / width);
        }
    }

    // m, v and Δ = m·c1 / (√v·c2 + ε); Δ goes to `delta` (smoothing or a row clip follows) or is
    // applied at once (no smoothing, no clip).
    private static void MomentsKernel(Index1D i, ArrayView<float> table, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> delta, ArrayView<int> status, AdamScalars s, int l2, MomentsOutput mode)
    {
        if (status[0] != 0)
        {
            return;
        }
        float g = gradient[i];
        if (l2 != 0)
        {
            g = s.L2 * table[i] + g;
        }
        float mi = s.Beta1 * m[i] + s.OneMinusBeta1 * g;
        float vi = s.Beta2 * v[i] + s.OneMinusBeta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        float d = mi * s.Bias1 / (MathF.Sqrt(vi) * s.Bias2 + s.Epsilon);
        if (mode == MomentsOutput.Table)
        {
            table[i] = table[i] * s.Decay + s.NegativeLearningRate * d;
        }
        else
        {
            delta[i] = d;
        }
    }

    private static void ApplyElementsKernel(Index1D i, ArrayView<float> table, ArrayView<float> delta, ArrayView<int> status, AdamScalars s)
    {
        if (status[0] != 0)
        {
            return;
        }
        table[i] = table[i] * s.Decay + s.NegativeLearningRate * delta[i];
    }

    // One thread per row: the row's norm (row-norm clip) or the element clamp, then the apply.
    private static void ApplyRowsKernel(Index1D row, ArrayView<float> table, ArrayView<float> delta, ArrayView<int> status, AdamScalars s,
        int width, ClipMode clip)
    {
        if (status[0] != 0)
        {
            return;
        }
        long start = (long)row.X * width;
        float scale = 1f;
        bool clipped = false;
        if (clip == ClipMode.RowNorm)
        {
            float sum = 0f;
            for (int j = 0; j < width; j++)
            {
                float x = delta[start + j];
                sum += x * x;
            }
            float norm = MathF.Sqrt(sum);
            if (norm > s.SafeTau)
            {
                scale = s.SafeTau / norm;
                clipped = true;
            }
        }
        float c = s.ClipThreshold;
        for (int j = 0; j < width; j++)
        {
            float d = delta[start + j];
            if (clipped)
            {
                d *= scale;
            }
            if (clip == ClipMode.Element)
            {
                if (d > c)
                {
                    d = c;
                    clipped = true;
                }
                else if (d < -c)
                {
                    d = -c;
                    clipped = true;
                }
            }
            table[start + j] = table[start + j] * s.Decay + s.NegativeLearningRate * d;
        }
        if (clipped)
        {
            Atomic.Add(ref status[2], 1);
        }
    }
}
