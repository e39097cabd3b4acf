// validate rows for the EmbeddingUpdate family: one AdamW step and one BSC-AdamW step (row-norm
// clip on) per SIMD tier and ILGPU backend, from a state after three steps so m and v are not
// trivial, against EmbeddingUpdateReference. The error column is the largest error over E, m
// and v relative to each element's first-order float32 bound; it must stay ≤ 1.
using System.Diagnostics;

namespace Stair.Kernels.Validation;

internal static class EmbeddingUpdateValidation
{
    private const int Layers = 3;

    public static void Run(ValidationOptions options, List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        var sizes = new List<(int Items, int Width)> { (700, 33) };
        if (options.IncludeBabyShape)
        {
            sizes.Add((7_050, 64));
        }
        foreach ((int items, int width) in sizes)
        {
            CsrMatrix graph = ItemGraph(items, options.Seed + 30);
            string size = $"{items:N0} items, S̃ nnz {graph.NonZeros:N0}, d={width}";
            float[] b = StepwiseWeights.Backward(width, 0.2);
            var adamW = new AdamWOptions(1e-3f, WeightDecay: 0.1f, Clip: UpdateClip.RowNorm(0.25f * MathF.Sqrt(width)));
            float[] table = SyntheticGraphs.UniformTable(items * width, options.Seed + 31);
            float[] gradient = SyntheticGraphs.UniformTable(items * width, options.Seed + 32);
            // A state three steps in, computed by the reference path's inputs on the scalar tier.
            var warm = new AdamState(items, width);
            float[] warmTable = (float[])table.Clone();
            for (int s = 0; s < 3; s++)
            {
                EmbeddingUpdate.AdamWStep(warmTable, SyntheticGraphs.UniformTable(items * width, options.Seed + 40 + (ulong)s), warm, adamW, new CpuOptions(SimdTier.Scalar));
            }
            AdamReferenceStep plain = EmbeddingUpdateReference.Step(warmTable, gradient, warm.M, warm.V, warm.Step, width, adamW);
            AdamReferenceStep bsc = EmbeddingUpdateReference.Step(warmTable, gradient, warm.M, warm.V, warm.Step, width, adamW, graph, b, Layers);

            if (options.EffectiveBackends.Contains(Backend.Cpu))
            {
                foreach (SimdTier tier in SimdTiers.Supported)
                {
                    var plan = new PropagationPlan(graph, new CpuOptions(tier));
                    var workspace = new BscWorkspace(items, width);
                    string backend = "cpu/" + tier.ToString().ToLowerInvariant();
                    foreach (bool smoothed in new[] { false, true })
                    {
                        float[] e = [];
                        AdamState state = null!;
                        void Prepare()
                        {
                            e = (float[])warmTable.Clone();
                            state = Clone(warm);
                        }
                        void Step()
                        {
                            if (smoothed)
                            {
                                EmbeddingUpdate.BscAdamWStep(e, gradient, state, plan, b, Layers, workspace, adamW);
                            }
                            else
                            {
                                EmbeddingUpdate.AdamWStep(e, gradient, state, adamW, new CpuOptions(tier));
                            }
                        }
                        Prepare();
                        Step();
                        double error = (smoothed ? bsc : plain).MaxScaledError(e, state.M, state.V);
                        Add(results, progress, smoothed ? "bsc-adamw" : "adamw", backend, size, error, Time(Prepare, Step, options.Repeats));
                    }
                }
            }
            foreach (Backend backend in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
            {
                if (!options.EffectiveBackends.Contains(backend) || !BackendDiscovery.IsAvailable(backend) || (backend == Backend.IlgpuCpu && items > 1_000))
                {
                    continue;
                }
                KernelValidator.Guard("adamw", backend, size, results, progress, () =>
                {
                    using ComputeContext context = ComputeContext.Create(backend);
                    using DeviceTable e = context.CreateTable(items, width);
                    using DeviceTable g = context.Upload(gradient, items, width);
                    using DeviceAdamState state = context.CreateAdamState(items, width);
                    using DeviceGraph s = context.Upload(graph);
                    using StepwiseFilter filter = context.CreateFilter(b, Layers);
                    string name = backend switch { Backend.Cuda => "cuda", Backend.OpenCL => "opencl", _ => "ilgpu-cpu" };
                    foreach (bool smoothed in new[] { false, true })
                    {
                        void Prepare()
                        {
                            e.Upload(warmTable);
                            state.M.Upload(warm.M);
                            state.V.Upload(warm.V);
                            state.SetStep(warm.Step);
                        }
                        void Step()
                        {
                            if (smoothed)
                            {
                                context.BscAdamWStep(e, g, state, s, filter, adamW);
                            }
                            else
                            {
                                context.AdamWStep(e, g, state, adamW);
                            }
                        }
                        Prepare();
                        Step();
                        double error = (smoothed ? bsc : plain).MaxScaledError(e.ToArray(), state.M.ToArray(), state.V.ToArray());
                        Add(results, progress, smoothed ? "bsc-adamw" : "adamw", name, size, error, Time(Prepare, Step, options.Repeats));
                    }
                });
            }
        }
    }

    /// <summary>An S̃-shaped graph: 5 "text" + 1 "visual" random neighbours per item, symmetrized, symmetric-normalized; the last two items isolated.</summary>
    internal static CsrMatrix ItemGraph(int items, ulong seed)
    {
        var rng = new SplitMix64(seed);
        int connected = items - 2;
        var sources = new int[connected * 6];
        var targets = new int[connected * 6];
        for (int i = 0, e = 0; i < connected; i++)
        {
            for (int k = 0; k < 6; k++, e++)
            {
                int j = (int)(rng.NextDouble() * (connected - 1));
                sources[e] = i;
                targets[e] = j >= i ? j + 1 : j;
            }
        }
        return GraphBuilder.FromEdges(items, items, sources, targets, [], symmetrize: true, GraphNormalization.Symmetric);
    }

    private static AdamState Clone(AdamState s)
    {
        var c = new AdamState(s.Rows, s.Width);
        s.M.CopyTo(c.M, 0);
        s.V.CopyTo(c.V, 0);
        c.SetStep(s.Step);
        return c;
    }

    private static void Add(List<ValidationResult> results, Action<ValidationResult>? progress, string kernel, string backend, string size, double error, double ms)
    {
        var result = new ValidationResult(kernel, backend, size, error, 1.0, ms);
        results.Add(result);
        progress?.Invoke(result);
    }

    // Median time of the step alone (the state is restored, untimed, before each run).
    private static double Time(Action prepare, Action step, int repeats)
    {
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            prepare();
            long start = Stopwatch.GetTimestamp();
            step();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
    }
}
