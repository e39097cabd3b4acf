// `validate` rows for EmbeddingUpdate: ten consecutive AdamW and BSC-AdamW steps (the BSC one
// with a row-norm clip) on every SIMD tier and backend, each step checked against the float64
// reference from the same float32 state; the row reports the worst step's error relative to
// the reference's rounding bound.
using System.Diagnostics;

namespace Stair.Kernels.Validation;

internal static class EmbeddingUpdateValidation
{
    private const int Layers = 3, Steps = 10;

    public static void Run(ValidationOptions options, List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        var cases = new List<(int Items, int Width)> { (500, 33) };
        if (options.IncludeBabyShape)
        {
            cases.Add((DatasetShape.Baby.Items, 64));
        }
        foreach ((int items, int d) in cases)
        {
            CsrMatrix graph = KnnShapedGraph(items, options.Seed + (ulong)items);
            float[] b = StepwiseWeights.Backward(d, 0.2);
            float[] start = SyntheticGraphs.UniformTable(items * d, options.Seed + 20);
            foreach ((string kernel, bool bsc, AdamWOptions adam) in new[]
            {
                ("adamw", false, new AdamWOptions(1e-2f, WeightDecay: 0.1f)),
                ("bsc-adamw-clip", true, new AdamWOptions(1e-2f, WeightDecay: 0.1f, Clip: UpdateClip.RowNorm(0.05f))),
            })
            {
                string size = $"{items:N0}×{d}, {Steps} steps{(bsc ? $", S̃ nnz {graph.NonZeros:N0}, L={Layers}" : "")}";
                foreach (Backend backend in new[] { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
                {
                    if (!options.EffectiveBackends.Contains(backend) || !BackendDiscovery.IsAvailable(backend)
                        || (backend == Backend.IlgpuCpu && items * d > 20_000))
                    {
                        continue;
                    }
                    IEnumerable<SimdTier> tiers = backend == Backend.Cpu ? SimdTiers.Supported : [SimdTier.Auto];
                    foreach (SimdTier tier in tiers)
                    {
                        using ComputeContext context = ComputeContext.Create(backend, new CpuOptions(tier));
                        using DeviceTable table = context.Upload(start, items, d);
                        using DeviceTable gradient = context.CreateTable(items, d);
                        using DeviceAdamState state = context.CreateAdamState(items, d);
                        using DeviceGraph s = context.Upload(graph);
                        using StepwiseFilter filter = context.CreateFilter(b, Layers);
                        float[] e = (float[])start.Clone(), m = new float[items * d], v = new float[items * d];
                        double worst = 0;
                        var times = new double[Steps];
                        for (int step = 1; step <= Steps; step++)
                        {
                            float[] g = SyntheticGraphs.UniformTable(items * d, options.Seed + 100 + (ulong)step);
                            gradient.Upload(g);
                            AdamReferenceStep expected = EmbeddingUpdateReference.Step(e, g, m, v, step - 1, d, adam, bsc ? graph : null, b, bsc ? Layers : 0);
                            long t0 = Stopwatch.GetTimestamp();
                            UpdateResult r = bsc ? context.BscAdamWStep(table, gradient, state, s, filter, adam) : context.AdamWStep(table, gradient, state, adam);
                            times[step - 1] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            e = table.ToArray();
                            (m, v) = state.DownloadMoments();
                            double error = expected.MaxScaledError(e, m, v);
                            if (r.Skipped || r.ClippedRows != expected.ClippedRows)
                            {
                                error = double.PositiveInfinity;
                            }
                            worst = Math.Max(worst, error);
                        }
                        Array.Sort(times);
                        string name = backend switch
                        {
                            Backend.Cpu => "cpu/" + tier.ToString().ToLowerInvariant(),
                            Backend.IlgpuCpu => "ilgpu-cpu",
                            Backend.OpenCL => "opencl",
                            _ => "cuda",
                        };
                        // The bound counts the CPU's fused roundings; ILGPU multiplies then adds (one more rounding each).
                        var row = new ValidationResult(kernel, name, size, worst, backend == Backend.Cpu ? 1 : 2, times[Steps / 2]);
                        results.Add(row);
                        progress?.Invoke(row);
                    }
                }
            }
        }
    }

    // An S̃-shaped graph: five "text" and one "visual" random neighbours per item, symmetrized by max, symmetric-normalized.
    internal static CsrMatrix KnnShapedGraph(int items, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var sources = new int[items * 6];
        var targets = new int[items * 6];
        for (int i = 0, k = 0; i < items; i++)
        {
            for (int n = 0; n < 6; n++, k++)
            {
                int j = (int)(rng.NextUInt64() % (ulong)(items - 1));
                sources[k] = i;
                targets[k] = j >= i ? j + 1 : j;
            }
        }
        return GraphBuilder.FromEdges(items, items, sources, targets, [], symmetrize: true, GraphNormalization.Symmetric);
    }
}
