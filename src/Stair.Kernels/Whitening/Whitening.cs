// Batched whitening (kernels.md, Whitening): per modality, the top-d left singular vectors of
// the column-centered features scaled by √(I/d), with a fixed sign; fused by the weights.
using Stair.Kernels.Cpu;
using Stair.Kernels.Cpu.Simd;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels;

/// <summary>
/// Modality initialization of STAIR: whitened multimodal features as the starting item table
/// (and, through <see cref="WhiteningResult.UserTable(CsrMatrix, CpuOptions?)"/>, the user table); <see cref="ComputeContext.Whiten"/> runs it on a context's backend.
/// </summary>
/// <remarks>
/// <para>For each modality m, X_m (items × F_m) is column-centered, W_m = U[:, :d]·√(I/d) from its thin SVD
/// (the rows come out decorrelated with columns of mean square 1), and E_item = Σ_m k_m W_m / Σ_m k_m.</para>
/// <para>Signs: in each column of W_m the entry of largest magnitude is positive (on equal magnitudes the lower
/// row decides). Rank: a column j is kept when σ_j &gt; <see cref="WhiteningOptions.RankTolerance"/>·σ_1 and
/// j &lt; min(I − 1, F) (centering removes one dimension); later columns are zero and counted in
/// <see cref="WhiteningModalityResult.ZeroColumns"/>.</para>
/// <para>The large products (centering, Gram, X·Ω, Xᵀ·Q, X·V) run on the chosen backend's dense kernels with all
/// its threads; only ℓ×ℓ eigenproblems (ℓ ≈ d + p) and thin transposes run on the host in float64.</para>
/// </remarks>
public static class Whitening
{
    /// <summary>Whitens and fuses <paramref name="modalities"/> on the SIMD CPU backend.</summary>
    /// <param name="modalities">One or more modalities, each with one row per item (the same item count).</param>
    /// <param name="options">Width, method and tolerances (defaults: d = 64, exact).</param>
    /// <param name="cpuOptions">SIMD tier and threads.</param>
    /// <exception cref="ArgumentException">Shapes disagree, a weight is not finite and positive, or a feature is NaN/Inf
    /// (the message names the modality, row and column).</exception>
    public static WhiteningResult Whiten(IReadOnlyList<WhiteningModality> modalities, WhiteningOptions? options = null, CpuOptions? cpuOptions = null)
    {
        options ??= new WhiteningOptions();
        cpuOptions ??= CpuOptions.Default;
        cpuOptions.Validate();
        int items = Validate(modalities, options, cpuOptions);
        using var device = new CpuWhiteningDevice(SimdTiers.Resolve(cpuOptions.Tier), cpuOptions.EffectiveThreads);
        return Run(device, modalities, options, items);
    }

    // ComputeContext.Whiten's body (the context holds its lock and has checked it is not disposed).
    internal static WhiteningResult Whiten(ComputeContext context, IReadOnlyList<WhiteningModality> modalities, WhiteningOptions? options)
    {
        options ??= new WhiteningOptions();
        int items = Validate(modalities, options, context.CpuOptions);
        using WhiteningDevice device = context.Families.Whitening.OpenWhitening();
        return Run(device, modalities, options, items);
    }

    private static WhiteningResult Run(WhiteningDevice device, IReadOnlyList<WhiteningModality> modalities, WhiteningOptions options, int items)
    {
        int d = options.Dimension;
        var solver = new WhiteningSolver(device, options);
        var parts = new WhiteningModalityResult[modalities.Count];
        long length = (long)items * d;
        // Σ_m share_m·W_m accumulates in float64 (pooled: a fresh multi-megabyte array page-faults on first touch).
        double[] fused = System.Buffers.ArrayPool<double>.Shared.Rent((int)Math.Max(1, length));
        // The result arrays are new (the caller owns them) and a new multi-megabyte array page-faults on first touch
        // (~5 ms per 1.8 MB on this VM). A helper allocates and touches them while this thread factors, so the faults
        // land in the serial phases (eigen, orthonormalization), where the other core is idle.
        Task<float[][]> outputs = Task.Run(() => AllocateTouched(modalities.Count + 1, length));
        try
        {
            fused.AsSpan(0, (int)length).Clear();
            double weightSum = 0;
            foreach (WhiteningModality m in modalities)
            {
                weightSum += m.Weight;
            }
            float scale = (float)Math.Sqrt((double)items / d);
            for (int index = 0; index < modalities.Count; index++)
            {
                WhiteningModality m = modalities[index];
                using Factorization f = solver.Factor(m.Features, items, m.Columns);
                parts[index] = Assemble(m.Name ?? $"modality {index}", f, items, d, scale, m.Weight / weightSum, options.RankTolerance, m.Columns, fused,
                    outputs.GetAwaiter().GetResult()[index]);
            }
            float[] table = outputs.GetAwaiter().GetResult()[modalities.Count];
            for (long k = 0; k < table.Length; k++)
            {
                table[k] = (float)fused[k];
            }
            return new WhiteningResult(items, d, table, parts);
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(fused);
        }
    }

    // Arrays whose every element the caller writes: uninitialized, one write per 4 KiB page to fault them in.
    private static float[][] AllocateTouched(int count, long length)
    {
        var arrays = new float[count][];
        for (int a = 0; a < count; a++)
        {
            float[] x = GC.AllocateUninitializedArray<float>((int)length);
            for (int k = 0; k < x.Length; k += 1024)
            {
                x[k] = 0;
            }
            arrays[a] = x;
        }
        return arrays;
    }

    // Sorts the factorization's columns by σ (descending, ties by column), applies the rank cut-off and the sign rule,
    // and writes every element of W_m (and share·W_m into the fused sum) row by row.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static WhiteningModalityResult Assemble(string name, Factorization f, int items, int d, float scale, double share,
        double tolerance, int columns, double[] fused, float[] w)
    {
        int k = f.K;
        int[] order = Enumerable.Range(0, k).OrderByDescending(j => f.Sigma[j]).ThenBy(j => j).ToArray();
        var singular = new double[d];
        for (int j = 0; j < Math.Min(d, k); j++)
        {
            singular[j] = f.Sigma[order[j]];
        }
        int limit = Math.Min(k, Math.Min(items - 1, columns));
        int rank = 0;
        while (rank < limit && singular[0] > 0 && singular[rank] > tolerance * singular[0])
        {
            rank++;
        }
        // Sign rule on each kept column: the entry of largest magnitude (first on ties) is made positive.
        var factor = new double[rank];
        var source = new int[rank];
        float[] tall = f.Tall;
        for (int j = 0; j < rank; j++)
        {
            int c = order[j];
            source[j] = c;
            int best = 0;
            float bestMagnitude = -1;
            for (int i = 0; i < items; i++)
            {
                float magnitude = Math.Abs(tall[i * k + c]);
                if (magnitude > bestMagnitude)
                {
                    bestMagnitude = magnitude;
                    best = i;
                }
            }
            factor[j] = tall[best * k + c] < 0 ? -f.Scale[c] : f.Scale[c];
        }
        for (int i = 0; i < items; i++)
        {
            ReadOnlySpan<float> from = tall.AsSpan(i * k, k);
            Span<float> to = w.AsSpan(i * d, d);
            Span<double> sum = fused.AsSpan(i * d, d);
            for (int j = 0; j < rank; j++)
            {
                float value = (float)(factor[j] * from[source[j]]) * scale;
                to[j] = value;
                sum[j] += share * value;
            }
            to[rank..].Clear();   // w is uninitialized: the columns past the rank are written as zeros
        }
        return new WhiteningModalityResult(name, w, singular, rank);
    }

    // Everything is checked before any work: shapes, weights, then every feature value.
    private static int Validate(IReadOnlyList<WhiteningModality> modalities, WhiteningOptions options, CpuOptions host)
    {
        ArgumentNullException.ThrowIfNull(modalities);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (modalities.Count == 0)
        {
            throw new ArgumentException("At least one modality is needed.", nameof(modalities));
        }
        int items = -1;
        for (int index = 0; index < modalities.Count; index++)
        {
            WhiteningModality m = modalities[index];
            string name = m.Name ?? $"modality {index}";
            if (m.Columns < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(modalities), m.Columns, $"{name}: the feature width must be at least 1.");
            }
            if (m.Features.Length % m.Columns != 0)
            {
                throw new ArgumentException($"{name}: {m.Features.Length} features are not a whole number of rows of width {m.Columns}.", nameof(modalities));
            }
            int rows = m.Features.Length / m.Columns;
            if (rows == 0)
            {
                throw new ArgumentException($"{name}: there must be at least one item.", nameof(modalities));
            }
            if (items >= 0 && rows != items)
            {
                throw new ArgumentException($"{name} has {rows} rows but {modalities[0].Name ?? "modality 0"} has {items}: every modality needs one row per item.", nameof(modalities));
            }
            items = rows;
            if (!double.IsFinite(m.Weight) || m.Weight <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(modalities), m.Weight, $"{name}: the weight must be finite and positive.");
            }
        }
        for (int index = 0; index < modalities.Count; index++)
        {
            WhiteningModality m = modalities[index];
            int k = FirstNonFinite(m.Features, SimdTiers.Resolve(host.Tier), host.EffectiveThreads);
            if (k >= 0)
            {
                float bad = m.Features.Span[k];
                throw new ArgumentException($"{m.Name ?? $"modality {index}"}: feature at row {k / m.Columns}, column {k % m.Columns} is {bad}; features must be finite.", nameof(modalities));
            }
        }
        return items;
    }

    /// <summary>
    /// The index of the first NaN or infinite feature, or −1: a scan in vectors of <paramref name="tier"/>, split over
    /// <paramref name="threads"/> for large inputs; the first part with a bad value is rescanned element by element.
    /// </summary>
    internal static int FirstNonFinite(ReadOnlyMemory<float> features, SimdTier tier, int threads)
    {
        var job = new FiniteScan(features, tier);
        CpuWorkerPool.Shared.Run(job, features.Length >= 1 << 22 ? threads : 1);
        foreach (int k in job.FirstBad)
        {
            if (k >= 0)
            {
                return k;   // parts are in index order: the first part with a bad value has the first bad index
            }
        }
        return -1;
    }

    private sealed unsafe class FiniteScan : ParallelJob, ISimdParts
    {
        private const int Chunk = 1 << 18;
        private readonly ReadOnlyMemory<float> _features;
        private readonly SimdTier _tier;

        public FiniteScan(ReadOnlyMemory<float> features, SimdTier tier)
        {
            _features = features;
            _tier = tier;
            PartCount = (features.Length + Chunk - 1) / Chunk;
            FirstBad = new int[PartCount];
        }

        public int[] FirstBad { get; }

        public override void Execute(int part) => SimdDispatch.RunPart(_tier, this, part);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void ExecutePart<TFloat, TDouble>(int part)
            where TFloat : struct, IFloatVector<TFloat>
            where TDouble : struct, IDoubleVector<TDouble>
        {
            int start = part * Chunk;
            ReadOnlySpan<float> f = _features.Span.Slice(start, Math.Min(Chunk, _features.Length - start));
            FirstBad[part] = -1;
            int p = 0, w = TFloat.Count;
            fixed (float* x = f)
            {
                for (; p <= f.Length - w; p += w)
                {
                    if (TFloat.AnyNonFinite(TFloat.Load(x + p)))
                    {
                        break;
                    }
                }
            }
            for (int k = p; k < f.Length; k++)
            {
                if (!float.IsFinite(f[k]))
                {
                    FirstBad[part] = start + k;
                    return;
                }
            }
        }
    }
}
