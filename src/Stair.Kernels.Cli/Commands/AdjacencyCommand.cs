// `stair-kernels adjacency`: the symmetric-normalized user–item graph Ã from interactions.
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class AdjacencyCommand
{
    public const string Usage = """
        stair-kernels adjacency --interactions FILE --output A.npz [--users U] [--items I] [--uncompressed]
          Builds Ã = D^-1/2 [[0, R], [Rᵀ, 0]] D^-1/2 (users first) from the training rows (x_label 0)
          of an MMRec .inter TSV, or every row of a two-column user,item CSV, and writes it as a
          scipy CSR .npz. U and I default to one more than the largest id.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["interactions", "output", "users", "items"], ["uncompressed"]);
        string inputPath = a.Required("interactions"), outputPath = a.Required("output");
        InteractionTable table = InteractionTable.Read(inputPath);
        int users = a.Int("users", table.UserCount, min: table.UserCount);
        int items = a.Int("items", table.ItemCount, min: table.ItemCount);
        (int[] u, int[] i) = table.Select(InteractionSplit.Train);
        CsrMatrix adjacency = GraphBuilder.UserItemAdjacency(users, items, u, i);
        ScipyNpz.WriteCsr(outputPath, adjacency, compressed: !a.Has("uncompressed"));
        stdout.WriteLine($"{users:N0} users, {items:N0} items, {u.Length:N0} training interactions ({adjacency.NonZeros / 2:N0} distinct) → {adjacency.Rows:N0}×{adjacency.Columns:N0} Ã, nnz {adjacency.NonZeros:N0}; wrote {outputPath}");
        return 0;
    }
}
