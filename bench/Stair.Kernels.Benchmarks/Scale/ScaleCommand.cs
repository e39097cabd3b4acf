// `Stair.Kernels.Benchmarks scale`: how the graph pipeline scales past the data sets the suites
// use (opt-in: scripts/scale.sh; minutes and gigabytes, never CI). It draws a synthetic power-law
// interaction list (SyntheticGraphs.PowerLawInteractionsAtScale; default 100 M distinct pairs,
// 10 M users × 1 M items),
// builds the user–item adjacency Ã from it, and optionally writes the interactions as an MMRec
// `.inter` file and streams it back. For each step it prints the wall time and the step's peak
// memory: the process's peak resident set (VmHWM, reset before the step through
// /proc/self/clear_refs) less what was resident when the step began, so the inputs already in
// memory are not counted, next to the size of what the step produced.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Stair.Kernels.IO;

namespace Stair.Kernels.Benchmarks.Scale;

internal static class ScaleCommand
{
    public static int Run(string[] args)
    {
        var users = new Option<int>("--users") { Description = "users U", DefaultValueFactory = _ => 10_000_000 };
        var items = new Option<int>("--items") { Description = "items I", DefaultValueFactory = _ => 1_000_000 };
        var draws = new Option<int>("--interactions") { Description = "distinct interactions (expected; user degrees are rounded at random)", DefaultValueFactory = _ => 100_000_000 };
        var seed = new Option<ulong>("--seed") { Description = "random seed", DefaultValueFactory = _ => 2025 };
        var inter = new Option<string?>("--inter") { Description = "also write the interactions to this MMRec .inter file, then stream it back and build from what was read" };
        var json = new Option<string?>("--json") { Description = "write the measurements to this JSON file" };
        var command = new RootCommand("Times and measures the peak memory of drawing, building and reading a large user–item graph.")
        {
            users, items, draws, seed, inter, json,
        };
        command.SetAction(parse =>
        {
            int u = parse.GetValue(users), i = parse.GetValue(items), n = parse.GetValue(draws);
            if (u < 1 || i < 1 || n < 0)
            {
                Console.Error.WriteLine("error: --users and --items must be at least 1 and --interactions non-negative");
                return 2;
            }
            var steps = new List<ScaleStep>();
            Console.WriteLine($"scale: {n:N0} interactions over {u:N0} users × {i:N0} items, {Environment.ProcessorCount} logical cores, server GC {System.Runtime.GCSettings.IsServerGC}");

            (int[] userIds, int[] itemIds) = Measure(steps, "draw", () =>
            {
                var pairs = SyntheticGraphs.PowerLawInteractionsAtScale(u, i, n, parse.GetValue(seed));
                return (pairs, (long)pairs.UserIds.Length * 2 * sizeof(int));
            });
            CsrMatrix graph = Measure(steps, "build", () =>
            {
                CsrMatrix a = GraphBuilder.UserItemAdjacency(u, i, userIds, itemIds);
                return (a, CsrBytes(a));
            });
            Console.WriteLine($"  graph: N {graph.Rows:N0}, nnz {graph.NonZeros:N0} ({userIds.Length:N0} interactions)");

            if (parse.GetValue(inter) is string path)
            {
                Measure(steps, "write .inter", () =>
                {
                    WriteInter(path, userIds, itemIds);
                    return (0, new FileInfo(path).Length);
                });
                userIds = itemIds = [];
                graph = null!;
                InteractionTable table = Measure(steps, "read .inter", () =>
                {
                    InteractionTable t = InteractionTable.Read(path);
                    return (t, (long)t.Count * (2 * sizeof(int) + sizeof(InteractionSplit)));
                });
                Measure(steps, "build from .inter", () =>
                {
                    CsrMatrix a = GraphBuilder.UserItemAdjacency(table.UserCount, table.ItemCount, table.UserIds, table.ItemIds);
                    return (a, CsrBytes(a));
                });
            }

            if (parse.GetValue(json) is string jsonPath)
            {
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(new { Users = u, Items = i, Interactions = n, Steps = steps },
                    new JsonSerializerOptions { WriteIndented = true }));
            }
            return 0;
        });
        return command.Parse(args).Invoke();
    }

    /// <summary>Bytes of a CSR matrix's three arrays.</summary>
    internal static long CsrBytes(CsrMatrix a) => (a.Rows + 1L) * sizeof(int) + (long)a.NonZeros * (sizeof(int) + sizeof(float));

    private static T Measure<T>(List<ScaleStep> steps, string name, Func<(T Result, long OutputBytes)> step)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        bool reset = PeakMemory.Reset();
        long before = PeakMemory.ResidentBytes();
        long start = Stopwatch.GetTimestamp();
        (T result, long output) = step();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long? peak = reset ? PeakMemory.PeakResidentBytes() - before : null;
        var record = new ScaleStep(name, seconds, output, peak, peak is long p && output > 0 ? (double)p / output : null);
        steps.Add(record);
        string memory = peak is long q ? $"peak +{q / 1048576.0:N0} MiB ({record.PeakOverOutput:F2}× the output)" : "peak not measurable here";
        Console.WriteLine($"  {name,-18} {seconds,7:F1} s   output {output / 1048576.0,8:N0} MiB   {memory}");
        return result;
    }

    // MMRec's layout: a header naming the columns, then user, item, rating, timestamp and x_label (0 = train).
    private static void WriteInter(string path, int[] userIds, int[] itemIds)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("userID\titemID\trating\ttimestamp\tx_label\n");
        Span<char> line = stackalloc char[64];
        for (int k = 0; k < userIds.Length; k++)
        {
            userIds[k].TryFormat(line, out int a, provider: CultureInfo.InvariantCulture);
            line[a++] = '\t';
            itemIds[k].TryFormat(line[a..], out int b, provider: CultureInfo.InvariantCulture);
            a += b;
            const string Rest = "\t5\t0\t0\n"; // rating 5, timestamp 0, x_label 0 (train)
            Rest.AsSpan().CopyTo(line[a..]);
            writer.Write(line[..(a + Rest.Length)]);
        }
    }
}

/// <summary>One measured step of a scale run.</summary>
/// <param name="Step">What ran.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="OutputBytes">Size of what it produced (the graph's CSR arrays, the drawn or read interaction arrays, the file).</param>
/// <param name="PeakBytes">Peak resident memory during the step above what was resident when it began (null where it cannot be read).</param>
/// <param name="PeakOverOutput">PeakBytes / OutputBytes.</param>
internal sealed record ScaleStep(string Step, double Seconds, long OutputBytes, long? PeakBytes, double? PeakOverOutput);

/// <summary>The process's resident and peak resident memory on Linux (/proc/self/status), and resetting the peak.</summary>
internal static class PeakMemory
{
    /// <summary>Resets VmHWM to the current resident set (writes 5 to /proc/self/clear_refs); false where that is not possible.</summary>
    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>VmRSS in bytes (0 where /proc is missing).</summary>
    public static long ResidentBytes() => Field("VmRSS:");

    /// <summary>VmHWM in bytes (0 where /proc is missing).</summary>
    public static long PeakResidentBytes() => Field("VmHWM:");

    private static long Field(string name)
    {
        if (!File.Exists("/proc/self/status"))
        {
            return 0;
        }
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(name.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }
}
