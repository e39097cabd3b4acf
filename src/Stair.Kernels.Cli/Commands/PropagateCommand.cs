// `stair-kernels propagate`: FSC (or plain SpMM) of a dense table over a scipy CSR graph.
using System.CommandLine;
using System.Diagnostics;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class PropagateCommand
{
    public static Command Create()
    {
        var adjacency = CliOptions.Path("--adjacency", "A.npz", "the CSR matrix A (scipy.sparse.save_npz)", required: true);
        var inputOption = CliOptions.Path("--input", "X.npy", "the dense table X, rows × d, float32 or float64", required: true);
        var output = CliOptions.Path("--output", "Y.npy", "the float32 result to write", required: true);
        var layersOption = CliOptions.Integer("--layers", "L", "propagation layers of FSC", 3, min: 0);
        var gamma = CliOptions.Real("--gamma", "γ", "the decay of FSC's stepwise weights (not with --beta)", 0.1);
        var betaOption = CliOptions.Path("--beta", "b.npy", "FSC's stepwise weights, one per column, from a .npy (instead of --gamma)");
        var spmmOption = CliOptions.Flag("--spmm", "compute the plain product A·X instead of FSC");
        var transposeOption = CliOptions.Flag("--transpose", "propagate with Aᵀ (the backward pass)");
        var repeatOption = CliOptions.Integer("--repeat", "R", "runs to time; the median is printed", 1, min: 1);
        var compute = new ComputeOptions("where it runs (--tier and --threads apply to cpu)");
        var command = new Command("propagate", """
            Forward stepwise convolution of X (rows × d, float32 or float64 .npy) over the CSR matrix A
            (scipy.sparse.save_npz); --transpose propagates with Aᵀ (the backward pass); --spmm computes
            the plain product A·X instead. Writes Y as float32 and prints the median time of R runs.
            --backend picks where it runs (default cpu; --tier and --threads apply to cpu).
            """)
        {
            adjacency, inputOption, output, layersOption, gamma, betaOption, spmmOption, transposeOption,
        };
        compute.AddTo(command);
        command.Options.Add(repeatOption);
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string adjacencyPath = parse.GetRequiredValue(adjacency), inputPath = parse.GetRequiredValue(inputOption), outputPath = parse.GetRequiredValue(output);
            int layers = parse.GetValue(layersOption);
            int repeat = parse.GetValue(repeatOption);
            bool transpose = parse.GetValue(transposeOption), spmm = parse.GetValue(spmmOption);
            if (parse.Given(gamma) && parse.Given(betaOption))
            {
                throw new UsageException("give either --gamma or --beta, not both.");
            }
            CpuOptions options = compute.Cpu(parse);

            CsrMatrix matrix = ScipyNpz.ReadCsr(adjacencyPath);
            float[] input = Npy.ReadMatrix(inputPath, out int rows, out int width);
            float[] beta = parse.GetValue(betaOption) is string betaPath
                ? Npy.Read(betaPath).ToFloatArray()
                : StepwiseWeights.Forward(Math.Max(width, 1), parse.GetValue(gamma));

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

            using ComputeContext context = ComputeContext.Create(compute.Target(parse), options);
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
                    if (transpose)
                    {
                        context.FscBackward(graph, x, y, filter!);
                    }
                    else
                    {
                        context.Fsc(graph, x, y, filter!);
                    }
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
        });
        return command;
    }
}
