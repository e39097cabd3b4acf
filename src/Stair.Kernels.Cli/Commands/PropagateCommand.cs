// `stair-kernels propagate`: FSC (or plain SpMM) of a dense table over a scipy CSR graph.
using System.Diagnostics;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class PropagateCommand
{
    public const string Usage = """
        stair-kernels propagate --adjacency A.npz --input X.npy --output Y.npy
                                [--layers 3] [--gamma 0.1 | --beta b.npy] [--spmm] [--transpose]
                                [--backend cpu|cuda|opencl|ilgpu-cpu|auto] [--tier auto|avx512|avx2|scalar]
                                [--threads N] [--repeat R]
          Forward stepwise convolution of X (rows × d, float32 or float64 .npy) over the CSR matrix A
          (scipy.sparse.save_npz); --transpose propagates with Aᵀ (the backward pass); --spmm computes
          the plain product A·X instead. Writes Y as float32 and prints the median time of R runs.
          --backend picks where it runs (default cpu; --tier and --threads apply to cpu).
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["adjacency", "input", "output", "layers", "gamma", "beta", "tier", "threads", "repeat", "backend"], ["transpose", "spmm"]);
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

        int outputRows = transpose ? matrix.Columns : matrix.Rows;
        int expectedRows = transpose ? matrix.Rows : matrix.Columns;
        if (rows != expectedRows)
        {
            throw new InvalidDataException($"{Path.GetFileName(inputPath)} has {rows} rows but the {(transpose ? "transposed " : "")}matrix needs {expectedRows}.");
        }
        if (width < 1)
        {
            throw new InvalidDataException($"{Path.GetFileName(inputPath)} has no columns.");
        }

        using ComputeContext context = ComputeContext.Create(a.Backend(), options);
        using DeviceGraph graph = context.Upload(matrix);
        using DeviceTable x = context.Upload(input, rows, width);
        using DeviceTable y = context.CreateTable(outputRows, width);
        using StepwiseFilter? filter = spmm ? null : context.CreateFilter(beta, layers);
        void RunOnce()
        {
            if (spmm)
            {
                context.Spmm(graph, x, y, transpose);
            }
            else
            {
                context.Fsc(graph, x, y, filter!, transpose);
            }
            context.Synchronize();
        }

        var times = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            long start = Stopwatch.GetTimestamp();
            RunOnce();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        Npy.Write(outputPath, y.ToArray(), outputRows, width);
        string what = spmm ? $"SpMM{(transpose ? "ᵀ" : "")}" : $"FSC{(transpose ? " backward" : "")} (L={layers})";
        stdout.WriteLine($"{what}: {matrix.Rows:N0}×{matrix.Columns:N0} graph, nnz {matrix.NonZeros:N0}, d={width}, {context.Backend}: {context.Device}");
        stdout.WriteLine($"median of {repeat} run(s): {times[repeat / 2]:F3} ms; wrote {outputPath}");
        return 0;
    }
}
