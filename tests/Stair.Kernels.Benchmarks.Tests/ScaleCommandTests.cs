// The scale command end to end at a small size: every step runs, the .inter file it writes is
// MMRec's layout and reads back as the interactions that were drawn, and the JSON lists each step.
using System.Text.Json;
using Stair.Kernels.Benchmarks.Scale;
using Stair.Kernels.IO;

namespace Stair.Kernels.Benchmarks.Tests;

public sealed class ScaleCommandTests
{
    [Fact]
    public void A_small_run_writes_a_readable_inter_file_and_reports_every_step()
    {
        string folder = Directory.CreateTempSubdirectory("stair-scale-").FullName;
        try
        {
            string inter = Path.Combine(folder, "g.inter"), json = Path.Combine(folder, "scale.json");
            int code = ScaleCommand.Run(["--users", "3000", "--items", "500", "--interactions", "20000", "--seed", "4", "--inter", inter, "--json", json]);
            Assert.Equal(0, code);

            (int[] users, int[] items) = SyntheticGraphs.PowerLawInteractionsAtScale(3000, 500, 20000, seed: 4);
            InteractionTable table = InteractionTable.Read(inter);
            Assert.Equal(users, table.UserIds.ToArray());
            Assert.Equal(items, table.ItemIds.ToArray());
            Assert.All(table.Splits.ToArray(), s => Assert.Equal(InteractionSplit.Train, s));

            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            string[] steps = [.. doc.RootElement.GetProperty("Steps").EnumerateArray().Select(s => s.GetProperty("Step").GetString()!)];
            Assert.Equal(["draw", "build", "write .inter", "read .inter", "build from .inter"], steps);
            Assert.All(doc.RootElement.GetProperty("Steps").EnumerateArray(), s => Assert.True(s.GetProperty("Seconds").GetDouble() >= 0));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Bad_sizes_are_a_usage_error()
    {
        Assert.Equal(2, ScaleCommand.Run(["--users", "0"]));
    }
}
