// Every public entry point of the propagation family rejects bad input with the right
// exception, naming the parameter, before it writes anything; the hot path allocates nothing.
using Stair.Kernels.Tests.Infrastructure;
using static Stair.Kernels.Tests.Infrastructure.ArgumentAssert;

namespace Stair.Kernels.Tests.Propagation;

public class PropagationValidationTests
{
    private const int D = 4;
    private const int L = 3;

    // A non-symmetric square matrix (12 × 12) and a rectangular one (9 × 5), both with empty rows.
    private static readonly CsrMatrix SquareMatrix = TestGraphs.RandomPowerLaw(12, 12, seed: 4);
    private static readonly CsrMatrix RectMatrix = TestGraphs.RandomPowerLaw(9, 5, seed: 6);
    private static readonly PropagationPlan Square = new(SquareMatrix, new CpuOptions(Threads: 2));
    private static readonly PropagationPlan Rect = new(RectMatrix, new CpuOptions(Threads: 2));
    private static readonly PropagationPlan Empty = new(new CsrMatrix(0, 0, [0], [], []));
    private static readonly float[] Beta = StepwiseWeights.Forward(D, 0.3);

    /// <summary>
    /// A call that must be rejected: the exception type it must throw (exactly), the parameter it
    /// must name, and the buffer it must leave as it was (usually the output, filled with the sentinel).
    /// </summary>
    public sealed record BadCall(Type Exception, string ParamName, float[] Watched, Action Call);

    private static float[] Table(int rows) => TestGraphs.Table(rows, D, seed: rows);

    private static PropagationWorkspace Workspace(int rows = 12, int width = D) => new(rows, width);

    // ---- Spmm ---------------------------------------------------------------------------

    private static readonly Dictionary<string, Func<BadCall>> SpmmCases = new()
    {
        ["null plan"] = () => Bad<ArgumentNullException>("plan", Poisoned(9 * D),
            o => Kernels.Propagation.Spmm(null!, Table(5), o, D)),
        ["input has the output's row count"] = () => Bad<ArgumentException>("input", Poisoned(9 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(9), o, D)),
        ["input one float short"] = () => Bad<ArgumentException>("input", Poisoned(9 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(5).AsSpan(1), o, D)),
        ["output has the input's row count"] = () => Bad<ArgumentException>("output", Poisoned(5 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(5), o, D)),
        ["output one float long"] = () => Bad<ArgumentException>("output", Poisoned(9 * D + 1),
            o => Kernels.Propagation.Spmm(Rect, Table(5), o, D)),
        ["transposed: input shaped for the forward product"] = () => Bad<ArgumentException>("input", Poisoned(5 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(5), o, D, transpose: true)),
        ["transposed: output shaped for the forward product"] = () => Bad<ArgumentException>("output", Poisoned(9 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(9), o, D, transpose: true)),
        ["width 0"] = () => Bad<ArgumentOutOfRangeException>("width", Poisoned(9 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(5), o, 0)),
        ["width -1"] = () => Bad<ArgumentOutOfRangeException>("width", Poisoned(9 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(5), o, -1)),
        ["width disagreeing with both tables"] = () => Bad<ArgumentException>("input", Poisoned(9 * D),
            o => Kernels.Propagation.Spmm(Rect, Table(5), o, D + 1)),
        ["empty matrix, non-empty input"] = () => Bad<ArgumentException>("input", Poisoned(0),
            o => Kernels.Propagation.Spmm(Empty, Table(1), o, D)),
        ["output is the input array"] = () => Aliased(12 * D, 0, 0,
            (x, y) => Kernels.Propagation.Spmm(Square, x, y, D)),
        ["output overlaps the input by one row"] = () => Aliased(23 * D, 0, 11 * D,
            (x, y) => Kernels.Propagation.Spmm(Square, x, y, D)),
        ["output overlaps the input by one float"] = () => Aliased(24 * D - 1, 0, 12 * D - 1,
            (x, y) => Kernels.Propagation.Spmm(Square, x, y, D)),
        ["output starts before the input and overlaps it"] = () => Aliased(12 * D + 3, 3, 0,
            (x, y) => Kernels.Propagation.Spmm(Square, x, y, D)),
        ["transposed: output overlaps the input"] = () => Aliased(13 * D, 0, D,
            (x, y) => Kernels.Propagation.Spmm(Square, x, y, D, transpose: true)),
    };

    public static TheoryData<string> SpmmCaseNames() => new(SpmmCases.Keys);

    [Theory]
    [MemberData(nameof(SpmmCaseNames))]
    public void Spmm_rejects_bad_input_before_writing(string name) => Check(SpmmCases[name](), $"Spmm: {name}");

    // ---- Fsc (forward, transposed) and FscBackward -----------------------------------------

    public enum FscEntry { Forward, Backward }

    private delegate void FscCall(PropagationPlan plan, ReadOnlySpan<float> input, Span<float> output, int width, int layers,
        ReadOnlySpan<float> beta, PropagationWorkspace workspace);

    private static FscCall Entry(FscEntry entry) => entry switch
    {
        FscEntry.Forward => (p, x, y, d, l, b, w) => Kernels.Propagation.Fsc(p, x, y, d, l, b, w),
        _ => (p, x, y, d, l, b, w) => Kernels.Propagation.FscBackward(p, x, y, d, l, b, w),
    };

    // FscBackward's parameters are named for what they hold: outputGradient in, inputGradient out.
    private static string InputName(FscEntry entry) => entry == FscEntry.Backward ? "outputGradient" : "input";

    private static string OutputName(FscEntry entry) => entry == FscEntry.Backward ? "inputGradient" : "output";

    private static float[] BetaWith(int j, float value)
    {
        float[] beta = (float[])Beta.Clone();
        beta[j] = value;
        return beta;
    }

    private static readonly Dictionary<string, Func<FscEntry, BadCall>> FscCases = new()
    {
        ["null plan"] = e => Bad<ArgumentNullException>("plan", Poisoned(12 * D),
            o => Entry(e)(null!, Table(12), o, D, L, Beta, Workspace())),
        ["non-square matrix"] = e => Bad<ArgumentException>("plan", Poisoned(9 * D),
            o => Entry(e)(Rect, Table(9), o, D, L, Beta, Workspace())),
        ["input one row short"] = e => Bad<ArgumentException>(InputName(e), Poisoned(12 * D),
            o => Entry(e)(Square, Table(11), o, D, L, Beta, Workspace())),
        ["output one float short"] = e => Bad<ArgumentException>(OutputName(e), Poisoned(12 * D - 1),
            o => Entry(e)(Square, Table(12), o, D, L, Beta, Workspace())),
        ["output one row long"] = e => Bad<ArgumentException>(OutputName(e), Poisoned(13 * D),
            o => Entry(e)(Square, Table(12), o, D, L, Beta, Workspace())),
        ["width 0"] = e => Bad<ArgumentOutOfRangeException>("width", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, 0, L, Beta, Workspace())),
        ["layers -1"] = e => Bad<ArgumentOutOfRangeException>("layers", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, -1, Beta, Workspace())),
        ["beta one short"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, Beta.AsSpan(1), Workspace())),
        ["beta one long"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, [.. Beta, 0.5f], Workspace())),
        ["beta empty"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, [], Workspace())),
        ["beta NaN"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, BetaWith(2, float.NaN), Workspace())),
        ["beta +Inf"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, BetaWith(1, float.PositiveInfinity), Workspace())),
        ["beta -Inf"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, BetaWith(3, float.NegativeInfinity), Workspace())),
        ["beta negative"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, BetaWith(0, -0.25f), Workspace())),
        ["beta slightly negative"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, BetaWith(3, -float.Epsilon), Workspace())),
        ["beta one ulp above 1"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, BetaWith(2, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(1f) + 1)), Workspace())),
        ["beta 2"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, BetaWith(1, 2f), Workspace())),
        ["beta bad with zero layers (the copy path)"] = e => Bad<ArgumentException>("beta", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, 0, BetaWith(1, float.NaN), Workspace())),
        ["null workspace"] = e => Bad<ArgumentNullException>("workspace", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, Beta, null!)),
        ["workspace one row short"] = e => Bad<ArgumentException>("workspace", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, Beta, Workspace(rows: 11))),
        ["workspace wider"] = e => Bad<ArgumentException>("workspace", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, Beta, Workspace(width: D + 1))),
        ["workspace narrower"] = e => Bad<ArgumentException>("workspace", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, L, Beta, Workspace(width: D - 1))),
        ["workspace too small with zero layers (the copy path)"] = e => Bad<ArgumentException>("workspace", Poisoned(12 * D),
            o => Entry(e)(Square, Table(12), o, D, 0, Beta, Workspace(rows: 3))),
        ["workspace of another width on an empty graph"] = e => Bad<ArgumentException>("workspace", Poisoned(0),
            o => Entry(e)(Empty, [], o, D, L, Beta, Workspace(rows: 0, width: D + 1))),
        ["output is the input array"] = e => Aliased(12 * D, 0, 0, OutputName(e),
            (x, y) => Entry(e)(Square, x, y, D, L, Beta, Workspace())),
        ["output overlaps the input by one row"] = e => Aliased(23 * D, 0, 11 * D, OutputName(e),
            (x, y) => Entry(e)(Square, x, y, D, L, Beta, Workspace())),
        ["output starts before the input and overlaps it"] = e => Aliased(12 * D + 1, 1, 0, OutputName(e),
            (x, y) => Entry(e)(Square, x, y, D, L, Beta, Workspace())),
        ["output overlaps the input with zero layers (the copy path)"] = e => Aliased(12 * D + 5, 0, 5, OutputName(e),
            (x, y) => Entry(e)(Square, x, y, D, 0, Beta, Workspace())),
        ["output overlaps β"] = e => BetaInsideOutput(OutputName(e), (b, y) => Entry(e)(Square, Table(12), y, D, L, b, Workspace())),
    };

    public static TheoryData<FscEntry, string> FscCaseNames()
    {
        var data = new TheoryData<FscEntry, string>();
        foreach (FscEntry entry in Enum.GetValues<FscEntry>())
        {
            foreach (string name in FscCases.Keys)
            {
                data.Add(entry, name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FscCaseNames))]
    public void Fsc_rejects_bad_input_before_writing(FscEntry entry, string name) => Check(FscCases[name](entry), $"{entry}: {name}");

    [Theory]
    [InlineData(FscEntry.Forward)]
    [InlineData(FscEntry.Backward)]
    public void Beta_message_names_the_first_offending_dimension(FscEntry entry)
    {
        float[] beta = [0.5f, 1.5f, 0.25f, float.NaN];
        var ex = Throws("beta", () => Entry(entry)(Square, Table(12), new float[12 * D], D, L, beta, Workspace()));
        NamesIndex(ex, 1, 3);
    }

    // ---- Positive controls: the fixtures above fail only for the one thing each case breaks ----

    [Fact]
    public void Valid_calls_on_the_same_fixtures_succeed_and_write_every_element()
    {
        float[] y = Poisoned(9 * D);
        Kernels.Propagation.Spmm(Rect, Table(5), y, D);
        Assert.DoesNotContain(Sentinel, y);

        float[] yt = Poisoned(5 * D);
        Kernels.Propagation.Spmm(Rect, Table(9), yt, D, transpose: true);
        Assert.DoesNotContain(Sentinel, yt);

        // β at both ends of [0, 1] (and −0) is allowed; a workspace larger than needed is fine.
        float[] edges = [0f, 1f, -0f, 0.5f];
        foreach (FscEntry entry in Enum.GetValues<FscEntry>())
        {
            foreach (int layers in new[] { 0, 1, L })
            {
                float[] f = Poisoned(12 * D);
                Entry(entry)(Square, Table(12), f, D, layers, edges, Workspace(rows: 20));
                Assert.DoesNotContain(Sentinel, f);
            }
        }

        // Adjacent, non-overlapping slices of one array are not an overlap.
        float[] shared = new float[24 * D];
        Table(12).CopyTo(shared, 0);
        shared.AsSpan(12 * D).Fill(Sentinel);
        Kernels.Propagation.Spmm(Square, shared.AsSpan(0, 12 * D), shared.AsSpan(12 * D), D);
        Kernels.Propagation.Fsc(Square, shared.AsSpan(0, 12 * D), shared.AsSpan(12 * D), D, L, Beta, Workspace());
        Assert.DoesNotContain(Sentinel, shared);

        // Empty graphs with matching (empty) tables are valid.
        Kernels.Propagation.Spmm(Empty, [], [], D);
        Kernels.Propagation.Fsc(Empty, [], [], D, L, Beta, Workspace(rows: 0));
    }

    // ---- Plan, workspace, options, tiers ---------------------------------------------------

    [Fact]
    public void PropagationPlan_rejects_null_matrix_and_bad_options()
    {
        Assert.Equal("matrix", Assert.Throws<ArgumentNullException>(() => new PropagationPlan(null!)).ParamName);
        var threads = Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationPlan(SquareMatrix, new CpuOptions(Threads: -1)));
        Assert.Equal("Threads", threads.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationPlan(SquareMatrix, new CpuOptions(Threads: int.MinValue)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationPlan(SquareMatrix, new CpuOptions((SimdTier)99)));

        // Zero means one thread per core.
        Assert.Equal(Environment.ProcessorCount, new PropagationPlan(SquareMatrix, new CpuOptions(Threads: 0)).Threads);
        Assert.Equal(3, new PropagationPlan(SquareMatrix, new CpuOptions(Threads: 3)).Threads);
    }

    [Fact]
    public void PropagationWorkspace_rejects_bad_sizes()
    {
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationWorkspace(-1, D)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationWorkspace(10, 0)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationWorkspace(10, -4)).ParamName);
        // Too large for one .NET array: a clean argument error, not an overflow or out-of-memory.
        Assert.Throws<ArgumentOutOfRangeException>(() => new PropagationWorkspace(int.MaxValue, 2));
        var empty = new PropagationWorkspace(0, D);
        Assert.Equal(0, empty.Rows);
        Assert.Equal(D, empty.Width);
    }

    [Fact]
    public void Unsupported_or_unknown_simd_tiers_are_rejected()
    {
        Assert.Contains(SimdTier.Scalar, SimdTiers.Supported);
        Assert.Equal(SimdTiers.Best, SimdTiers.Resolve(SimdTier.Auto));
        Assert.Equal(SimdTiers.Supported[^1], SimdTiers.Best);
        Assert.Equal(SimdTiers.Best, new PropagationPlan(SquareMatrix).Tier);
        Assert.Equal("tier", Assert.Throws<ArgumentOutOfRangeException>(() => SimdTiers.Resolve((SimdTier)99)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SimdTiers.Resolve((SimdTier)(-1)));

        foreach (SimdTier tier in new[] { SimdTier.Scalar, SimdTier.Avx2, SimdTier.Avx512 })
        {
            if (SimdTiers.Supported.Contains(tier))
            {
                Assert.True(SimdTiers.IsSupported(tier));
                Assert.Equal(tier, SimdTiers.Resolve(tier));
                Assert.Equal(tier, new PropagationPlan(SquareMatrix, new CpuOptions(tier)).Tier);
            }
            else
            {
                Assert.False(SimdTiers.IsSupported(tier));
                Assert.Throws<NotSupportedException>(() => SimdTiers.Resolve(tier));
                Assert.Throws<NotSupportedException>(() => new PropagationPlan(SquareMatrix, new CpuOptions(tier)));
            }
        }
    }

    // ---- Allocation-free hot path -------------------------------------------------------------

    public static TheoryData<SimdTier> Tiers() => new(TierCoverage.Expected());

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Spmm_and_Fsc_allocate_nothing_after_warm_up(SimdTier tier)
    {
        // Single-threaded, so every allocation the call could make happens on this thread.
        CsrMatrix a = TestGraphs.RandomPowerLaw(300, 300, seed: 13); // non-symmetric: separate transpose
        var plan = new PropagationPlan(a, new CpuOptions(tier, Threads: 1));
        const int d = 37;
        var workspace = new PropagationWorkspace(a.Rows, d);
        float[] beta = StepwiseWeights.Forward(d, 0.3);
        float[] x = TestGraphs.Table(a.Rows, d, seed: 1);
        float[] y = new float[x.Length];

        for (int call = 0; call < 2; call++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Kernels.Propagation.Spmm(plan, x, y, d);
            long spmm = GC.GetAllocatedBytesForCurrentThread() - before;

            before = GC.GetAllocatedBytesForCurrentThread();
            Kernels.Propagation.Spmm(plan, x, y, d, transpose: true);
            long spmmT = GC.GetAllocatedBytesForCurrentThread() - before;

            before = GC.GetAllocatedBytesForCurrentThread();
            Kernels.Propagation.Fsc(plan, x, y, d, L, beta, workspace);
            long fsc = GC.GetAllocatedBytesForCurrentThread() - before;

            before = GC.GetAllocatedBytesForCurrentThread();
            Kernels.Propagation.FscBackward(plan, x, y, d, L, beta, workspace);
            long fscBackward = GC.GetAllocatedBytesForCurrentThread() - before;

            if (call == 1) // the first call is the warm-up
            {
                Assert.Equal(0, spmm);
                Assert.Equal(0, spmmT);
                Assert.Equal(0, fsc);
                Assert.Equal(0, fscBackward);
            }
        }
    }

    // ---- Helpers ---------------------------------------------------------------------------

    private static BadCall Bad<TException>(string paramName, float[] output, Action<float[]> call) where TException : Exception
        => new(typeof(TException), paramName, output, () => call(output));

    /// <summary>
    /// One array of <paramref name="length"/> floats holding a table; the input is the N·d floats
    /// from <paramref name="inputStart"/>, the output the N·d floats from <paramref name="outputStart"/>.
    /// </summary>
    private static BadCall Aliased(int length, int inputStart, int outputStart, SpanAction call)
        => Aliased(length, inputStart, outputStart, "output", call);

    private static BadCall Aliased(int length, int inputStart, int outputStart, string outputName, SpanAction call)
    {
        float[] shared = TestGraphs.Table(length, 1, seed: length);
        int size = 12 * D;
        return new BadCall(typeof(ArgumentException), outputName, shared,
            () => call(shared.AsSpan(inputStart, size), shared.AsSpan(outputStart, size)));
    }

    private delegate void SpanAction(ReadOnlySpan<float> input, Span<float> output);

    // β is a valid vector (0.5 everywhere) lying inside the output table: the kernel would overwrite it mid-run.
    private static BadCall BetaInsideOutput(string outputName, SpanAction call)
    {
        float[] shared = new float[13 * D];
        shared.AsSpan().Fill(0.5f);
        return new BadCall(typeof(ArgumentException), outputName, shared,
            () => call(shared.AsSpan(12 * D, D), shared.AsSpan(D, 12 * D)));
    }

    private static void Check(BadCall bad, string what)
    {
        float[] before = (float[])bad.Watched.Clone();
        Exception ex = Assert.ThrowsAny<Exception>(bad.Call);
        Assert.True(bad.Exception == ex.GetType(), $"{what}: expected {bad.Exception.Name}, got {ex.GetType().Name}: {ex.Message}");
        Assert.Equal(bad.ParamName, ((ArgumentException)ex).ParamName);
        Untouched(before, bad.Watched, what);
    }
}
