// The report's distributed part: ranks against threads on the same machine, as child MPI jobs of this
// assembly's `distributed --tsv` command. Every round runs, per shape, one process with 2 threads and then
// 2 ranks with 1 thread each (the two sides back to back, so both see the same minutes), and adds their
// medians as report rows ("SpMM distributed", "FSC distributed", "halo exchange" alone: the floor of the
// exchange part); the split of the 2-rank call (products, halo wait, copies, halo bytes) goes into the
// report's distributed table. Needs mpiexec (MPICH: .ci/setup-mpi.sh); without it the part is skipped, named.
using System.Diagnostics;
using System.Globalization;
using Stair.Kernels.Distributed;

namespace Stair.Kernels.Benchmarks.Report;

/// <summary>One side of the ranks-against-threads comparison, with where its time went (ms per call, averaged over ranks).</summary>
public sealed record DistributedPoint(string Kernel, string Shape, int Ranks, int ThreadsPerRank, double MedianMs, double ComputeMs, double WaitMs,
    double CopyMs, double HaloMegabytesPerLayer, double? ExchangeAloneMs);

internal static class DistributedRuns
{
    public const string SuiteName = "Distributed";

    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The shapes a mode runs.</summary>
    public static string[] Shapes(ReportMode mode) => mode switch
    {
        ReportMode.Smoke => ["toy"],
        ReportMode.Quick => ["baby"],
        _ => ["baby", "electronics"],
    };

    /// <summary>Whether the options select this part (kernel names "SpMM distributed", "FSC distributed", "halo exchange"; variant "mpi").</summary>
    public static bool Wanted(ReportOptions options)
        => (options.Variants is not { } v || v.Contains("mpi", StringComparer.OrdinalIgnoreCase))
            && (options.Filter is not { } f || f.Any(x => "SpMM distributed FSC distributed halo exchange".Contains(x, StringComparison.OrdinalIgnoreCase)
                || SuiteName.Contains(x, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Finds mpiexec on PATH (null when MPI is not installed).</summary>
    public static string? Mpiexec() => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "mpiexec")).FirstOrDefault(File.Exists);

    /// <summary>One round: both sides of every shape. Adds the medians to <paramref name="samples"/> and keeps the last split in <paramref name="points"/>.</summary>
    public static void RunRound(ReportMode mode, string mpiexec, Dictionary<string, ReportDriver.Samples> samples, Dictionary<string, DistributedPoint> points,
        List<SkippedCase> skipped, TextWriter log)
    {
        int repeats = mode == ReportMode.Smoke ? 3 : 15;
        foreach (string shape in Shapes(mode))
        {
            var clock = Stopwatch.StartNew();
            foreach ((int ranks, int threads) in new[] { (1, 2), (2, 1) })
            {
                string? output = Job(mpiexec, ranks, threads, shape, repeats, out string? error);
                if (output is null)
                {
                    skipped.Add(new SkippedCase($"distributed {shape} {ranks} × {threads}", "failed: " + error));
                    continue;
                }
                double? exchange = null;
                foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    string[] f = line.Split('\t');
                    if (f[0] == "exchange" && ranks > 1)
                    {
                        exchange = double.Parse(f[3], CultureInfo.InvariantCulture);
                        Add(samples, new CaseName("halo exchange", shape, $"{ranks} ranks"), exchange.Value);
                    }
                }
                foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    string[] f = line.Split('\t');
                    if (f[0] != "distributed" || f.Length != 10)
                    {
                        continue;
                    }
                    double[] v = f[5..].Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                    string kernel = f[2] + " distributed";
                    string variant = Variant(ranks, threads);
                    Add(samples, new CaseName(kernel, shape, variant), v[0]);
                    points[$"{kernel}|{shape}|{variant}"] = new DistributedPoint(kernel, shape, ranks, threads, v[0], v[1], v[2], v[3], v[4],
                        f[2] == "FSC" ? null : exchange);
                }
            }
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  distributed {shape}: 1 × 2 threads and 2 ranks × 1 thread  {clock.Elapsed.TotalSeconds,6:F1} s"));
        }
    }

    /// <summary>The summarized split of each side, with each side's median over the rounds.</summary>
    public static List<DistributedPoint> Points(Dictionary<string, DistributedPoint> last, IReadOnlyList<ReportRow> rows)
        => [.. last.Values.Select(p => rows.FirstOrDefault(r => r.Kernel == p.Kernel && r.Shape == p.Shape && r.Variant == Variant(p.Ranks, p.ThreadsPerRank)) is { } row
                ? p with { MedianMs = row.MedianMs }
                : p)
            .OrderBy(p => p.Shape, StringComparer.Ordinal).ThenBy(p => p.Kernel, StringComparer.Ordinal).ThenBy(p => p.Ranks)];

    private static string Variant(int ranks, int threads) => $"{ranks} rank{(ranks == 1 ? "" : "s")} × {threads} thread{(threads == 1 ? "" : "s")}";

    private static void Add(Dictionary<string, ReportDriver.Samples> samples, CaseName name, double ms)
    {
        string key = $"{SuiteName}|{name.Kernel}|{name.Shape}|{name.Variant}";
        if (!samples.TryGetValue(key, out ReportDriver.Samples? s))
        {
            samples[key] = s = new ReportDriver.Samples { Name = name, Suite = $"{SuiteName}.{name.Kernel.Split(' ')[0]}" };
        }
        s.RoundMedians.Add(ms);
        s.Quartiles.Add((ms, ms));
    }

    private static string? Job(string mpiexec, int ranks, int threads, string shape, int repeats, out string? error)
    {
        var start = new ProcessStartInfo(mpiexec)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-n", ranks.ToString(CultureInfo.InvariantCulture), "dotnet", typeof(DistributedRuns).Assembly.Location, "distributed",
            "--shape", shape, "--threads", threads.ToString(CultureInfo.InvariantCulture), "--repeats", repeats.ToString(CultureInfo.InvariantCulture), "--tsv" })
        {
            start.ArgumentList.Add(a);
        }
        using var child = Process.Start(start)!;
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(JobTimeout))
        {
            child.Kill(entireProcessTree: true);
            error = $"mpiexec -n {ranks} did not finish in {JobTimeout.TotalMinutes:F0} min";
            return null;
        }
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            error = $"mpiexec -n {ranks} exited {child.ExitCode}: {stderr.Result.Trim()}";
            return null;
        }
        error = null;
        return stdout.Result;
    }

    /// <summary>Names the MPI library, for a skipped part's reason.</summary>
    public static string Missing => $"no mpiexec on PATH; install MPICH (apt-get install mpich libmpich-dev, or .ci/setup-mpi.sh) to measure ranks against threads ({nameof(MpiSession)})";
}
