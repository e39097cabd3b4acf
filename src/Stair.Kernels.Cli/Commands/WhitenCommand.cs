// `stair-kernels whiten`: STAIR's modality initialization — whitened, fused item table
// (and optionally the user table) from feature matrices.
using System.CommandLine;
using System.Diagnostics;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class WhitenCommand
{
    public static Command Create()
    {
        var defaults = new WhiteningOptions();
        var featuresOption = CliOptions.PathList("--features", "text.npy,image.npy", "one items × F .npy per modality, rows in item order", required: true);
        var weightsOption = CliOptions.RealList("--weights", "5,1", "fusion weight k_m per modality", required: true);
        var dim = CliOptions.Integer("--dim", "d", "embedding width", defaults.Dimension, min: 1);
        var output = CliOptions.Path("--output", "E.npy", "the float32 items × d table to write", required: true);
        var method = CliOptions.Choice<WhiteningMethod>("--method", "exact or randomized SVD", [new("exact", WhiteningMethod.Exact), new("randomized", WhiteningMethod.Randomized)], "exact");
        var oversampling = CliOptions.Integer("--oversampling", "P", "randomized: extra sketch columns beyond d", defaults.Oversampling, min: 0);
        var powerIterations = CliOptions.Integer("--power-iterations", "Q", "randomized: power passes", defaults.PowerIterations, min: 0);
        var seed = CliOptions.Integer("--seed", "S", "randomized: seed of the Gaussian test matrix", defaults.Seed, min: 0UL);
        var interactions = CliOptions.Path("--interactions", "FILE", "MMRec .inter or CSV (training rows) for the user table (with --users-output)");
        var usersOutput = CliOptions.Path("--users-output", "U.npy", "the float32 users × d table R_left·E to write (with --interactions)");
        var usersOption = CliOptions.OptionalInteger("--users", "U", "user count (default: one more than the largest user id)", min: 0);
        var compute = new ComputeOptions("where it runs");
        var command = new Command("whiten", """
            Per modality (one items × F .npy each, rows in item order): center the columns, keep the top-d
            left singular vectors × √(I/d) (largest entry of each column positive), fuse by the weights:
            E = Σ k_m W_m / Σ k_m, written as float32 items × d. With --interactions (MMRec .inter or CSV;
            training rows) also writes the user table R_left·E. Prints each modality's rank and condition.
            """)
        {
            featuresOption, weightsOption, dim, output, method, oversampling, powerIterations, seed, interactions, usersOutput, usersOption,
        };
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string[] paths = parse.GetRequiredValue(featuresOption);
            double[] weights = parse.GetRequiredValue(weightsOption);
            if (paths.Length != weights.Length)
            {
                throw new UsageException($"--features names {paths.Length} file(s) but --weights gives {weights.Length} value(s).");
            }
            if (parse.Given(interactions) != parse.Given(usersOutput))
            {
                throw new UsageException("--interactions and --users-output go together.");
            }
            var options = new WhiteningOptions
            {
                Dimension = parse.GetValue(dim),
                Method = parse.GetRequiredValue(method)!.Value,
                Oversampling = parse.GetValue(oversampling),
                PowerIterations = parse.GetValue(powerIterations),
                Seed = parse.GetValue(seed),
            };
            string outputPath = parse.GetRequiredValue(output);
            var modalities = new List<WhiteningModality>();
            int items = -1;
            for (int m = 0; m < paths.Length; m++)
            {
                float[] features = Npy.ReadMatrix(paths[m], out int rows, out int columns);
                if (items >= 0 && rows != items)
                {
                    throw new InvalidDataException($"{Path.GetFileName(paths[m])} has {rows} rows but {Path.GetFileName(paths[0])} has {items}: every modality needs one row per item.");
                }
                items = rows;
                modalities.Add(new WhiteningModality(features, columns, weights[m], Path.GetFileName(paths[m])));
            }

            using ComputeContext context = ComputeContext.Create(compute.Target(parse), compute.Cpu(parse));
            long start = Stopwatch.GetTimestamp();
            WhiteningResult result = context.Whiten(modalities, options);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Npy.Write(outputPath, result.ItemTable, items, options.Dimension);
            stdout.WriteLine($"{items:N0} items, d={options.Dimension}, {options.Method.ToString().ToLowerInvariant()} on {context.Backend}: {context.Device}; {seconds:F3} s");
            foreach (WhiteningModalityResult m in result.Modalities)
            {
                stdout.WriteLine($"  {m.Name}: rank {m.Rank} ({m.ZeroColumns} zero column(s)), σ_1 {m.SingularValues[0]:G4}, condition {m.ConditionNumber:G4}");
            }
            stdout.WriteLine($"wrote {outputPath}");
            if (parse.GetValue(interactions) is string interactionsPath)
            {
                InteractionTable table = InteractionTable.Read(interactionsPath);
                if (table.ItemCount > items)
                {
                    throw new InvalidDataException($"{Path.GetFileName(interactionsPath)} names item {table.ItemCount - 1} but the features have {items} rows.");
                }
                int users = CliOptions.AtLeast("--users", parse.GetValue(usersOption), table.UserCount);
                (int[] u, int[] i) = table.Select(InteractionSplit.Train);
                CsrMatrix left = GraphBuilder.LeftNormalizedInteractions(users, items, u, i);
                string usersOutputPath = parse.GetRequiredValue(usersOutput);
                float[] userTable = context.UserTable(result, left);
                Npy.Write(usersOutputPath, userTable, users, options.Dimension);
                stdout.WriteLine($"{users:N0} users from {u.Length:N0} training interactions; wrote {usersOutputPath}");
            }
            return 0;
        });
        return command;
    }
}
