// `stair-kernels adjacency`: the symmetric-normalized user–item graph Ã from interactions.
using System.CommandLine;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class AdjacencyCommand
{
    public static Command Create()
    {
        var interactions = CliOptions.Path("--interactions", "FILE", "an MMRec .inter TSV (training rows: x_label 0) or a two-column user,item CSV (every row)", required: true);
        var output = CliOptions.Path("--output", "A.npz", "the scipy CSR .npz to write", required: true);
        var usersOption = CliOptions.OptionalInteger("--users", "U", "user count (default: one more than the largest user id)", min: 0);
        var itemsOption = CliOptions.OptionalInteger("--items", "I", "item count (default: one more than the largest item id)", min: 0);
        var uncompressed = CliOptions.Flag("--uncompressed", "write the .npz without deflate");
        var command = new Command("adjacency", """
            Builds Ã = D^-1/2 [[0, R], [Rᵀ, 0]] D^-1/2 (users first) from the training rows (x_label 0)
            of an MMRec .inter TSV, or every row of a two-column user,item CSV, and writes it as a
            scipy CSR .npz. U and I default to one more than the largest id.
            """)
        {
            interactions, output, usersOption, itemsOption, uncompressed,
        };
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string inputPath = parse.GetRequiredValue(interactions), outputPath = parse.GetRequiredValue(output);
            InteractionTable table = InteractionTable.Read(inputPath);
            int users = CliOptions.AtLeast("--users", parse.GetValue(usersOption), table.UserCount);
            int items = CliOptions.AtLeast("--items", parse.GetValue(itemsOption), table.ItemCount);
            (int[] u, int[] i) = table.Select(InteractionSplit.Train);
            CsrMatrix adjacency = GraphBuilder.UserItemAdjacency(users, items, u, i);
            ScipyNpz.WriteCsr(outputPath, adjacency, compressed: !parse.GetValue(uncompressed));
            stdout.WriteLine($"{users:N0} users, {items:N0} items, {u.Length:N0} training interactions ({adjacency.NonZeros / 2:N0} distinct) → {adjacency.Rows:N0}×{adjacency.Columns:N0} Ã, nnz {adjacency.NonZeros:N0}; wrote {outputPath}");
            return 0;
        });
        return command;
    }
}
