// `stair-kernels propagate`: FSC (or plain SpMM) of a dense table over a scipy CSR graph.
using System.Diagnostics;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class PropagateCommand
{
    public const string Usage = """
        stair-kernels propagate --adjacency A.npz --input X.npy --output Y.npy
                                [--layers 3] [--gamma 0.1 | --beta b.npy] [--spmm] [--transpose]
                                [--tier auto|avx512|avx2|scalar] [--threads N] [--repeat R]
          Forward stepwise convolution of X (rows × d, float32 or float64 .npy) over the CSR matrix A
          (scipy.sparse.save_npz); --transpose propagates with Aᵀ (the backward pass); --spmm computes
          the plain product A·X instead. Writes Y as float32 and prints the median time of R runs.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["adjacency", "input", "output", "layers", "gamma", "beta", "tier", "threads", "repeat"], ["transpose", "spmm"]);
        string adjacencyPath = a.Required("adjacency"), inputPath = a.Required("input"), outputPath = a.Required("output");
        int layers = a.Int("layers", 3, min: 0);
        int threads = a.Int("threads", 0, min: 0);
        int repeat = a.Int("repeat", 1, min: 1);
        bool transpose = a.Has("transpose"), spmm = a.Has("spmm");
        if (a.Has("gamma") && a.Has("beta"))
        {
            throw new UsageException("give either --gamma or --beta, not both.");
        }
        var options = new CpuOptions(a.Tier(), threads);

        CsrMatrix matrix = ScipyNpz.ReadCsr(adjacencyPath);
        float[] input = Npy.ReadMatrix(inputPath, out int rows, out int width);
        float[] beta = a.Optional("beta") is string betaPath
            ? Npy.Read(betaPath).ToFloatArray()
            : StepwiseWeights.Forward(Math.Max(width, 1), a.Double("gamma", 0.1));

        var plan = new PropagationPlan(matrix, options);
        int outputRows = transpose ? matrix.Columns : matrix.Rows;
        int expectedRows = transpose ? matrix.Rows : matrix.Columns;
        if (rows != expectedRows)
        {
            throw new InvalidDataException($"{Path.GetFileName(inputPath)} has {rows} rows but the {(transpose ? "transposed " : "")}matrix needs {expectedRows}.");
        }
        var output = new float[(long)outputRows * width];
        PropagationWorkspace? workspace = spmm ? null : new PropagationWorkspace(matrix.Rows, Math.Max(width, 1));
        void RunOnce()
        {
            if (spmm)
            {
                Propagation.Spmm(plan, input, output, width, transpose);
            }
            else
            {
                Propagation.Fsc(plan, input, output, width, layers, beta, workspace!, transpose);
            }
        }

        var times = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            long start = Stopwatch.GetTimestamp();
            RunOnce();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        Npy.Write(outputPath, output, outputRows, width);
        string what = spmm ? $"SpMM{(transpose ? "ᵀ" : "")}" : $"FSC{(transpose ? " backward" : "")} (L={layers})";
        stdout.WriteLine($"{what}: {matrix.Rows:N0}×{matrix.Columns:N0} graph, nnz {matrix.NonZeros:N0}, d={width}, cpu/{plan.Tier.ToString().ToLowerInvariant()}, {plan.Threads} thread(s)");
        stdout.WriteLine($"median of {repeat} run(s): {times[repeat / 2]:F3} ms; wrote {outputPath}");
        return 0;
    }
}
