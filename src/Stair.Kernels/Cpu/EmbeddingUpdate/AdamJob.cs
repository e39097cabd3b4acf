// One parallel pass of an embedding update over a table's rows. The rows are split into equal
// parts (every row costs the same here); each part runs the element-wise operators of
// AdamOperators.cs over its rows, so which thread takes a part never changes a result. The
// fields are set per run (pointers into pinned memory): nothing is allocated per step.
using System.Runtime.CompilerServices;

namespace Stair.Kernels.Cpu.EmbeddingUpdate;

internal enum AdamPass
{
    /// <summary>Does the gradient hold a NaN or ±∞? (reads only)</summary>
    Scan,

    /// <summary>The whole unsmoothed step: moments, clip, apply.</summary>
    Fused,

    /// <summary>Moments and Δ into the Delta table (before smoothing).</summary>
    Moments,

    /// <summary>Clip and apply the smoothed Δ̃ read from the Delta table.</summary>
    Apply,
}

[SkipLocalsInit]
internal sealed unsafe class AdamJob : ParallelJob
{
    private const int PartsPerThread = 4;

    public AdamPass Pass;
    public SimdTier Tier;
    public AdamTables Tables;
    public AdamScalars Scalars;
    public int Rows;
    public int Width;
    public bool L2;
    public ClipMode Clip;

    private int[] _flags = [];
    private long[] _clipped = [];
    private float[] _rowScratch = [];
    private float* _rowScratchPointer;

    [ThreadStatic]
    private static AdamJob? _cached;

    /// <summary>The calling thread's reusable job for a rows × width table on <paramref name="threads"/> threads.</summary>
    public static AdamJob ForCurrentThread(SimdTier tier, int rows, int width, int threads)
    {
        AdamJob job = _cached ??= new AdamJob();
        job.Tier = tier;
        job.Rows = rows;
        job.Width = width;
        job.PartCount = threads <= 1 ? 1 : Math.Max(1, Math.Min(rows, threads * PartsPerThread));
        if (job._flags.Length < job.PartCount)
        {
            job._flags = new int[job.PartCount];
            job._clipped = new long[job.PartCount];
        }
        long scratch = (long)job.PartCount * width;
        if (job._rowScratch.Length < scratch)
        {
            job._rowScratch = GC.AllocateUninitializedArray<float>((int)scratch, pinned: true);
            job._rowScratchPointer = (float*)Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(job._rowScratch));
        }
        return job;
    }

    /// <summary>Runs <paramref name="pass"/> over every part; returns the OR of the scan flags or the clipped-row count.</summary>
    public long Run(AdamPass pass, int threads)
    {
        Pass = pass;
        int parts = PartCount;
        Array.Clear(_flags, 0, parts);
        Array.Clear(_clipped, 0, parts);
        CpuWorkerPool.Shared.Run(this, threads);
        PartCount = parts; // the pool leaves it as it was; kept explicit for the next pass
        long total = 0;
        for (int p = 0; p < parts; p++)
        {
            total += pass == AdamPass.Scan ? _flags[p] : _clipped[p];
        }
        return total;
    }

    public override void Execute(int part)
    {
        int rowStart = (int)((long)Rows * part / PartCount), rowEnd = (int)((long)Rows * (part + 1) / PartCount);
        long start = (long)rowStart * Width, end = (long)rowEnd * Width;
        switch (Pass)
        {
            case AdamPass.Scan:
                _flags[part] = ElementDriver.AnyNonFinite(Tier, Tables.Gradient, start, end) ? 1 : 0;
                break;
            case AdamPass.Moments:
                if (L2)
                {
                    var op = new MomentsOp<Enabled>(Tables, Scalars);
                    ElementDriver.Run(Tier, start, end, ref op);
                }
                else
                {
                    var op = new MomentsOp<Disabled>(Tables, Scalars);
                    ElementDriver.Run(Tier, start, end, ref op);
                }
                break;
            case AdamPass.Fused:
                _clipped[part] = L2 ? Fused<Enabled>(part, rowStart, rowEnd) : Fused<Disabled>(part, rowStart, rowEnd);
                break;
            default:
                _clipped[part] = Apply(Tables, rowStart, rowEnd);
                break;
        }
    }

    private long Fused<TL2>(int part, int rowStart, int rowEnd)
        where TL2 : struct, ICompileTimeFlag
    {
        long start = (long)rowStart * Width, end = (long)rowEnd * Width;
        switch (Clip)
        {
            case ClipMode.None:
            {
                var op = new FusedStepOp<TL2, Disabled>(Tables, Scalars);
                ElementDriver.Run(Tier, start, end, ref op);
                return 0;
            }
            case ClipMode.Element:
            {
                var op = new FusedStepOp<TL2, Enabled>(Tables, Scalars);
                return ElementDriver.RunCountingClampedRows(Tier, start, end, Width, ref op);
            }
            default:
            {
                // A row's norm is known only once its whole Δ is: Δ goes to this part's row buffer
                // (L1-resident), then the row is applied from there with its scale.
                AdamTables tables = Tables;
                float* buffer = _rowScratchPointer + (long)part * Width;
                long clipped = 0;
                for (int row = rowStart; row < rowEnd; row++)
                {
                    long i = (long)row * Width;
                    tables.Delta = buffer - i;
                    var moments = new MomentsOp<TL2>(tables, Scalars);
                    ElementDriver.Run(Tier, i, i + Width, ref moments);
                    clipped += ApplyRow(tables, row);
                }
                return clipped;
            }
        }
    }

    private long Apply(AdamTables tables, int rowStart, int rowEnd)
    {
        long start = (long)rowStart * Width, end = (long)rowEnd * Width;
        switch (Clip)
        {
            case ClipMode.None:
            {
                var op = new ApplyOp<Disabled, Disabled>(tables, Scalars, 1f);
                ElementDriver.Run(Tier, start, end, ref op);
                return 0;
            }
            case ClipMode.Element:
            {
                var op = new ApplyOp<Disabled, Enabled>(tables, Scalars, 1f);
                return ElementDriver.RunCountingClampedRows(Tier, start, end, Width, ref op);
            }
            default:
            {
                long clipped = 0;
                for (int row = rowStart; row < rowEnd; row++)
                {
                    clipped += ApplyRow(tables, row);
                }
                return clipped;
            }
        }
    }

    // Row-norm clip of one row of Delta, then apply. The test is against the lowered target
    // τ' = τ(1 − (d+8)u), not τ: a computed norm ≤ τ' proves the true norm ≤ τ despite the rounding of
    // the sum of squares, so every row that leaves here has norm ≤ τ exactly. A row under τ' is applied
    // exactly as without a clip (no multiply), so it matches the unclipped step bit for bit.
    private int ApplyRow(AdamTables tables, int row)
    {
        long i = (long)row * Width;
        float norm = MathF.Sqrt(ElementDriver.RowSumOfSquares(Tier, tables.Delta + i, Width));
        if (norm > Scalars.SafeTau)
        {
            var scaled = new ApplyOp<Enabled, Disabled>(tables, Scalars, Scalars.SafeTau / norm);
            ElementDriver.Run(Tier, i, i + Width, ref scaled);
            return 1;
        }
        var plain = new ApplyOp<Disabled, Disabled>(tables, Scalars, 1f);
        ElementDriver.Run(Tier, i, i + Width, ref plain);
        return 0;
    }
}
