// One parallel run of a propagation kernel over a prepared CSR matrix: the fields are set
// by the caller for each run (pointers into pinned memory), so nothing is allocated per call.
namespace Stair.Kernels.Cpu.Propagation;

internal sealed unsafe class PropagationJob : ParallelJob
{
    public CsrView Matrix;
    public int[] Bounds = [];
    public SimdTier Tier;
    public float* Input;
    public int Width;

    // Epilogue choice and its operands.
    public bool Fused;
    public float* Output;
    public float* Seed;
    public float* Beta;
    public float* Scale;
    public bool Last;

    /// <summary>Non-null: flags of the input's all-zero rows, whose entries are skipped (bitwise neutral).</summary>
    public byte* ZeroRows;

    [ThreadStatic]
    private static PropagationJob? _cached;

    /// <summary>The calling thread's reusable job, set up for one product over <paramref name="matrix"/>.</summary>
    public static PropagationJob ForCurrentThread(CsrView matrix, PropagationPlan plan, bool transpose, int width, bool fused)
    {
        PropagationJob job = _cached ??= new PropagationJob();
        job.Matrix = matrix;
        job.Bounds = plan.Bounds(transpose);
        job.Tier = plan.Tier;
        job.Width = width;
        job.Fused = fused;
        job.ZeroRows = null;
        return job;
    }

    public void Run(int threads)
    {
        PartCount = Bounds.Length - 1;
        CpuWorkerPool.Shared.Run(this, threads);
    }

    public override void Execute(int part)
    {
        if (ZeroRows != null)
        {
            Execute(part, new SkipZeroRows(ZeroRows));
        }
        else
        {
            Execute(part, new AllColumns());
        }
    }

    private void Execute<TFilter>(int part, TFilter filter)
        where TFilter : struct, IColumnFilter
    {
        int start = Bounds[part], end = Bounds[part + 1];
        if (Fused && Last)
        {
            SpmmDrivers.Rows(Tier, Matrix, Input, Width, start, end, new FscLayerEpilogue<LastLayer>(Output, Seed, Beta, Scale, Width), filter);
        }
        else if (Fused)
        {
            SpmmDrivers.Rows(Tier, Matrix, Input, Width, start, end, new FscLayerEpilogue<InnerLayer>(Output, Seed, Beta, Scale, Width), filter);
        }
        else
        {
            SpmmDrivers.Rows(Tier, Matrix, Input, Width, start, end, new StoreEpilogue(Output, Width), filter);
        }
    }
}
