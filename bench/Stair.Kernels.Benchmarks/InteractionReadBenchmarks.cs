// InteractionReadBenchmarks: reading an interaction file into InteractionTable's arrays, today's
// reader (InteractionTable.Read, on Sep) against the hand-written one it replaced (ReadLine +
// Split + TryParse, HandWrittenInteractions). Files are generated once per case in the temp
// directory with random ids (Baby-sized: 19,445 users, 7,050 items):
//   mmrec — 1.5 M lines userID, itemID, rating, timestamp, x_label (MMRec .inter);
//   wide  — 300 k lines of the same plus a 400-character review column before x_label (long lines;
//           the .inter format has no quoting, so long lines are its unkind case);
//   csv   — 1.5 M lines of a headerless two-column user,item CSV.
// STAIR_INTER_CASES filters the cases (see BenchCases). Ratio compares each case's two readers.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Stair.Kernels.IO;

namespace Stair.Kernels.Benchmarks;

[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
[WarmupCount(2)]
[IterationCount(10)]
public class InteractionReadBenchmarks
{
    private string _path = "";

    /// <summary>"mmrec", "wide" or "csv".</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "mmrec";

    public static IEnumerable<string> Cases() => BenchCases.Only("STAIR_INTER_CASES", ["mmrec", "wide", "csv"]);

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"stair-interactions-{Case}-{Environment.ProcessId}.{(Case == "csv" ? "csv" : "inter")}");
        Write(_path, Case);
        InteractionTable table = InteractionTable.Read(_path);
        var old = HandWrittenInteractions.Read(_path);
        if (!table.UserIds.SequenceEqual(old.Users) || !table.ItemIds.SequenceEqual(old.Items)
            || !table.Splits.SequenceEqual(old.Splits) || table.UserCount != old.UserCount || table.ItemCount != old.ItemCount)
        {
            throw new InvalidOperationException($"{Case}: the two readers disagree.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(Baseline = true)]
    public int HandWritten() => HandWrittenInteractions.Read(_path).Users.Length;

    [Benchmark]
    public int Sep() => InteractionTable.Read(_path).Count;

    private static void Write(string path, string shape)
    {
        const int users = 19_445, items = 7_050;
        var random = new Random(2025);
        using var writer = new StreamWriter(path);
        writer.NewLine = "\n";
        int lines = shape == "wide" ? 300_000 : 1_500_000;
        string review = shape == "wide" ? new string('x', 400) : "";
        if (shape == "csv")
        {
            for (int k = 0; k < lines; k++)
            {
                writer.WriteLine($"{random.Next(users)},{random.Next(items)}");
            }
            return;
        }
        writer.WriteLine(shape == "wide" ? "userID\titemID\trating\ttimestamp\treview\tx_label" : "userID\titemID\trating\ttimestamp\tx_label");
        for (int k = 0; k < lines; k++)
        {
            int label = random.Next(10) switch { < 8 => 0, 8 => 1, _ => 2 };
            long timestamp = 1_300_000_000L + random.Next(300_000_000);
            string text = shape == "wide" ? $"{review.AsSpan(0, 200 + random.Next(200))}\t" : "";
            writer.WriteLine($"{random.Next(users)}\t{random.Next(items)}\t{1 + random.Next(5)}.0\t{timestamp}\t{text}{label}");
        }
    }
}
