// ILGPU twins of the CPU AdamW/Adam step (Cpu/EmbeddingUpdate): the same constants
// (AdamScalars, derived once on the host in float64), the same per-element sequence, but
// multiply-then-add where the CPU fuses (ILGPU 1.5.3 cannot emit fma on OpenCL), so they
// agree with the CPU to rounding, deterministically.
//
// The whole step stays on the device. A status buffer carries [0] the count of non-finite
// gradient elements (the scan kernel) and [1] the rows the clip changed; every writing kernel
// first reads status[0] and leaves everything untouched when it is not zero, so a skipped
// step needs no host decision in the middle. The host reads the two counters once, after
// the step's last kernel.
//
// Work layout: one thread per row (a row's clip needs its whole Δ; d is small). Rows are
// independent, so results do not depend on scheduling.
using ILGPU;
using ILGPU.Runtime;
using Stair.Kernels.Cpu.EmbeddingUpdate;

namespace Stair.Kernels.Gpu.EmbeddingUpdate;

/// <summary>What a step kernel does after the moments.</summary>
internal enum UpdateKernelMode
{
    /// <summary>Write Δ to the delta table only (the BSC step smooths it next).</summary>
    MomentsOnly = 0,

    /// <summary>Moments, clip and apply in one pass (Δ kept in the delta table for the row clip).</summary>
    Fused = 1,
}

/// <summary>The update kernels of one accelerator, loaded once and kept.</summary>
internal sealed class EmbeddingUpdateKernels
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>> _scan;

    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<int>, AdamScalars, int, int, int, int> _moments;

    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, AdamScalars, int, int> _apply;

    public EmbeddingUpdateKernels(Accelerator accelerator)
    {
        _scan = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>>(ScanKernel);
        _moments = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<int>, AdamScalars, int, int, int, int>(MomentsKernel);
        _apply = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, AdamScalars, int, int>(ApplyKernel);
    }

    /// <summary>Counts non-finite gradient elements into status[0] (which the caller zeroed).</summary>
    public void Scan(AcceleratorStream stream, ArrayView<float> gradient, ArrayView<int> status)
    {
        if (gradient.Length > 0)
        {
            _scan(stream, new Index1D((int)gradient.Length), gradient, status);
        }
    }

    /// <summary>The moments (and, when fused, the clip and apply) of every row.</summary>
    public void Moments(AcceleratorStream stream, int rows, int width, ArrayView<float> table, ArrayView<float> gradient, ArrayView<float> m,
        ArrayView<float> v, ArrayView<float> delta, ArrayView<int> status, in AdamScalars scalars, bool l2, ClipMode clip, UpdateKernelMode mode)
    {
        if (rows > 0)
        {
            _moments(stream, new Index1D(rows), table, gradient, m, v, delta, status, scalars, width, l2 ? 1 : 0, (int)clip, (int)mode);
        }
    }

    /// <summary>Clip and apply a prepared (smoothed) Δ̃ to every row.</summary>
    public void Apply(AcceleratorStream stream, int rows, int width, ArrayView<float> table, ArrayView<float> delta, ArrayView<int> status,
        in AdamScalars scalars, ClipMode clip)
    {
        if (rows > 0)
        {
            _apply(stream, new Index1D(rows), table, delta, status, scalars, width, (int)clip);
        }
    }

    private static bool IsFinite(float x) => x <= float.MaxValue && x >= -float.MaxValue;

    private static void ScanKernel(Index1D i, ArrayView<float> gradient, ArrayView<int> status)
    {
        if (!IsFinite(gradient[i]))
        {
            Atomic.Add(ref status[0], 1);
        }
    }

    private static void MomentsKernel(Index1D row, ArrayView<float> table, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> delta, ArrayView<int> status, AdamScalars s, int width, int l2, int clip, int mode)
    {
        if (status[0] != 0)
        {
            return;
        }
        long start = (long)row.X * width;
        for (long i = start; i < start + width; i++)
        {
            float g = gradient[i];
            if (l2 != 0)
            {
                g = s.L2 * table[i] + g;
            }
            float mi = s.Beta1 * m[i] + s.OneMinusBeta1 * g;
            float vi = s.Beta2 * v[i] + s.OneMinusBeta2 * g * g;
            m[i] = mi;
            v[i] = vi;
            delta[i] = mi * s.Bias1 / (MathF.Sqrt(vi) * s.Bias2 + s.Epsilon);
        }
        if (mode == (int)UpdateKernelMode.Fused)
        {
            ApplyRow(row.X, table, delta, status, s, width, clip);
        }
    }

    private static void ApplyKernel(Index1D row, ArrayView<float> table, ArrayView<float> delta, ArrayView<int> status, AdamScalars s,
        int width, int clip)
    {
        if (status[0] != 0)
        {
            return;
        }
        ApplyRow(row.X, table, delta, status, s, width, clip);
    }

    // E ← E·decay − lr·Δ̃ with Δ̃ scaled to norm ≤ τ (row clip, tested against the lowered τ' as on the CPU)
    // or clamped to [−c, c] (element clip); rows the clip changed are counted in status[1].
    private static void ApplyRow(int row, ArrayView<float> table, ArrayView<float> delta, ArrayView<int> status, AdamScalars s, int width, int clip)
    {
        long start = (long)row * width;
        float scale = 1f;
        bool changed = false;
        if (clip == (int)ClipMode.RowNorm)
        {
            float sum = 0f;
            for (long i = start; i < start + width; i++)
            {
                sum += delta[i] * delta[i];
            }
            float norm = MathF.Sqrt(sum);
            if (norm > s.SafeTau)
            {
                scale = s.SafeTau / norm;
                changed = true;
            }
        }
        for (long i = start; i < start + width; i++)
        {
            float d = delta[i] * scale;
            if (clip == (int)ClipMode.Element)
            {
                float c = s.ClipThreshold;
                float clamped = d > c ? c : d < -c ? -c : d;
                changed |= clamped != d;
                d = clamped;
            }
            table[i] = s.NegativeLearningRate * d + table[i] * s.Decay;
        }
        if (changed)
        {
            Atomic.Add(ref status[1], 1);
        }
    }
}
