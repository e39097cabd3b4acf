// Public host entry points of the EmbeddingUpdate family (kernels.md, EmbeddingUpdate): a fused
// AdamW/Adam step, and the same step with its update smoothed by backward stepwise
// convolution (BSC) over the item–item graph S̃ before it is applied, with an optional clip.
// Arguments are checked here, once, before any pointer is taken; the drivers in
// Cpu/EmbeddingUpdate trust them. The smoothing is Propagation.Fsc with β = b: one kernel.
using Stair.Kernels.Cpu.EmbeddingUpdate;

namespace Stair.Kernels;

/// <summary>
/// Optimizer steps on row-major float embedding tables on the CPU: AdamW (decoupled weight decay) or
/// Adam (L2 folded into the gradient), optionally BSC-smoothed and clipped.
/// </summary>
/// <remarks>
/// <para>One step, with t the new step count, c1 = 1/(1−β1ᵗ), c2 = 1/√(1−β2ᵗ):
/// g ← g + wd·E (Adam only); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; Δ = m·c1 / (√v·c2 + ε);
/// Δ̃ = BSC(Δ) (smoothed step only); clip(Δ̃); E ← E·(1 − lr·wd) − lr·Δ̃ (decay factor 1 for Adam).</para>
/// <para>Non-finite gradients: the gradient is scanned first (a read-only pass). If it holds a NaN or
/// ±∞, nothing is written — table, moments and step count stay as they were — and the result reports
/// the count (<see cref="UpdateResult.Skipped"/>); with <see cref="NonFinitePolicy.Throw"/> an
/// <see cref="ArgumentException"/> names the first bad element instead.</para>
/// <para>Results are deterministic and bitwise identical across SIMD tiers and thread counts.</para>
/// </remarks>
public static class EmbeddingUpdate
{
    /// <summary>One AdamW (or Adam) step without smoothing: a scan of the gradient, then one fused pass over table and state.</summary>
    /// <param name="table">E, row-major <c>state.Rows × state.Width</c>, updated in place.</param>
    /// <param name="gradient">∂L/∂E, same shape; must not overlap the table or the state.</param>
    /// <param name="state">Moments and step count of this table.</param>
    /// <param name="options">Hyperparameters, clip and non-finite policy.</param>
    /// <param name="cpuOptions">SIMD tier and threads; <see cref="CpuOptions.Default"/> when null.</param>
    /// <returns>The new step count, the rows the clip changed, and whether the step was skipped.</returns>
    public static UpdateResult AdamWStep(Span<float> table, ReadOnlySpan<float> gradient, AdamState state, AdamWOptions options,
        CpuOptions? cpuOptions = null)
    {
        cpuOptions ??= CpuOptions.Default;
        cpuOptions.Validate();
        ValidateCommon(table, gradient, state, options);
        return StepUnchecked(table, gradient, state, options, SimdTiers.Resolve(cpuOptions.Tier), cpuOptions.EffectiveThreads);
    }

    // The body of AdamWStep for arguments already checked (by AdamWStep or by ComputeContext).
    internal static unsafe UpdateResult StepUnchecked(Span<float> table, ReadOnlySpan<float> gradient, AdamState state, AdamWOptions options,
        SimdTier tier, int threads)
    {
        fixed (float* e = table)
        fixed (float* g = gradient)
        fixed (float* m = state.M)
        fixed (float* v = state.V)
        {
            AdamJob job = AdamJob.ForCurrentThread(tier, state.Rows, state.Width, threads);
            job.Tables = new AdamTables { Table = e, Gradient = g, M = m, V = v };
            if (Scan(job, threads, gradient, state, options) is { } skipped)
            {
                return skipped;
            }
            long step = state.Step + 1;
            Configure(job, options, step);
            long clipped = job.Run(AdamPass.Fused, threads);
            state.Step = step;
            return new UpdateResult(step, clipped, 0);
        }
    }

    /// <summary>
    /// One BSC-smoothed AdamW (or Adam) step: moments and Δ in one pass, Δ̃ = the stepwise Neumann
    /// filter of Δ over S̃ with per-dimension strengths b (<see cref="Propagation.Fsc"/> with β = b),
    /// then the clip and E ← E·(1 − lr·wd) − lr·Δ̃ in one pass.
    /// </summary>
    /// <param name="table">E (items), row-major <c>state.Rows × state.Width</c>, updated in place.</param>
    /// <param name="gradient">∂L/∂E, same shape; must not overlap the table or the state.</param>
    /// <param name="state">Moments and step count of this table.</param>
    /// <param name="graph">S̃ prepared as a plan (square, one row per table row); its tier and thread count are used.</param>
    /// <param name="strengths">b (length d, each finite in [0, 1]), e.g. <see cref="StepwiseWeights.Backward"/>.</param>
    /// <param name="layers">L (≥ 0; 0 applies Δ unsmoothed).</param>
    /// <param name="workspace">Scratch for at least <c>state.Rows</c> rows of width <c>state.Width</c>.</param>
    /// <param name="options">Hyperparameters, clip and non-finite policy.</param>
    public static UpdateResult BscAdamWStep(Span<float> table, ReadOnlySpan<float> gradient, AdamState state, PropagationPlan graph,
        ReadOnlySpan<float> strengths, int layers, BscWorkspace workspace, AdamWOptions options)
    {
        ValidateCommon(table, gradient, state, options);
        ArgumentNullException.ThrowIfNull(graph);
        CsrMatrix s = graph.Matrix;
        if (!s.IsSquare || s.Rows != state.Rows)
        {
            throw new ArgumentException($"The graph must be square with one row per table row ({state.Rows}), got {s.Rows} × {s.Columns}.", nameof(graph));
        }
        int width = state.Width;
        if (strengths.Length != width)
        {
            throw new ArgumentException($"b must have one entry per dimension ({width}), got {strengths.Length}.", nameof(strengths));
        }
        for (int j = 0; j < width; j++)
        {
            if (!float.IsFinite(strengths[j]) || strengths[j] < 0f || strengths[j] > 1f)
            {
                throw new ArgumentException($"b[{j}] is {strengths[j]}; each b_j must be finite and in [0, 1].", nameof(strengths));
            }
        }
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        ArgumentNullException.ThrowIfNull(workspace);
        if (workspace.Width != width || workspace.Rows < state.Rows)
        {
            throw new ArgumentException($"The workspace serves {workspace.Rows} rows of width {workspace.Width}; this step needs {state.Rows} rows of width {width}.", nameof(workspace));
        }
        return BscStepUnchecked(table, gradient, state, graph, strengths, layers, workspace, options);
    }

    // The body of BscAdamWStep for arguments already checked (by BscAdamWStep or by ComputeContext).
    internal static UpdateResult BscStepUnchecked(Span<float> table, ReadOnlySpan<float> gradient, AdamState state, PropagationPlan graph,
        ReadOnlySpan<float> strengths, int layers, BscWorkspace workspace, AdamWOptions options)
    {
        int length = state.Rows * state.Width;
        var smoother = new FscSmoother { Graph = graph, Strengths = strengths, Layers = layers, Workspace = workspace };
        return SmoothedStepUnchecked(table, gradient, state, workspace.Delta.Span[..length], workspace.Smoothed.Span[..length], options,
            graph.Tier, graph.Threads, ref smoother);
    }

    /// <summary>Δ → Δ̃, the smoothing of a BSC step (one process: FSC over S̃; a distributed step: the same over its rows of S̃).</summary>
    internal interface ISmoother
    {
        void Smooth(ReadOnlySpan<float> delta, Span<float> smoothed, int width);
    }

    private ref struct FscSmoother : ISmoother
    {
        public PropagationPlan Graph;
        public ReadOnlySpan<float> Strengths;
        public int Layers;
        public BscWorkspace Workspace;

        public readonly void Smooth(ReadOnlySpan<float> delta, Span<float> smoothed, int width)
            => Propagation.FscUnchecked(Graph, delta, smoothed, width, Layers, Strengths, Workspace.Propagation, transpose: false);
    }

    /// <summary>
    /// A BSC step with the smoothing supplied: scan, moments and Δ into <paramref name="delta"/>, Δ̃ =
    /// <paramref name="smoother"/>(Δ) into <paramref name="smoothed"/>, then the clip and the apply. The
    /// element passes are row-local, so a rank that owns rows of the table runs them on its rows alone.
    /// </summary>
    internal static unsafe UpdateResult SmoothedStepUnchecked<TSmoother>(Span<float> table, ReadOnlySpan<float> gradient, AdamState state,
        Span<float> delta, Span<float> smoothed, AdamWOptions options, SimdTier tier, int threads, ref TSmoother smoother)
        where TSmoother : ISmoother, allows ref struct
    {
        int width = state.Width;
        fixed (float* e = table)
        fixed (float* g = gradient)
        fixed (float* m = state.M)
        fixed (float* v = state.V)
        fixed (float* pDelta = delta)
        fixed (float* pSmoothed = smoothed)
        {
            AdamJob job = AdamJob.ForCurrentThread(tier, state.Rows, width, threads);
            job.Tables = new AdamTables { Table = e, Gradient = g, M = m, V = v, Delta = pDelta };
            if (Scan(job, threads, gradient, state, options) is { } skipped)
            {
                return skipped;
            }
            long step = state.Step + 1;
            Configure(job, options, step);
            job.Run(AdamPass.Moments, threads);
            smoother.Smooth(delta, smoothed, width);
            job.Tables.Delta = pSmoothed; // the apply pass reads Δ̃
            long clipped = job.Run(AdamPass.Apply, threads);
            state.Step = step;
            return new UpdateResult(step, clipped, 0);
        }
    }

    private static void Configure(AdamJob job, AdamWOptions options, long step)
    {
        job.Scalars = new AdamScalars(options, step, job.Width);
        job.L2 = !options.Decoupled && options.WeightDecay != 0f;
        job.Clip = options.Clip.Mode;
    }

    // The read-only first pass. On a non-finite gradient: count (slow path only), then skip or throw.
    private static UpdateResult? Scan(AdamJob job, int threads, ReadOnlySpan<float> gradient, AdamState state, AdamWOptions options)
    {
        if (job.Run(AdamPass.Scan, threads) == 0)
        {
            return null;
        }
        long count = 0;
        int first = -1;
        for (int k = 0; k < gradient.Length; k++)
        {
            if (!float.IsFinite(gradient[k]))
            {
                count++;
                if (first < 0)
                {
                    first = k;
                }
            }
        }
        if (options.NonFinite == NonFinitePolicy.Throw)
        {
            throw new ArgumentException(
                $"The gradient holds {count} non-finite value(s); the first is {gradient[first]} at index {first} (row {first / state.Width}, column {first % state.Width}). Nothing was written.",
                nameof(gradient));
        }
        return new UpdateResult(state.Step, 0, count);
    }

    internal static void ValidateCommon(ReadOnlySpan<float> table, ReadOnlySpan<float> gradient, AdamState state, AdamWOptions options)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        long expected = (long)state.Rows * state.Width;
        if (table.Length != expected)
        {
            throw new ArgumentException($"Expected a {state.Rows} × {state.Width} table ({expected} floats, the state's shape), got {table.Length} floats.", nameof(table));
        }
        if (gradient.Length != expected)
        {
            throw new ArgumentException($"Expected a {state.Rows} × {state.Width} gradient ({expected} floats, the state's shape), got {gradient.Length} floats.", nameof(gradient));
        }
        if (table.Overlaps(gradient))
        {
            throw new ArgumentException("The gradient must not overlap the table.", nameof(gradient));
        }
        if (table.Overlaps(state.M) || table.Overlaps(state.V))
        {
            throw new ArgumentException("The table must not overlap the optimizer state.", nameof(table));
        }
        if (gradient.Overlaps(state.M) || gradient.Overlaps(state.V))
        {
            throw new ArgumentException("The gradient must not overlap the optimizer state.", nameof(gradient));
        }
    }
}
