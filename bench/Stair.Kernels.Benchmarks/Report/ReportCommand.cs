// `Stair.Kernels.Benchmarks report`: the command line of the benchmark report (scripts/bench.sh
// calls it). Exit codes: 0 every selected case ran, 1 a case failed, 2 bad usage.
using System.CommandLine;

namespace Stair.Kernels.Benchmarks.Report;

internal static class ReportCommand
{
    public static int Run(string[] args)
    {
        var mode = new Option<ReportMode>("--mode")
        {
            Description = "smoke (tiny cases, one cold round: CI), quick (Baby shapes, growth to Electronics, 2 rounds, ≤ 10 min) or full (every shape, 3 rounds, ≤ 60 min)",
            DefaultValueFactory = _ => ReportMode.Quick,
        };
        var variants = new Option<string[]>("--backend")
        {
            Description = "only these variants (repeatable or comma-separated): naive, scalar, avx2, avx512, cpu, c-ref, opencl, cuda",
            AllowMultipleArgumentsPerToken = true,
        };
        var filter = new Option<string[]>("--filter")
        {
            Description = "only kernels or suites whose name contains one of these (case-insensitive), e.g. SpMM, FSC, whitening",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out")
        {
            Description = "the report folder (default: artifacts/report-<mode>)",
        };
        var peers = new Option<bool>("--peers") { Description = "also time the Python peers (PyTorch, scipy, scikit-learn, numpy) on the same inputs" };
        var rounds = new Option<int?>("--rounds") { Description = "rounds of every suite (default: smoke 1, quick 2, full 3)" };
        var command = new RootCommand("""
            Benchmarks every kernel on every SIMD tier and backend present against a floor measured in the same run
            (memory and FMA probes, C reference loops) and, with --peers, the Python peers; writes report.json,
            report.md, charts/ and the BenchmarkDotNet artifacts into one folder.
            """)
        {
            mode, variants, filter, output, peers, rounds,
        };
        command.SetAction(parse =>
        {
            ReportMode m = parse.GetValue(mode);
            string[]? v = Split(parse.GetValue(variants));
            string[]? f = Split(parse.GetValue(filter));
            int? r = parse.GetValue(rounds);
            if (r is < 1)
            {
                Console.Error.WriteLine("error: --rounds must be at least 1");
                return 2;
            }
            string folder = parse.GetValue(output) ?? Path.Combine("artifacts", "report-" + m.ToString().ToLowerInvariant());
            var options = new ReportOptions(m, v, f, folder, parse.GetValue(peers), r);
            return ReportDriver.Run(options, "report " + string.Join(' ', args), Console.Out);
        });
        ParseResult result = command.Parse(args);
        return result.Invoke();
    }

    private static string[]? Split(string[]? values) =>
        values is null || values.Length == 0 ? null : [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
}
