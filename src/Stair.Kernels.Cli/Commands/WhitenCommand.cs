// `stair-kernels whiten`: STAIR's modality initialization — whitened, fused item table
// (and optionally the user table) from feature matrices.
using System.Diagnostics;
using System.Globalization;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class WhitenCommand
{
    public const string Usage = """
        stair-kernels whiten --features text.npy,image.npy --weights 5,1 --dim 64 --output E.npy
                             [--method exact|randomized] [--oversampling P] [--power-iterations Q] [--seed S]
                             [--interactions FILE --users-output U.npy] [--users U]
                             [--backend cpu|cuda|opencl|ilgpu-cpu|auto] [--tier auto|avx512|avx2|scalar] [--threads N]
          Per modality (one items × F .npy each, rows in item order): center the columns, keep the top-d
          left singular vectors × √(I/d) (largest entry of each column positive), fuse by the weights:
          E = Σ k_m W_m / Σ k_m, written as float32 items × d. With --interactions (MMRec .inter or CSV;
          training rows) also writes the user table R_left·E. Prints each modality's rank and condition.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args,
            ["features", "weights", "dim", "output", "method", "oversampling", "power-iterations", "seed", "interactions", "users-output", "users", "backend", "tier", "threads"], []);
        string[] paths = a.Required("features").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string[] weights = a.Required("weights").Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (paths.Length != weights.Length)
        {
            throw new UsageException($"--features names {paths.Length} file(s) but --weights gives {weights.Length} value(s).");
        }
        if (a.Has("interactions") != a.Has("users-output"))
        {
            throw new UsageException("--interactions and --users-output go together.");
        }
        var defaults = new WhiteningOptions();
        var options = new WhiteningOptions
        {
            Dimension = a.Int("dim", 64, min: 1),
            Method = (a.Optional("method") ?? "exact") switch
            {
                "exact" => WhiteningMethod.Exact,
                "randomized" => WhiteningMethod.Randomized,
                string other => throw new UsageException($"--method '{other}' is not exact or randomized."),
            },
            Oversampling = a.Int("oversampling", defaults.Oversampling, min: 0),
            PowerIterations = a.Int("power-iterations", defaults.PowerIterations, min: 0),
            Seed = (ulong)a.Int("seed", (int)(defaults.Seed & int.MaxValue), min: 0),
        };
        var modalities = new List<WhiteningModality>();
        int items = -1;
        for (int m = 0; m < paths.Length; m++)
        {
            if (!double.TryParse(weights[m], NumberStyles.Float, CultureInfo.InvariantCulture, out double weight))
            {
                throw new UsageException($"--weights value '{weights[m]}' is not a number.");
            }
            float[] features = Npy.ReadMatrix(paths[m], out int rows, out int columns);
            if (items >= 0 && rows != items)
            {
                throw new InvalidDataException($"{Path.GetFileName(paths[m])} has {rows} rows but {Path.GetFileName(paths[0])} has {items}: every modality needs one row per item.");
            }
            items = rows;
            modalities.Add(new WhiteningModality(features, columns, weight, Path.GetFileName(paths[m])));
        }

        using ComputeContext context = ComputeContext.Create(a.Backend(), new CpuOptions(a.Tier(), a.Int("threads", 0, min: 0)));
        long start = Stopwatch.GetTimestamp();
        WhiteningResult result = Whitening.Run(context, modalities, options);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Npy.Write(a.Required("output"), result.ItemTable, items, options.Dimension);
        stdout.WriteLine($"{items:N0} items, d={options.Dimension}, {options.Method.ToString().ToLowerInvariant()} on {context.Backend}: {context.Device}; {seconds:F3} s");
        foreach (WhiteningModalityResult m in result.Modalities)
        {
            stdout.WriteLine($"  {m.Name}: rank {m.Rank} ({m.ZeroColumns} zero column(s)), σ_1 {m.SingularValues[0]:G4}, condition {m.ConditionNumber:G4}");
        }
        stdout.WriteLine($"wrote {a.Required("output")}");
        if (a.Optional("interactions") is string interactionsPath)
        {
            InteractionTable table = InteractionTable.Read(interactionsPath);
            if (table.ItemCount > items)
            {
                throw new InvalidDataException($"{Path.GetFileName(interactionsPath)} names item {table.ItemCount - 1} but the features have {items} rows.");
            }
            int users = a.Int("users", table.UserCount, min: table.UserCount);
            (int[] u, int[] i) = table.Select(InteractionSplit.Train);
            CsrMatrix left = GraphBuilder.LeftNormalizedInteractions(users, items, u, i);
            float[] userTable = result.UserTable(context, left);
            Npy.Write(a.Required("users-output"), userTable, users, options.Dimension);
            stdout.WriteLine($"{users:N0} users from {u.Length:N0} training interactions; wrote {a.Required("users-output")}");
        }
        return 0;
    }
}
