// The peer runner: parsing peers.py's JSON, what a missing interpreter, a timeout, a failing or a
// silent script become (decided: the first three a Skipped entry naming the cause, so the report is
// still written; exit 0 without output an exception, since that is a bug of the exchange), and one
// real run of peers.py on the toy export where python3 with torch and scipy is there.
using System.Diagnostics;
using Stair.Kernels.Benchmarks.Report;

namespace Stair.Kernels.Benchmarks.Tests;

public sealed class PeerRunnerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"stair-peer-runs-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    // Trimmed from a real run: `peers.py manifest.json out.json --reps 3` on the toy export (Debian 12's
    // python3-torch 1.13, scipy 1.10, OpenBLAS 0.3.21 pthread, 2 threads): its header, the torch CSR SpMM
    // row, the numpy kNN row, the first Stair check. Added by hand: an FSC row with no reference (null error,
    // as when scipy is missing), a non-finite error (peers.py writes it as a string) and a skipped entry.
    private const string RecordedSample = """
        {
         "python": "3.11.2",
         "versions": {"numpy": "1.24.2", "scipy": "1.10.1", "torch": "1.13.0a0", "sklearn": "1.2.1"},
         "blas": "openblas-pthread 0.3.21",
         "blas_libraries": ["/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", "/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3",
                            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"],
         "threads": 2,
         "results": [
          {"kernel": "SpMM", "shape": "toy", "peer": "torch.sparse.mm (CSR)", "median_ms": 0.1109760000872484, "min_ms": 0.10958399980154354, "max_ms": 0.13191800007916754, "reps": 3, "max_rel_error": 1.7218397788735473e-07, "bound": 1.342493258476057e-05},
          {"kernel": "kNN top-k", "shape": "toy", "peer": "numpy blocked X·Xᵀ + argpartition", "median_ms": 0.5136310001034872, "min_ms": 0.474902999940241, "max_ms": 0.5283030000100553, "reps": 3, "max_rel_error": 0.0, "bound": 5.779284280736081e-06, "identical_fraction": 1.0},
          {"kernel": "FSC", "shape": "toy", "peer": "scipy Horner csr @ X", "median_ms": 0.61, "min_ms": 0.6, "max_ms": 0.7, "reps": 3, "max_rel_error": null},
          {"kernel": "SpMM", "shape": "toy", "peer": "torch.sparse.mm (COO)", "median_ms": 1, "min_ms": 1, "max_ms": 1, "reps": 3, "max_rel_error": "inf"}
         ],
         "skipped": [{"peer": "sklearn peers", "reason": "import sklearn.utils.extmath failed: ModuleNotFoundError: No module named 'sklearn'"}],
         "stair_checks": [{"kernel": "SpMM", "shape": "toy", "check": "Stair vs float64 scipy", "max_rel_error": 1.7218397788735473e-07, "bound": 1.342493258476057e-05, "ok": true}],
         "torch_blas": "generic",
         "torch_cpu_capability": "AVX2"
        }
        """;

    [Fact]
    public void Parses_a_recorded_result()
    {
        PeerRun run = PeerRunner.Parse(RecordedSample);
        Assert.Equal("3.11.2", run.Python);
        Assert.Equal("openblas-pthread 0.3.21", run.Blas);
        Assert.Equal(4, run.Versions.Count);
        Assert.Equal("1.24.2", run.Versions["numpy"]);
        Assert.Equal("1.13.0a0", run.Versions["torch"]);
        Assert.Equal(4, run.Results.Count);
        Assert.Equal(new PeerResult("SpMM", "toy", "torch.sparse.mm (CSR)", 0.1109760000872484, 0.10958399980154354, 0.13191800007916754, 3, 1.7218397788735473e-07),
            run.Results[0]);
        Assert.Equal("numpy blocked X·Xᵀ + argpartition", run.Results[1].Peer);
        Assert.Equal(0.0, run.Results[1].MaxRelativeError);
        Assert.Null(run.Results[2].MaxRelativeError);
        Assert.Equal(double.PositiveInfinity, run.Results[3].MaxRelativeError);
        (string peer, string reason) = Assert.Single(run.Skipped);
        Assert.Equal("sklearn peers", peer);
        Assert.Contains("No module named 'sklearn'", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"results\": [], \"versions\": {}}")] // no "skipped"
    [InlineData("{\"results\": [{\"kernel\": \"SpMM\"}], \"skipped\": []}")] // a result without its numbers
    [InlineData("{\"results\": [{\"kernel\": \"SpMM\", \"shape\": \"toy\", \"peer\": \"p\", \"median_ms\": \"fast\", \"min_ms\": 1, \"max_ms\": 1, \"reps\": 1}], \"skipped\": []}")]
    public void Malformed_results_throw_InvalidDataException(string json) =>
        Assert.Throws<InvalidDataException>(() => PeerRunner.Parse(json));

    [Fact]
    public void A_missing_interpreter_is_one_skipped_entry()
    {
        string manifest = ToyManifest();
        PeerRun run = PeerRunner.Run(manifest, PeerRunner.DefaultScriptPath, TimeSpan.FromSeconds(30), "/nonexistent/bin/python3");
        Assert.Empty(run.Results);
        Assert.Null(run.Python);
        (string peer, string reason) = Assert.Single(run.Skipped);
        Assert.Equal("python3", peer);
        Assert.Contains("no Python interpreter", reason, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/bin/python3", reason, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_timeout_kills_the_script_and_keeps_what_it_had_written()
    {
        string python = RequirePython();
        string manifest = ToyManifest();
        // Writes one finished case, then hangs.
        string script = Script("timeout.py", """
            import json, sys, time
            json.dump({"python": "3", "versions": {}, "blas": None, "results": [{"kernel": "SpMM", "shape": "toy", "peer": "p",
                       "median_ms": 1.0, "min_ms": 1.0, "max_ms": 1.0, "reps": 1, "max_rel_error": 0.0}], "skipped": []}, open(sys.argv[2], "w"))
            print("case done", flush=True)
            time.sleep(120)
            """);
        var watch = Stopwatch.StartNew();
        PeerRun run = PeerRunner.Run(manifest, script, TimeSpan.FromSeconds(3), python);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"Run returned after {watch.Elapsed}.");
        Assert.Equal("p", Assert.Single(run.Results).Peer);
        (string peer, string reason) = Assert.Single(run.Skipped);
        Assert.Equal("peers.py", peer);
        Assert.StartsWith("timed out after 3 s and was killed", reason, StringComparison.Ordinal);
        Assert.Contains("case done", reason, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_script_error_is_a_skipped_entry_with_the_exit_code_and_its_error_output()
    {
        string python = RequirePython();
        string manifest = ToyManifest();
        string script = Script("fail.py", """
            import sys
            sys.stderr.write("peers.py: boom\n")
            sys.exit(3)
            """);
        PeerRun run = PeerRunner.Run(manifest, script, TimeSpan.FromMinutes(1), python);
        Assert.Empty(run.Results);
        (string peer, string reason) = Assert.Single(run.Skipped);
        Assert.Equal("peers.py", peer);
        Assert.StartsWith("exited with code 3: ", reason, StringComparison.Ordinal);
        Assert.Contains("boom", reason, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_script_that_exits_0_without_output_throws()
    {
        string python = RequirePython();
        string manifest = ToyManifest();
        string script = Script("silent.py", "pass\n");
        var e = Assert.Throws<InvalidDataException>(() => PeerRunner.Run(manifest, script, TimeSpan.FromMinutes(1), python));
        Assert.Contains("wrote no", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Caller_mistakes_throw()
    {
        Assert.Throws<FileNotFoundException>(() => PeerRunner.Run(Path.Combine(_folder, "none.json"), PeerRunner.DefaultScriptPath, TimeSpan.FromMinutes(1)));
        string manifest = ToyManifest();
        Assert.Throws<FileNotFoundException>(() => PeerRunner.Run(manifest, Path.Combine(_folder, "none.py"), TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerRunner.Run(manifest, PeerRunner.DefaultScriptPath, TimeSpan.Zero));
    }

    [Fact]
    public void The_script_ships_next_to_the_bench_assembly()
    {
        Assert.True(File.Exists(PeerRunner.DefaultScriptPath), PeerRunner.DefaultScriptPath);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(PeerRunner.DefaultScriptPath)!, "install.sh")));
    }

    [SkippableFact]
    public void End_to_end_toy_run_is_within_the_float32_bounds()
    {
        string python = RequirePython();
        string? missing = Probe(python, "import numpy, scipy, torch");
        Skip.If(missing is not null, $"{python} cannot import numpy, scipy and torch (bench/peers/install.sh installs them): {missing}");
        string manifest = PeerData.Export(_folder, PeerDataTests.ToyCases, new PeerExportOptions { Reps = 2, Threads = 2 });
        PeerRun run = PeerRunner.Run(manifest, PeerRunner.DefaultScriptPath, TimeSpan.FromMinutes(5), python);

        Assert.DoesNotContain(run.Skipped, s => s.Reason.Contains("check failed", StringComparison.Ordinal) || s.Peer == "peers.py");
        Assert.NotNull(run.Python);
        Assert.NotNull(run.Blas);
        Assert.Contains("torch", run.Versions.Keys);
        foreach (string peer in new[] { "torch.sparse.mm (CSR)", "torch.sparse.mm (COO)", "scipy.sparse csr @ X" })
        {
            Assert.Contains(run.Results, r => r.Kernel == "SpMM" && r.Peer == peer);
        }

        // The bounds (componentwise, relative to |A|·|X|, the measure peers.py reports). Any order of summing a
        // row's n products in float32 is within γ_n = n·u/(1 − n·u), u = 2⁻²⁴, n = the longest row (Higham §3.1).
        // FSC's L Horner layers G ← E + β⊙(A·G) each add γ_n + 2u (the product, the scale by β and the add) of the
        // same filter run on |A|, |E|, and the final scale by c (itself rounded to float32) 2u more:
        // L·(γ_n + 2u) + 2u. 1.01 covers the second-order terms (n·u ≤ 10⁻⁴ here).
        int n = Enumerable.Range(0, 900).Max(PropagationBenchmarks.Graph(PropagationBenchmarks.Toy).RowLength);
        const double u = 1.0 / (1 << 24);
        double gamma = n * u / (1 - n * u);
        double spmmBound = 1.01 * gamma, fscBound = 1.01 * (PropagationBenchmarks.Layers * (gamma + 2 * u) + 2 * u);
        PeerResult[] propagation = run.Results.Where(r => r.Kernel is "SpMM" or "FSC").ToArray();
        Assert.True(propagation.Length >= 4, string.Join("; ", run.Skipped));
        foreach (PeerResult r in propagation)
        {
            double bound = r.Kernel == "SpMM" ? spmmBound : fscBound;
            Assert.True(r.MaxRelativeError is double e && e <= bound, $"{r.Kernel} {r.Peer}: error {r.MaxRelativeError} > {bound:G3}");
            Assert.Equal(2, r.Reps);
            Assert.True(r.MinMs > 0 && r.MinMs <= r.MedianMs && r.MedianMs <= r.MaxMs, $"{r.Peer}: {r.MinMs} {r.MedianMs} {r.MaxMs}");
        }
        // kNN: the lists agree with Stair's up to near-ties (peers.py checked it before timing).
        Assert.Contains(run.Results, r => r.Kernel == "kNN top-k" && r.Peer.StartsWith("numpy", StringComparison.Ordinal));
    }

    private string ToyManifest() => PeerData.Export(_folder, [new(PeerData.KnnTopK, "toy")], new PeerExportOptions { Expected = false });

    private string Script(string name, string text)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    // The interpreter PeerRunner would use, or a Skip saying there is none.
    private static string RequirePython()
    {
        string python = PeerRunner.DefaultPython();
        string? missing = Probe(python, "import sys");
        Skip.If(missing is not null, $"no Python interpreter ({python}): {missing}");
        return python;
    }

    // null when `python -c code` exits 0 within a minute, else what went wrong.
    private static string? Probe(string python, string code)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(code);
        try
        {
            using Process process = Process.Start(start)!;
            Task<string> error = process.StandardError.ReadToEndAsync();
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
            {
                process.Kill(entireProcessTree: true);
                return "timed out";
            }
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"exit {process.ExitCode}: {error.Result.Trim()} {output.Result.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
