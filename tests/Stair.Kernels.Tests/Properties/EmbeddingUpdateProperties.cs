// Properties of the EmbeddingUpdate family: one AdamW / Adam step, plain or BSC-smoothed (Δ̃ =
// FSC of Δ over a generated square graph), with no clip, a row-norm clip or an element clip, from
// a generated state (m, v, t) and gradient of any scale, matches EmbeddingUpdateReference.Step on
// every target: table, m and v each within the reference's per-element first-order bound (which
// already carries 2× slack; the example-based BackendEmbeddingUpdateTests hold every backend to
// exactly that bound), plus PropertyAssert's underflow floor carried through the step (an m
// rounded near 2⁻¹²⁶ moves Δ by at most that over c₁·ε). The clip count must match the
// reference's; a case with a row norm (or element) within 10⁻⁵ of the threshold, where float32
// and float64 may honestly disagree on clipping, is discarded and counted. CPU tiers agree bit
// for bit.
using CsCheck;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Properties;

public sealed record AdamCase(int Rows, int Width, float[] Table, float[] Gradient, float[] M, float[] V, long StepBefore, AdamWOptions Options,
    CsrCase? Graph, float[] Strengths, int Layers, int Threads)
{
    public override string ToString()
        => $"{Rows}×{Width}, t₀ = {StepBefore}, {Options}; graph = {(Graph is null ? "none" : Graph.ToString())}; L = {Layers}; b = {Show.Floats(Strengths)}; "
            + $"E = {Show.Floats(Table)}; g = {Show.Floats(Gradient)}; m = {Show.Floats(M)}; v = {Show.Floats(V)}; threads = {Threads}";
}

[Collection(nameof(PropertyCollection))]
public class EmbeddingUpdateProperties(PropertyContexts contexts)
{
    private static long _borderline, _clipping;

    public static TheoryData<string> Backends() => PropertyTarget.Backends();

    public static TheoryData<string> Targets() => PropertyTarget.Every();

    /// <summary>Gradient (and moment) scales: tiny, ordinary and large enough that Adam's Δ saturates and clips bite.</summary>
    private static readonly Gen<float> Scale = Gen.OneOf(1e-3f, 1f, 100f);

    /// <summary>A clip threshold factor in (0.3, 1.5), on a grid that avoids 1 and simple fractions (Δ is often ±1 exactly).</summary>
    private static readonly Gen<float> ClipFactor = Gen.Int[0, 999].Select(k => 0.3f + 1.2f * (k + 0.37f) / 1000f);

    private static Gen<AdamCase> Cases(Sizes sizes, bool bsc)
        => from graph in bsc ? Generators.Csr(sizes, square: true).Select(g => (CsrCase?)g) : Gen.Int[0, sizes.MaxRows].Select(r => (CsrCase?)new CsrCase(r, r, new int[r + 1], [], []))
           let rows = graph!.Rows
           from d in Generators.Width(sizes)
           from table in Generators.Table(rows * d)
           from gScale in Scale
           from gradient in Generators.Table(rows * d)
           from m in Generators.Table(rows * d)
           from v in Generators.Table(rows * d)
           from step in Gen.Frequency((2, (IGen<long>)Gen.Const(0L)), (3, Gen.Long[1, 1000]))
           from lr in Gen.OneOf(1e-3f, 1e-2f, 0.1f)
           from wd in Gen.OneOf(0f, 0.01f, 0.2f)
           from decoupled in Gen.Bool
           from clip in Gen.Int[0, 2]
           from factor in ClipFactor
           from strengths in Generators.Strength.Array[d]
           from layers in Gen.Int[0, bsc ? sizes.MaxLayers : 0]
           from threads in Generators.Threads
           select new AdamCase(rows, d, table, Scaled(gradient, gScale), step == 0 ? new float[rows * d] : Scaled(m, gScale),
               step == 0 ? new float[rows * d] : Squared(v, gScale), step,
               new AdamWOptions(lr, WeightDecay: wd, Decoupled: decoupled, Clip: clip switch
               {
                   1 => UpdateClip.RowNorm(factor * MathF.Sqrt(d)),
                   2 => UpdateClip.Element(factor),
                   _ => UpdateClip.None,
               }),
               bsc ? graph : null, strengths, layers, threads);

    private static float[] Scaled(float[] x, float scale) => Array.ConvertAll(x, e => e * scale);

    /// <summary>A second moment: v ≥ 0 on the scale of g².</summary>
    private static float[] Squared(float[] x, float scale) => Array.ConvertAll(x, e => Math.Abs(e) * scale * scale);

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void Adam_step_matches_float64(string targetName) => Property("adamw", targetName, bsc: false);

    [SkippableTheory]
    [MemberData(nameof(Targets))]
    public void Bsc_smoothed_adam_step_matches_float64(string targetName) => Property("bsc-adamw", targetName, bsc: true);

    private void Property(string name, string targetName, bool bsc)
    {
        PropertyTarget target = PropertyTarget.Named(targetName);
        target.SkipIfMissing();
        long before = Interlocked.Read(ref _borderline), clippingBefore = Interlocked.Read(ref _clipping);
        PropertyRun.Check(name, target, Cases(Sizes.For(target), bsc), c => Check(c, target), c => c.ToString());
        long discarded = Interlocked.Read(ref _borderline) - before;
        PropertyRun.Report($"{name}:borderline-discarded", target.Name, discarded, 0);
        PropertyRun.Report($"{name}:cases-that-clip", target.Name, Interlocked.Read(ref _clipping) - clippingBefore, 0); // the clip is exercised, not just configured
        // Borderline clips are rare (a 10⁻⁵-wide band of a continuous threshold); a flood of them would mean the generator stopped testing clipping.
        Assert.True(discarded * 10 <= (target.IsIlgpu ? PropertyRun.IlgpuIterations : PropertyRun.Iterations), $"{discarded} cases discarded as borderline clips");
    }

    private void Check(AdamCase c, PropertyTarget target)
    {
        CsrMatrix? graph = c.Graph?.Matrix();
        AdamReferenceStep expected = Reference(c, graph, c.Options);
        if (c.Options.Clip.Mode != ClipMode.None)
        {
            // Within 10⁻⁵ of the threshold float32 and float64 may disagree on whether to clip: such a case proves nothing.
            long below = Reference(c, graph, c.Options with { Clip = c.Options.Clip with { Threshold = c.Options.Clip.Threshold * (1 - 1e-5f) } }).ClippedRows;
            long above = Reference(c, graph, c.Options with { Clip = c.Options.Clip with { Threshold = c.Options.Clip.Threshold * (1 + 1e-5f) } }).ClippedRows;
            if (below != above)
            {
                Interlocked.Increment(ref _borderline);
                return;
            }
        }
        if (expected.ClippedRows > 0)
        {
            Interlocked.Increment(ref _clipping);
        }
        double tableFloor = TableFloor(c);
        float[]? first = null;
        foreach ((string label, ComputeContext context) in contexts.For(target, c.Threads))
        {
            using DeviceTable table = context.Upload(c.Table, c.Rows, c.Width);
            using DeviceTable gradient = context.Upload(c.Gradient, c.Rows, c.Width);
            using DeviceAdamState state = context.CreateAdamState(c.Rows, c.Width);
            state.M.Upload(c.M);
            state.V.Upload(c.V);
            state.SetStep(c.StepBefore);
            UpdateResult result;
            if (graph is not null)
            {
                using DeviceGraph g = context.Upload(graph);
                using StepwiseFilter filter = context.CreateFilter(c.Strengths, c.Layers);
                result = context.BscAdamWStep(table, gradient, state, g, filter, c.Options);
            }
            else
            {
                result = context.AdamWStep(table, gradient, state, c.Options);
            }
            Assert.False(result.Skipped, $"{label}: a finite gradient was skipped");
            Assert.Equal(c.StepBefore + 1, result.Step);
            Assert.True(expected.ClippedRows == result.ClippedRows, $"{label}: clipped {result.ClippedRows} rows, float64 clips {expected.ClippedRows}");
            float[] e = table.ToArray(), m = state.M.ToArray(), v = state.V.ToArray();
            PropertyAssert.Close(expected.M, expected.MBound, m, 1, MomentFloor, $"{label} m");
            PropertyAssert.Close(expected.V, expected.VBound, v, 1, MomentFloor, $"{label} v");
            PropertyAssert.Close(expected.Table, expected.TableBound, e, 1, tableFloor, $"{label} table");
            PropagationProperties.AssertSameBits(ref first, [.. e, .. m, .. v], label);
        }
    }

    private static AdamReferenceStep Reference(AdamCase c, CsrMatrix? graph, AdamWOptions options)
        => graph is null
            ? EmbeddingUpdateReference.Step(c.Table, c.Gradient, c.M, c.V, c.StepBefore, c.Width, options)
            : EmbeddingUpdateReference.Step(c.Table, c.Gradient, c.M, c.V, c.StepBefore, c.Width, options, graph, c.Strengths, c.Layers);

    /// <summary>m and v: a few roundings (g' = g + wd·E, a product, an fma), each losing at most 2⁻¹²⁶ to underflow; 2× slack.</summary>
    private const double MomentFloor = 8 * PropertyAssert.Underflow;

    /// <summary>
    /// E: m's floor reaches Δ divided by c₁·(√v̂ + ε) ≥ c₁·ε, grows through the filter like FSC's, then enters E times lr,
    /// plus E's own few roundings; 2× slack.
    /// </summary>
    private static double TableFloor(AdamCase c)
    {
        double c1 = 1 - Math.Pow(c.Options.Beta1, c.StepBefore + 1);
        double delta = 2 * MomentFloor / (c1 * c.Options.Epsilon) + 2 * PropertyAssert.Underflow;
        double smoothed = delta;
        if (c.Graph is not null && c.Layers > 0)
        {
            int terms = c.Graph.MaxTerms;
            smoothed = (c.Layers + 1) * Math.Pow(Math.Max(1, terms), c.Layers) * delta + PropertyAssert.FscFloor(terms, c.Layers);
        }
        return 2 * (4 * PropertyAssert.Underflow + c.Options.LearningRate * smoothed);
    }
}
