// The benchmark report: runs the selected cases of every suite in rounds (each round runs every
// suite once, so the variants of one kernel are measured in the same minutes, round after
// round, never one backend after another), in-process with BenchmarkDotNet, then summarizes
// each case over the rounds: median of the round medians, spread, allocation, floor, ratios to
// the baseline and to the peers. Writes report.json, report.md, charts/ and the BenchmarkDotNet
// artifacts of every round into one folder.
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Benchmarks.Report;

/// <summary>What to measure and where to write it.</summary>
/// <param name="Mode">Smoke, quick or full.</param>
/// <param name="Variants">Run only these variants (null: every variant present).</param>
/// <param name="Filter">Run only kernels or suites whose name contains one of these (case-insensitive; null: all).</param>
/// <param name="Output">The report folder.</param>
/// <param name="Peers">Also time the Python peers (when python3 and the modules are importable).</param>
/// <param name="Rounds">Rounds (null: the mode's default).</param>
internal sealed record ReportOptions(ReportMode Mode, IReadOnlyList<string>? Variants, IReadOnlyList<string>? Filter, string Output, bool Peers, int? Rounds);

internal static class ReportDriver
{
    /// <summary>A spread above this marks a row unsteady.</summary>
    public const double SteadySpread = 0.10;

    /// <summary>What the rounds measured of one case.</summary>
    internal sealed class Samples
    {
        public required CaseName Name;
        public required string Suite;
        public readonly List<double> RoundMedians = [];
        public readonly List<(double Q1, double Q3)> Quartiles = [];
        public long? Allocated;
    }

    public static int Run(ReportOptions options, string command, TextWriter log)
    {
        DateTimeOffset started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        string output = Path.GetFullPath(options.Output);
        Directory.CreateDirectory(output);
        int rounds = options.Rounds ?? options.Mode switch { ReportMode.Smoke => 1, ReportMode.Quick => 2, _ => 3 };
        var skipped = new List<SkippedCase>();

        // What runs: each suite's cases, named and selected before anything is set up.
        var plan = new List<(Type Suite, HashSet<string> Keys, HashSet<string> Once, List<CaseName> Names)>();
        foreach (Type suite in SuiteCatalog.Suites)
        {
            var keys = new HashSet<string>();
            var once = new HashSet<string>();
            var names = new List<CaseName>();
            foreach (BenchmarkCase benchmark in BenchmarkConverter.TypeToBenchmarks(suite, Config(options.Mode, null)).BenchmarksCases)
            {
                CaseName name = SuiteCatalog.Name(benchmark);
                if (!Wanted(options, suite, name))
                {
                    continue;
                }
                Selection selection = SuiteCatalog.Select(options.Mode, suite, name, out string? omitted);
                if (selection == Selection.No)
                {
                    if (omitted is not null)
                    {
                        skipped.Add(new SkippedCase($"{name.Kernel} {name.Shape} {name.Variant}", omitted));
                    }
                    continue;
                }
                if (!(selection == Selection.Once ? once : keys).Add(Key(benchmark)) || names.Contains(name))
                {
                    throw new InvalidOperationException($"Two benchmark cases of {suite.Name} share the report name {name}.");
                }
                names.Add(name);
            }
            if (keys.Count + once.Count > 0)
            {
                plan.Add((suite, keys, once, names));
            }
        }
        int total = plan.Sum(p => p.Keys.Count + p.Once.Count);
        log.WriteLine($"report ({options.Mode.ToString().ToLowerInvariant()}): {total} cases in {plan.Count} suites, {rounds} round(s) → {output}");

        // The machine, measured before the kernels run (the probes also size each gather table like its case).
        MachineThroughput? throughput = MachineProbes.Measure(plan.SelectMany(p => p.Names), log, skipped);
        MachineDescription machine = MachineDescription.Capture(throughput);

        var samples = new Dictionary<string, Samples>();
        var distributed = new Dictionary<string, DistributedPoint>();
        string? mpiexec = DistributedRuns.Wanted(options) ? DistributedRuns.Mpiexec() : null;
        if (DistributedRuns.Wanted(options) && mpiexec is null)
        {
            skipped.Add(new SkippedCase("distributed (ranks against threads)", DistributedRuns.Missing));
        }
        for (int round = 1; round <= rounds; round++)
        {
            foreach ((Type suite, HashSet<string> keys, HashSet<string> once, _) in plan)
            {
                var suiteClock = Stopwatch.StartNew();
                string artifacts = Path.Combine(output, "bdn", $"round-{round}", suite.Name);
                var reports = new List<BenchmarkReport>();
                if (keys.Count > 0)
                {
                    reports.AddRange(RunSuite(suite, Config(options.Mode, artifacts), keys, skipped, log));
                }
                if (round == 1 && once.Count > 0)
                {
                    // Slow baselines: cold single calls, once per report.
                    reports.AddRange(RunSuite(suite, Config(ReportMode.Smoke, artifacts + "-once"), once, skipped, log));
                }
                int measured = 0;
                foreach (BenchmarkReport report in reports)
                {
                    if (report.ResultStatistics is not { } stats || !report.Success)
                    {
                        continue;
                    }
                    measured++;
                    string key = Key(report.BenchmarkCase);
                    if (!samples.TryGetValue(key, out Samples? s))
                    {
                        samples[key] = s = new Samples { Name = SuiteCatalog.Name(report.BenchmarkCase), Suite = $"{suite.Name}.{report.BenchmarkCase.Descriptor.WorkloadMethod.Name}" };
                    }
                    s.RoundMedians.Add(stats.Median / 1e6);
                    s.Quartiles.Add((stats.Q1 / 1e6, stats.Q3 / 1e6));
                    s.Allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                }
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {round}/{rounds}: {suite.Name,-28} {measured,3}/{keys.Count + (round == 1 ? once.Count : 0),-3} cases  {suiteClock.Elapsed.TotalSeconds,6:F1} s"));
            }
            if (mpiexec is not null)
            {
                DistributedRuns.RunRound(options.Mode, mpiexec, samples, distributed, skipped, log);
            }
        }

        foreach ((Type suite, _, _, List<CaseName> names) in plan)
        {
            foreach (CaseName name in names.Where(n => !samples.Values.Any(s => s.Name == n)))
            {
                skipped.Add(new SkippedCase($"{name.Kernel} {name.Shape} {name.Variant}", $"failed in {suite.Name}: see bdn/round-*/{suite.Name} logs"));
            }
        }

        PeerRun? peers = options.Peers ? RunPeers(output, plan.SelectMany(p => p.Names), log, skipped) : null;
        if (peers is null && options.Peers)
        {
            skipped.Add(new SkippedCase("peers", "no selected case has a peer"));
        }
        List<ReportRow> rows = Summarize(samples.Values, throughput, peers);
        List<GrowthPoint> growth = Growth(rows);
        var environment = new Dictionary<string, string>();
        if (peers is not null)
        {
            foreach ((string module, string version) in peers.Versions)
            {
                environment[module] = version;
            }
            if (peers.Python is not null)
            {
                environment["python"] = peers.Python;
            }
            if (peers.Blas is not null)
            {
                environment["blas"] = peers.Blas;
            }
        }
        var result = new PerformanceReport(typeof(ReportDriver).Assembly.GetName().Version?.ToString() ?? "", started,
            clock.Elapsed.TotalMinutes, options.Mode, rounds, command, machine,
            rows.Where(r => !r.Kernel.EndsWith(" growth", StringComparison.Ordinal)).ToList(), growth, skipped, environment,
            DistributedRuns.Points(distributed, rows));
        ReportWriter.Write(result, output);
        log.WriteLine(ReportMarkdown.Headline(result));
        log.WriteLine($"wrote {Path.Combine(output, "report.md")}, report.json and charts/ in {clock.Elapsed.TotalMinutes:F1} min; {skipped.Count} case(s) skipped");
        return skipped.Any(s => s.Reason.StartsWith("failed", StringComparison.Ordinal)) ? 1 : 0;
    }

    // One suite's selected cases; a suite that BenchmarkDotNet gives up on (an in-process case past its
    // timeout throws out of BenchmarkRunner) costs its cases of this round, not the report.
    private static IEnumerable<BenchmarkReport> RunSuite(Type suite, ManualConfig config, HashSet<string> keys, List<SkippedCase> skipped, TextWriter log)
    {
        try
        {
            return BenchmarkRunner.Run(suite, config.AddFilter(new SimpleFilter(b => keys.Contains(Key(b))))).Reports;
        }
        catch (InvalidOperationException e)
        {
            log.WriteLine($"  {suite.Name}: BenchmarkDotNet stopped: {e.Message}");
            skipped.Add(new SkippedCase(suite.Name, "failed: BenchmarkDotNet stopped the suite: " + e.Message));
            return [];
        }
    }

    /// <summary>How long one in-process case may run before BenchmarkDotNet stops it.</summary>
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromMinutes(10);

    // One job for every suite (the suites carry no counts of their own): in-process (no rebuild per
    // suite; the growth suite's graphs are shared), short iterations so that rounds rather than long
    // iterations carry the statistics. Smoke and the run-once cases: one cold call (Job.Dry).
    private static ManualConfig Config(ReportMode mode, string? artifacts)
    {
        Job job = mode == ReportMode.Smoke
            ? Job.Dry
            : Job.Default.WithWarmupCount(2).WithIterationCount(mode == ReportMode.Quick ? 5 : 8)
                .WithIterationTime(TimeInterval.FromMilliseconds(mode == ReportMode.Quick ? 100 : 200))
                .WithEvaluateOverhead(false); // the calls are ≥ 10 µs; the ns of call overhead is not worth a second of every case
        var config = ManualConfig.CreateEmpty()
            .AddJob(job.WithToolchain(new InProcessEmitToolchain(CaseTimeout, logOutput: false)).WithLaunchCount(1))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddExporter(JsonExporter.Full)
            .AddLogger(NullLogger.Instance)
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance);
        return artifacts is null ? config : config.WithArtifactsPath(artifacts);
    }

    // The full parameter values (BenchmarkDotNet's DisplayInfo shortens long ones, which made two whitening spectra one key).
    private static string Key(BenchmarkCase b) =>
        $"{b.Descriptor.Type.Name}.{b.Descriptor.WorkloadMethod.Name}|{string.Join('&', b.Parameters.Items.Select(p => $"{p.Name}={p.Value}"))}";

    private static bool Wanted(ReportOptions options, Type suite, CaseName name)
    {
        if (options.Variants is { } variants && !variants.Contains(name.Variant, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }
        return options.Filter is not { } filter
            || filter.Any(f => name.Kernel.Contains(f, StringComparison.OrdinalIgnoreCase) || suite.Name.Contains(f, StringComparison.OrdinalIgnoreCase));
    }

    internal static List<ReportRow> Summarize(IEnumerable<Samples> all, MachineThroughput? throughput, PeerRun? peers)
    {
        var list = all.ToList();
        var medians = list.ToDictionary(s => s.Name, s => Median(s.RoundMedians));
        var rows = new List<ReportRow>();
        foreach (Samples s in list)
        {
            double median = medians[s.Name];
            double spread = s.RoundMedians.Count >= 2
                ? (s.RoundMedians.Max() - s.RoundMedians.Min()) / median
                : (s.Quartiles[0].Q3 - s.Quartiles[0].Q1) / median;
            (double Ms, string How)? model = throughput is null ? null : FloorModel.Estimate(s.Name, throughput);
            double? cref = medians.TryGetValue(s.Name with { Variant = "c-ref" }, out double c) ? c : null;
            (double? floor, string? source) = (model, cref) switch
            {
                ({ } m, double r) when r < m.Ms => (r, "c-ref"),
                ({ } m, _) => (m.Ms, m.How),
                (null, double r) => (r, "c-ref"),
                _ => ((double?)null, (string?)null),
            };
            string? baseline = new[] { "naive", "scalar" }.FirstOrDefault(v => medians.ContainsKey(s.Name with { Variant = v }));
            double? speedup = baseline is null || baseline == s.Name.Variant ? null : medians[s.Name with { Variant = baseline }] / median;
            var peerRows = peers?.Results
                .Where(p => p.Kernel == s.Name.Kernel && p.Shape == s.Name.Shape)
                .Select(p => new PeerComparison(p.Peer, p.MedianMs, p.MedianMs / median, p.MaxRelativeError))
                .ToList() ?? [];
            rows.Add(new ReportRow(s.Name.Kernel, s.Name.Shape, s.Name.Variant, s.Suite, median, s.RoundMedians, spread, spread > SteadySpread,
                s.Allocated, floor, source, floor is double f ? 100 * f / median : null, baseline, speedup, peerRows));
        }
        return [.. rows.OrderBy(r => KernelOrder(r.Kernel)).ThenBy(r => r.Kernel, StringComparer.Ordinal)
            .ThenBy(r => ShapeOrder(r.Shape)).ThenBy(r => r.Shape, StringComparer.Ordinal).ThenBy(r => VariantOrder(r.Variant))];
    }

    internal static List<GrowthPoint> Growth(List<ReportRow> rows)
    {
        var points = new List<GrowthPoint>();
        foreach (ReportRow row in rows.Where(r => r.Kernel.EndsWith(" growth", StringComparison.Ordinal)))
        {
            if (CaseSizes.Graph(row.Shape) is (int n, long nnz, int width))
            {
                string kernel = row.Kernel[..^" growth".Length];
                double perNonZero = row.MedianMs * 1e6 / (nnz * (kernel == "FSC" ? CaseSizes.Layers : 1));
                points.Add(new GrowthPoint(kernel, row.Variant, row.Shape, n, nnz, width, row.MedianMs, perNonZero));
            }
        }
        return [.. points.OrderBy(p => p.Kernel, StringComparer.Ordinal).ThenBy(p => p.Variant, StringComparer.Ordinal).ThenBy(p => p.NonZeros)];
    }

    private static PeerRun? RunPeers(string output, IEnumerable<CaseName> cases, TextWriter log, List<SkippedCase> skipped)
    {
        var wanted = cases.Select(c => new PeerCase(c.Kernel, c.Shape)).Distinct().Where(PeerData.SupportedCases.Contains).ToList();
        // torch.linalg.svd and eigh of the 63,001 × 4,096 Electronics image table take minutes per call on 2 cores.
        foreach (PeerCase slow in wanted.Where(c => c.Kernel == PeerData.WhiteningExact && c.Shape == "electronics-image").ToList())
        {
            wanted.Remove(slow);
            skipped.Add(new SkippedCase($"peers of {slow.Kernel} {slow.Shape}", "torch's exact factorizations of a 63,001 × 4,096 table take minutes per call here"));
        }
        if (wanted.Count == 0)
        {
            return null;
        }
        string manifest = PeerData.Export(Path.Combine(output, "peers"), wanted);
        string script = PeerRunner.DefaultScriptPath;
        log.WriteLine($"  peers: {wanted.Count} case(s) through {script}");
        PeerRun run = PeerRunner.Run(manifest, script, TimeSpan.FromMinutes(20));
        foreach ((string peer, string reason) in run.Skipped)
        {
            skipped.Add(new SkippedCase("peer " + peer, reason));
        }
        return run;
    }

    internal static double Median(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values.Order()];
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    internal static int KernelOrder(string kernel) => Array.IndexOf(KernelNames, kernel) is int i and >= 0 ? i : KernelNames.Length;

    internal static readonly string[] KernelNames =
    [
        "SpMM", "FSC", "FSC sparse input", "AdamW", "BSC-AdamW", "BSC-AdamW+clip", "BPR accumulate", "BPR overwrite", "negative sample",
        "ranking", "dense product", "kNN top-k", "kNN products", "whitening exact", "whitening randomized", "SpMM growth", "FSC growth",
        "SpMM distributed", "FSC distributed", "halo exchange",
    ];

    private static int ShapeOrder(string shape) => shape.Split(',')[0] switch
    {
        "toy" => 0,
        var s when s.StartsWith("baby", StringComparison.Ordinal) => 1,
        var s when s.StartsWith("electronics", StringComparison.Ordinal) => 2,
        _ => 3,
    };

    internal static int VariantOrder(string variant) => variant switch
    {
        "naive" => 0,
        "scalar" => 1,
        "avx2" => 2,
        "avx512" => 3,
        "cpu" => 4,
        "c-ref" => 5,
        "opencl" => 6,
        "cuda" => 7,
        _ => 8,
    };
}
