// Public entry points of the propagation family (kernels.md, Propagation): SpMM, transpose
// SpMM and fused forward stepwise convolution, forward and backward. Arguments are checked
// here, once, before any pointer is taken; the drivers under Cpu/Propagation trust them.
using Stair.Kernels.Cpu.Propagation;

namespace Stair.Kernels;

/// <summary>
/// Sparse adjacency propagation on the CPU: Y = A·X, Y = Aᵀ·X and forward stepwise
/// convolution (FSC) with per-dimension layer weights. Dense tables are row-major
/// (row r occupies [r·d, (r+1)·d)).
/// </summary>
/// <remarks>
/// Results are deterministic: identical inputs give bitwise identical outputs for every
/// thread count and every <see cref="SimdTier"/>. Inputs are not scanned for NaN or Inf;
/// a non-finite input entry propagates to the rows that read it, as in any dense product.
/// </remarks>
public static class Propagation
{
    /// <summary>
    /// Sparse × dense product: <paramref name="output"/> = A·X (or Aᵀ·X when
    /// <paramref name="transpose"/>), every output element written.
    /// </summary>
    /// <param name="plan">The prepared matrix A.</param>
    /// <param name="input">X, row-major: (A's columns, or rows when transposed) × <paramref name="width"/>.</param>
    /// <param name="output">Y, row-major: (A's rows, or columns when transposed) × <paramref name="width"/>; must not overlap X.</param>
    /// <param name="width">Dense width d (≥ 1).</param>
    /// <param name="transpose">Multiply by Aᵀ instead of A (uses the plan's precomputed transpose: no atomics).</param>
    public static void Spmm(PropagationPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, bool transpose = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CsrMatrix a = plan.Select(transpose);
        ValidateWidth(width);
        ValidateTable(input, a.Columns, width, nameof(input));
        ValidateTable(output, a.Rows, width, nameof(output));
        if (output.Overlaps(input))
        {
            throw new ArgumentException("The output table must not overlap the input table.", nameof(output));
        }
        SpmmUnchecked(plan, input, output, width, transpose);
    }

    // The body of Spmm for arguments already checked (by Spmm or by ComputeContext).
    internal static unsafe void SpmmUnchecked(PropagationPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, bool transpose)
    {
        CsrMatrix a = plan.Select(transpose);
        if (a.Rows == 0)
        {
            return;
        }

        fixed (long* rowOffsets = a.RowOffsetArray)
        fixed (int* columns = &a.ColumnStorage.Reference)
        fixed (float* values = &a.ValueStorage.Reference)
        fixed (float* x = input)
        fixed (float* y = output)
        {
            PropagationJob job = PropagationJob.ForCurrentThread(new CsrView(rowOffsets, columns, values, a.NonZeros), plan, transpose, width, fused: false);
            job.Input = x;
            job.Output = y;
            job.Run(plan.Threads);
        }
        GC.KeepAlive(a); // entries past an array's limit are native memory, freed with the matrix
    }

    /// <summary>
    /// Forward stepwise convolution: H⁰ = E, Hˡ = (A·Hˡ⁻¹) ⊙ β, output = (Σ_{l=0..L} Hˡ) ⊙ c with
    /// c_j = (1−β_j)/(1−β_j^{L+1}) (taken as 1/(L+1) at β_j = 1). Evaluated in Horner form, one pass
    /// over the graph per layer that also accumulates the weighted sum; no extra passes over the tables.
    /// </summary>
    /// <param name="plan">The prepared square matrix A (Ã for FSC, S̃ for BSC smoothing).</param>
    /// <param name="input">E, row-major N × <paramref name="width"/>.</param>
    /// <param name="output">The result, row-major N × <paramref name="width"/>; must not overlap <paramref name="input"/>.</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="layers">L (≥ 0); L = 0 copies E.</param>
    /// <param name="beta">Per-dimension strengths β (length d, each finite and in [0, 1]), e.g. from <see cref="StepwiseWeights.Forward"/>.</param>
    /// <param name="workspace">Scratch for at least N rows of width d (reused across calls).</param>
    /// <remarks>Its gradient (the same filter over Aᵀ) is <see cref="FscBackward"/>.</remarks>
    public static void Fsc(PropagationPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, int layers,
        ReadOnlySpan<float> beta, PropagationWorkspace workspace)
        => FscCore(plan, input, output, width, layers, beta, workspace, transpose: false, nameof(input), nameof(output));

    // The shared body of Fsc and FscBackward; inputName/outputName are the caller's parameter
    // names, so a rejected table is reported under the name the caller actually used.
    // skipZeroRows = false forces every gather (tests use it to show skipping changes no bit).
    internal static void FscCore(PropagationPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, int layers,
        ReadOnlySpan<float> beta, PropagationWorkspace workspace, bool transpose, string inputName, string outputName, bool skipZeroRows = true)
    {
        ArgumentNullException.ThrowIfNull(plan);
        CsrMatrix a = plan.Select(transpose);
        if (!a.IsSquare)
        {
            throw new ArgumentException($"Stepwise convolution needs a square matrix, got {a.Rows} × {a.Columns}.", nameof(plan));
        }
        ValidateWidth(width);
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        int n = a.Rows;
        ValidateTable(input, n, width, inputName);
        ValidateTable(output, n, width, outputName);
        if (output.Overlaps(input))
        {
            throw new ArgumentException($"The table {outputName} must not overlap the table {inputName}.", outputName);
        }
        ValidateBeta(beta, width);
        if (output.Overlaps(beta))
        {
            throw new ArgumentException($"The table {outputName} must not overlap β.", outputName);
        }
        ArgumentNullException.ThrowIfNull(workspace);
        if (workspace.Width != width || workspace.Rows < n)
        {
            throw new ArgumentException($"The workspace serves {workspace.Rows} rows of width {workspace.Width}; this call needs {n} rows of width {width}.", nameof(workspace));
        }
        FscUnchecked(plan, input, output, width, layers, beta, workspace, transpose, skipZeroRows);
    }

    // The body of Fsc and FscBackward for arguments already checked (by FscCore or by ComputeContext).
    internal static unsafe void FscUnchecked(PropagationPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, int layers,
        ReadOnlySpan<float> beta, PropagationWorkspace workspace, bool transpose, bool skipZeroRows = true)
    {
        CsrMatrix a = plan.Select(transpose);
        int n = a.Rows;
        if (n == 0)
        {
            return;
        }
        if (layers == 0)
        {
            input.CopyTo(output);
            return;
        }

        float[] scale = workspace.Scale;
        StepwiseWeights.FinalScale(beta, layers, scale);

        fixed (long* rowOffsets = a.RowOffsetArray)
        fixed (int* columns = &a.ColumnStorage.Reference)
        fixed (float* values = &a.ValueStorage.Reference)
        fixed (float* e = input)
        fixed (float* y = output)
        fixed (float* b = beta)
        fixed (float* c = scale)
        {
            // Horner form: G⁰ = E, Gᵏ = E + β ⊙ (A Gᵏ⁻¹), output = c ⊙ Gᴸ, since
            // Σ_l βˡ Aˡ E = E + β ⊙ A(E + β ⊙ A(…)) (β scales columns, A mixes rows: they commute).
            // Each layer gathers one table, streams E and writes one table: three live tables
            // instead of four, so the gathered one stays in cache. Intermediate layers go to the
            // workspace's 64-byte-aligned buffers, the last to the output.
            PropagationJob job = PropagationJob.ForCurrentThread(new CsrView(rowOffsets, columns, values, a.NonZeros), plan, transpose, width, fused: true);
            job.Seed = e;
            job.Beta = b;
            job.Scale = c;
            // A row-sparse E (a BPR gradient on its way through FSC backward) is the first layer's
            // gather source: mark its zero rows and skip their entries (bitwise neutral, see
            // ColumnFilters.cs). Later layers gather dense intermediate tables.
            byte* zeroRows = workspace.ZeroRowFlags;
            bool sparse = skipZeroRows && ZeroRows.MarkIfSparse(job.Tier, e, a.Columns, width, zeroRows, plan.Threads);
            float* source = e;
            for (int l = 1; l <= layers; l++)
            {
                bool last = l == layers;
                float* target = last ? y : workspace.Layer(l % 2);
                job.Input = source;
                job.Output = target;
                job.Last = last;
                job.ZeroRows = l == 1 && sparse ? zeroRows : null;
                job.Run(plan.Threads);
                source = target;
            }
            job.ZeroRows = null;
        }
        GC.KeepAlive(a); // entries past an array's limit are native memory, freed with the matrix
    }

    /// <summary>What one product layer writes for each element (<see cref="LayerUnchecked"/>).</summary>
    internal enum LayerMode
    {
        /// <summary>y = acc (SpMM).</summary>
        Store,

        /// <summary>y = fma(acc, β_j, seed) (an inner FSC layer).</summary>
        Inner,

        /// <summary>y = fma(acc, β_j, seed) · c_j (the last FSC layer).</summary>
        Last,
    }

    /// <summary>
    /// One product layer over every row of the plan's matrix A with raw tables: the step SpMM and each FSC
    /// layer are made of, with the same row loop and epilogues, so a caller that runs the layers itself (the
    /// distributed driver, over a rank's rows) gets the single-process bits. input: A's columns × width;
    /// output and seed: A's rows × width; beta and scale: width (unused by <see cref="LayerMode.Store"/>).
    /// </summary>
    internal static unsafe void LayerUnchecked(PropagationPlan plan, float* input, float* output, float* seed, float* beta, float* scale,
        int width, LayerMode mode)
    {
        CsrMatrix a = plan.Matrix;
        if (a.Rows == 0)
        {
            return;
        }
        fixed (long* rowOffsets = a.RowOffsetArray)
        fixed (int* columns = &a.ColumnStorage.Reference)
        fixed (float* values = &a.ValueStorage.Reference)
        {
            PropagationJob job = PropagationJob.ForCurrentThread(new CsrView(rowOffsets, columns, values, a.NonZeros), plan, transpose: false, width,
                fused: mode != LayerMode.Store);
            job.Input = input;
            job.Output = output;
            job.Seed = seed;
            job.Beta = beta;
            job.Scale = scale;
            job.Last = mode == LayerMode.Last;
            job.ZeroRows = null;
            job.Run(plan.Threads);
        }
        GC.KeepAlive(a);
    }

    /// <summary>
    /// The gradient of <see cref="Fsc"/>: given ∂L/∂output, writes ∂L/∂E = FSCᵀ(∂L/∂output), which is
    /// FSC with Aᵀ (the β scaling commutes with the graph product). For a symmetric A this is the
    /// forward kernel itself.
    /// </summary>
    /// <param name="plan">The prepared square matrix A used in the forward pass.</param>
    /// <param name="outputGradient">∂L/∂output, N × <paramref name="width"/>.</param>
    /// <param name="inputGradient">∂L/∂E, N × <paramref name="width"/>; must not overlap <paramref name="outputGradient"/>.</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    /// <param name="layers">L, as in the forward pass.</param>
    /// <param name="beta">β, as in the forward pass.</param>
    /// <param name="workspace">Scratch, as in the forward pass.</param>
    public static void FscBackward(PropagationPlan plan, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int width, int layers,
        ReadOnlySpan<float> beta, PropagationWorkspace workspace)
        => FscCore(plan, outputGradient, inputGradient, width, layers, beta, workspace, transpose: true,
            nameof(outputGradient), nameof(inputGradient));

    // Also the C references' argument checks (bench/Stair.Kernels.Benchmarks/Native/NativeReference.cs).
    internal static void ValidateWidth(int width)
    {
        if (width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "Width d must be at least 1.");
        }
    }

    // Also the C references' argument checks (bench/Stair.Kernels.Benchmarks/Native/NativeReference.cs).
    internal static void ValidateTable(ReadOnlySpan<float> table, int rows, int width, string name)
    {
        long expected = (long)rows * width;
        if (table.Length != expected)
        {
            throw new ArgumentException($"Expected a {rows} × {width} table ({expected} floats), got {table.Length} floats.", name);
        }
    }

    // Also the C references' argument checks (bench/Stair.Kernels.Benchmarks/Native/NativeReference.cs).
    internal static void ValidateBeta(ReadOnlySpan<float> beta, int width)
    {
        if (beta.Length != width)
        {
            throw new ArgumentException($"β must have one entry per dimension ({width}), got {beta.Length}.", nameof(beta));
        }
        for (int j = 0; j < beta.Length; j++)
        {
            if (!float.IsFinite(beta[j]) || beta[j] < 0f || beta[j] > 1f)
            {
                throw new ArgumentException($"β[{j}] is {beta[j]}; each β_j must be finite and in [0, 1].", nameof(beta));
            }
        }
    }
}
