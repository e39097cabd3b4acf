// The engine behind `stair-kernels validate`: runs every kernel on every backend and SIMD
// tier this machine has, on seeded inputs of several sizes, against the float64
// reference, and times it. The CLI only prints what this returns.
using System.Diagnostics;

namespace Stair.Kernels.Validation;

/// <summary>One row of a validation run.</summary>
/// <param name="Kernel">Kernel name (spmm, spmm-t, fsc, fsc-backward, …).</param>
/// <param name="Backend">Backend and tier, e.g. <c>cpu/avx512</c>.</param>
/// <param name="Size">The input: graph, its size and the width d.</param>
/// <param name="MaxError">Largest error relative to the rounding scale (see <see cref="Float64Reference.MaxScaledError"/>).</param>
/// <param name="Tolerance">The bound <see cref="MaxError"/> must not exceed.</param>
/// <param name="MedianMilliseconds">Median wall time of the timed runs.</param>
public sealed record ValidationResult(string Kernel, string Backend, string Size, double MaxError, double Tolerance, double MedianMilliseconds)
{
    /// <summary>True when every output element is within the tolerance (and finite where the reference is), and nothing threw.</summary>
    public bool Passed => Error is null && MaxError <= Tolerance;

    /// <summary>The exception (with its inner exceptions) that stopped this family on this backend, when one did.</summary>
    public string? Error { get; init; }
}

/// <summary>What <see cref="KernelValidator.Run"/> covers.</summary>
/// <param name="IncludeBabyShape">Also run the Amazon Baby-shaped graph (26,495 nodes, d = 64).</param>
/// <param name="Repeats">Timed runs per case (the median is reported).</param>
/// <param name="Seed">Seed of every random input.</param>
/// <param name="Backends">Backends to cover (those without a device are left out); null means all.</param>
public sealed record ValidationOptions(bool IncludeBabyShape = true, int Repeats = 5, ulong Seed = 2025, IReadOnlyCollection<Backend>? Backends = null)
{
    internal IReadOnlyCollection<Backend> EffectiveBackends => Backends ?? [Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda];
}

/// <summary>Checks every kernel on every available backend and tier against <see cref="Float64Reference"/>.</summary>
public static partial class KernelValidator
{
    private const int Layers = 3;

    // ILGPU's CPU accelerator simulates every thread: keep it to the small cases.
    private const long SimulatorMaxOutputs = 200_000;

    /// <summary>Runs the validation and returns one result per kernel, backend and size.</summary>
    /// <param name="options">What to cover; defaults when null.</param>
    /// <param name="progress">Called with each result as soon as it is known.</param>
    public static IReadOnlyList<ValidationResult> Run(ValidationOptions? options = null, Action<ValidationResult>? progress = null)
    {
        options ??= new ValidationOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Repeats, 1);
        var results = new List<ValidationResult>();
        foreach ((string name, CsrMatrix matrix, int width) in Cases(options))
        {
            ValidatePropagation(name, matrix, width, options, results, progress);
        }
        ValidateKnn(options, results, progress);
        WhiteningValidation.Run(options, results, progress);
        EmbeddingUpdateValidation.Run(options, results, progress);
        RecommendationValidator.Run(options, results, progress);
        return results;
    }

    /// <summary>
    /// Runs one family's checks on one backend. An exception (a kernel that does not compile there, a device error)
    /// becomes one failed result carrying the whole exception chain, and the other families and backends still run.
    /// </summary>
    internal static void Guard(string family, Backend backend, string size, List<ValidationResult> results, Action<ValidationResult>? progress, Action body)
    {
        try
        {
            body();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException || backend != Backend.Cpu)
        {
            var failed = new ValidationResult(family, BackendName(backend), size, double.NaN, 0, double.NaN) { Error = ExceptionText.Chain(ex) };
            results.Add(failed);
            progress?.Invoke(failed);
        }
    }

    /// <summary>"cpu", "ilgpu-cpu", "opencl" or "cuda".</summary>
    internal static string BackendName(Backend backend) => backend switch
    {
        Backend.Cuda => "cuda",
        Backend.OpenCL => "opencl",
        Backend.IlgpuCpu => "ilgpu-cpu",
        _ => "cpu",
    };

    private static IEnumerable<(string Name, CsrMatrix Matrix, int Width)> Cases(ValidationOptions options)
    {
        ulong seed = options.Seed;
        CsrMatrix general = SyntheticGraphs.PowerLawMatrix(401, 401, seed);
        yield return ("power-law 401×401 (non-symmetric)", general, 33);
        CsrMatrix small = SyntheticGraphs.Adjacency(new DatasetShape("small", 700, 300, 4_000), seed + 1);
        yield return ("user-item 700+300", small, 7);
        yield return ("user-item 700+300", small, 100);
        if (options.IncludeBabyShape)
        {
            yield return ("baby 19,445+7,050", SyntheticGraphs.Adjacency(DatasetShape.Baby, seed + 2), 64);
        }
    }

    private static void ValidatePropagation(string graph, CsrMatrix a, int width, ValidationOptions options,
        List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        string size = $"{graph}, nnz {a.NonZeros:N0}, d={width}";
        float[] beta = StepwiseWeights.Forward(width, 0.1);
        float[] x = SyntheticGraphs.UniformTable(a.Columns * width, options.Seed + 10);
        float[] xt = SyntheticGraphs.UniformTable(a.Rows * width, options.Seed + 11);
        double[] xd = Float64Reference.ToDouble(x), xtd = Float64Reference.ToDouble(xt);
        int maxRow = MaxRowLength(a), maxColumn = MaxRowLength(a.Transpose());

        var references = new Dictionary<string, (double[] Expected, double[] Bound, double Tolerance)>
        {
            ["spmm"] = (Float64Reference.Spmm(a, xd, width), Float64Reference.Spmm(a, xd, width, absolute: true), Float64Reference.SpmmTolerance(maxRow)),
            ["spmm-t"] = (Float64Reference.Spmm(a, xtd, width, transpose: true), Float64Reference.Spmm(a, xtd, width, true, true), Float64Reference.SpmmTolerance(maxColumn)),
        };
        if (a.IsSquare)
        {
            references["fsc"] = (Float64Reference.Fsc(a, xd, width, Layers, beta), Float64Reference.Fsc(a, xd, width, Layers, beta, absolute: true),
                Float64Reference.FscTolerance(maxRow, Layers));
            references["fsc-backward"] = (Float64Reference.Fsc(a, xd, width, Layers, beta, transpose: true),
                Float64Reference.Fsc(a, xd, width, Layers, beta, transpose: true, absolute: true), Float64Reference.FscTolerance(maxColumn, Layers));
        }

        foreach (Backend backend in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            if (!options.EffectiveBackends.Contains(backend) || !BackendDiscovery.IsAvailable(backend)
                || (backend == Backend.IlgpuCpu && (long)Math.Max(a.Rows, a.Columns) * width > SimulatorMaxOutputs))
            {
                continue;
            }
            KernelValidator.Guard("propagation", backend, size, results, progress, () =>
            {
                ValidateBackend(backend, a, width, x, xt, beta, size, references, options, results, progress);
            });
        }

        if (!options.EffectiveBackends.Contains(Backend.Cpu))
        {
            return;
        }
        foreach (SimdTier tier in SimdTiers.Supported)
        {
            var plan = new PropagationPlan(a, new CpuOptions(tier));
            var workspace = new PropagationWorkspace(a.Rows, width);
            string backend = "cpu/" + tier.ToString().ToLowerInvariant();
            foreach ((string kernel, (double[] expected, double[] bound, double tolerance)) in references)
            {
                var output = new float[expected.Length];
                Action run = kernel switch
                {
                    "spmm" => () => Propagation.Spmm(plan, x, output, width),
                    "spmm-t" => () => Propagation.Spmm(plan, xt, output, width, transpose: true),
                    "fsc" => () => Propagation.Fsc(plan, x, output, width, Layers, beta, workspace),
                    _ => () => Propagation.FscBackward(plan, x, output, width, Layers, beta, workspace),
                };
                output.AsSpan().Fill(float.NaN); // an element the kernel fails to write cannot pass
                run();
                double error = Float64Reference.MaxScaledError(expected, bound, output);
                var result = new ValidationResult(kernel, backend, size, error, tolerance, MedianMilliseconds(run, options.Repeats));
                results.Add(result);
                progress?.Invoke(result);
            }
        }
    }

    private static void ValidateBackend(Backend backend, CsrMatrix a, int width, float[] x, float[] xt, float[] beta, string size,
        Dictionary<string, (double[] Expected, double[] Bound, double Tolerance)> references, ValidationOptions options,
        List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceGraph graph = context.Upload(a);
        using DeviceTable input = context.Upload(x, a.Columns, width);
        using DeviceTable inputT = context.Upload(xt, a.Rows, width);
        using StepwiseFilter filter = context.CreateFilter(beta, Layers);
        string name = backend switch
        {
            Backend.Cuda => "cuda",
            Backend.OpenCL => "opencl",
            _ => "ilgpu-cpu",
        };
        foreach ((string kernel, (double[] expected, double[] bound, double tolerance)) in references)
        {
            int outRows = kernel == "spmm-t" ? a.Columns : a.Rows;
            using DeviceTable output = context.CreateTable(outRows, width);
            var poison = new float[output.Length];
            poison.AsSpan().Fill(float.NaN); // an element the kernel fails to write cannot pass
            output.Upload(poison);
            Action run = kernel switch
            {
                "spmm" => () => context.Spmm(graph, input, output),
                "spmm-t" => () => context.Spmm(graph, inputT, output, transpose: true),
                "fsc" => () => context.Fsc(graph, input, output, filter),
                _ => () => context.FscBackward(graph, input, output, filter),
            };
            run();
            double error = Float64Reference.MaxScaledError(expected, bound, output.ToArray());
            double ms = MedianMilliseconds(() =>
            {
                run();
                context.Synchronize();
            }, options.Repeats);
            var result = new ValidationResult(kernel, name, size, error, tolerance, ms);
            results.Add(result);
            progress?.Invoke(result);
        }
    }

    /// <summary>Median wall time of <paramref name="repeats"/> runs (shared by every validate row).</summary>
    internal static double MedianMilliseconds(Action run, int repeats)
    {
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return repeats % 2 == 1 ? times[repeats / 2] : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
    }

    private static int MaxRowLength(CsrMatrix a)
    {
        int max = 0;
        for (int r = 0; r < a.Rows; r++)
        {
            max = Math.Max(max, a.RowLength(r));
        }
        return max;
    }
}
