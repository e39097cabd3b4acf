// The stair-kernels commands end to end: files in, files out, exit codes, one-line errors.
using System.Diagnostics;
using Stair.Kernels.Cli;
using Stair.Kernels.IO;
using Stair.Kernels.Tests.Infrastructure;
using static Stair.Kernels.Tests.Infrastructure.Reference;

namespace Stair.Kernels.Tests.Cli;

public sealed class CliTests() : CliTestBase("stair-cli-")
{
    [Fact]
    public void Propagate_writes_fsc_of_the_input_and_reports_the_median_time()
    {
        CsrMatrix a = TestGraphs.SmallAdjacency(30, 20, seed: 4);
        const int d = 9;
        float[] e = TestGraphs.Table(a.Rows, d, 1);
        ScipyNpz.WriteCsr(PathOf("A.npz"), a);
        Npy.Write(PathOf("E.npy"), e, a.Rows, d);

        var (code, stdout, stderr) = Run("propagate", "--adjacency", PathOf("A.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy"),
            "--layers", "2", "--gamma", "0.3", "--repeat", "3", "--tier", "scalar", "--threads", "1");

        Assert.True(code == 0, stderr);
        Assert.Contains("median of 3 run(s)", stdout);
        float[] z = Npy.ReadMatrix(PathOf("Z.npy"), out int rows, out int cols);
        Assert.Equal((a.Rows, d), (rows, cols));
        float[] beta = StepwiseWeights.Forward(d, 0.3);
        AssertClose(Fsc(a, ToDouble(e), d, 2, beta), Fsc(a, ToDouble(e), d, 2, beta, absolute: true), z,
            Kernels.Validation.Float64Reference.FscTolerance(TestGraphs.MaxRowLength(a), 2), "propagate");
    }

    [Fact]
    public void Propagate_spmm_transpose_with_a_beta_file()
    {
        CsrMatrix a = TestGraphs.RandomPowerLaw(25, 40, seed: 8);
        const int d = 5;
        float[] x = TestGraphs.Table(a.Rows, d, 2);
        ScipyNpz.WriteCsr(PathOf("A.npz"), a, compressed: false);
        Npy.Write(PathOf("X.npy"), x, a.Rows, d);
        Npy.Write(PathOf("b.npy"), new float[] { 0.1f, 0.2f, 0.3f, 0.4f, 0.5f }, d);

        var (code, _, stderr) = Run("propagate", "--adjacency", PathOf("A.npz"), "--input", PathOf("X.npy"), "--output", PathOf("Y.npy"), "--spmm", "--transpose");

        Assert.True(code == 0, stderr);
        float[] y = Npy.ReadMatrix(PathOf("Y.npy"), out int rows, out _);
        Assert.Equal(a.Columns, rows);
        AssertClose(Spmm(a, ToDouble(x), d, transpose: true), Spmm(a, ToDouble(x), d, transpose: true, absolute: true), y,
            Kernels.Validation.Float64Reference.SpmmTolerance(40), "spmm-t");
    }

    [Fact]
    public void Propagate_on_the_ilgpu_simulator_matches_the_reference()
    {
        CsrMatrix a = TestGraphs.SmallAdjacency(12, 8, seed: 2);
        const int d = 6;
        float[] e = TestGraphs.Table(a.Rows, d, 3);
        ScipyNpz.WriteCsr(PathOf("A.npz"), a);
        Npy.Write(PathOf("E.npy"), e, a.Rows, d);

        var (code, stdout, stderr) = Run("propagate", "--adjacency", PathOf("A.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy"),
            "--backend", "ilgpu-cpu", "--layers", "2");

        Assert.True(code == 0, stderr);
        Assert.Contains("IlgpuCpu", stdout);
        float[] z = Npy.ReadMatrix(PathOf("Z.npy"), out _, out _);
        float[] beta = StepwiseWeights.Forward(d, 0.1);
        AssertClose(Fsc(a, ToDouble(e), d, 2, beta), Fsc(a, ToDouble(e), d, 2, beta, absolute: true), z,
            Kernels.Validation.Float64Reference.FscTolerance(TestGraphs.MaxRowLength(a), 2), "propagate --backend ilgpu-cpu");
    }

    [Fact]
    public void Devices_lists_every_backend_and_require_fails_for_a_missing_one()
    {
        var (code, stdout, _) = Run("devices");
        Assert.Equal(0, code);
        foreach (string name in new[] { "cpu", "cuda", "opencl", "ilgpu-cpu" })
        {
            Assert.Matches($"(?m)^{name} +(available|missing: .+)$", stdout);
        }
        foreach (BackendReport report in BackendDiscovery.Probe().Where(r => !r.Available))
        {
            string name = report.Backend == Backend.OpenCL ? "opencl" : report.Backend == Backend.Cuda ? "cuda" : "other";
            Assert.Equal(1, Run("devices", "--require", name).Code);
        }
        Assert.Equal(0, Run("devices", "--require", "cpu").Code);
    }

    [Fact]
    public void Knn_writes_the_same_graph_as_the_library_and_rejects_mismatched_modalities()
    {
        float[] text = TestGraphs.Table(30, 8, 1), image = TestGraphs.Table(30, 3, 2);
        Npy.Write(PathOf("text.npy"), text, 30, 8);
        Npy.Write(PathOf("image.npy"), image, 30, 3);
        Npy.Write(PathOf("short.npy"), TestGraphs.Table(29, 3, 2), 29, 3);

        var (code, stdout, stderr) = Run("knn", "--features", PathOf("text.npy") + "," + PathOf("image.npy"), "--k", "5,1", "--output", PathOf("S.npz"));

        Assert.True(code == 0, stderr);
        Assert.Contains("30 items", stdout);
        CsrMatrix expected = Kernels.KnnGraph.Build(30, [new KnnModality(text, 8, 5), new KnnModality(image, 3, 1)]);
        Bits.AssertBitsEqual(expected.ToDense(), ScipyNpz.ReadCsr(PathOf("S.npz")).ToDense(), "S.npz");
        var simulator = Run("knn", "--features", PathOf("text.npy") + "," + PathOf("image.npy"), "--k", "5,1", "--output", PathOf("S2.npz"), "--backend", "ilgpu-cpu");
        Assert.True(simulator.Code == 0, simulator.Err);
        Assert.Contains("IlgpuCpu", simulator.Out);
        Bits.AssertBitsEqual(expected.ToDense(), ScipyNpz.ReadCsr(PathOf("S2.npz")).ToDense(), "S2.npz");
        Assert.Equal(2, Run("knn", "--features", PathOf("text.npy"), "--k", "5", "--output", PathOf("T.npz"), "--backend", "gpu").Code);

        var bad = Run("knn", "--features", PathOf("text.npy") + "," + PathOf("short.npy"), "--k", "5,1", "--output", PathOf("T.npz"));
        Assert.Equal(2, bad.Code);
        Assert.StartsWith("error: ", bad.Err);
        Assert.Equal(2, Run("knn", "--features", PathOf("text.npy"), "--k", "5,1", "--output", PathOf("T.npz")).Code);
        Assert.Equal(2, Run("knn", "--features", PathOf("text.npy"), "--k", "30", "--output", PathOf("T.npz")).Code);
        Assert.False(File.Exists(PathOf("T.npz")));
    }

    [Fact]
    public void Adjacency_from_an_mmrec_inter_file_uses_training_rows_only()
    {
        File.WriteAllText(PathOf("toy.inter"), "userID\titemID\trating\ttimestamp\tx_label\n0\t0\t5\t1\t0\n0\t1\t4\t2\t0\n1\t1\t3\t3\t0\n1\t0\t1\t4\t2\n2\t2\t1\t5\t1\n");
        var (code, stdout, stderr) = Run("adjacency", "--interactions", PathOf("toy.inter"), "--output", PathOf("A.npz"));
        Assert.True(code == 0, stderr);
        Assert.Contains("3 training interactions", stdout);
        CsrMatrix read = ScipyNpz.ReadCsr(PathOf("A.npz"));
        CsrMatrix expected = GraphBuilder.UserItemAdjacency(3, 3, [0, 0, 1], [0, 1, 1]);
        Bits.AssertBitsEqual(expected.ToDense(), read.ToDense(), "adjacency read back");
    }

    [Fact]
    public void Adjacency_from_a_two_column_csv_with_header()
    {
        File.WriteAllText(PathOf("pairs.csv"), "user,item\n0,1\n1,0\n1,1\n1,1\n");
        var (code, _, stderr) = Run("adjacency", "--interactions", PathOf("pairs.csv"), "--output", PathOf("A.npz"), "--users", "4");
        Assert.True(code == 0, stderr);
        CsrMatrix read = ScipyNpz.ReadCsr(PathOf("A.npz"));
        Assert.Equal(6, read.Rows); // 4 users (one isolated by --users) + 2 items
        Bits.AssertBitsEqual(GraphBuilder.UserItemAdjacency(4, 2, [0, 1, 1, 1], [1, 0, 1, 1]).ToDense(), read.ToDense(), "adjacency read back");
    }

    [Theory]
    [InlineData("unknown command")]
    [InlineData("unknown option")]
    [InlineData("missing file")]
    [InlineData("missing value")]
    [InlineData("bad tier")]
    [InlineData("bad layers")]
    [InlineData("shape mismatch")]
    [InlineData("bad inter")]
    [InlineData("malformed npz")]
    public void Bad_input_is_one_line_on_stderr_and_exit_code_2(string @case)
    {
        CsrMatrix a = TestGraphs.SmallAdjacency(10, 6, seed: 1);
        ScipyNpz.WriteCsr(PathOf("A.npz"), a);
        Npy.Write(PathOf("E.npy"), TestGraphs.Table(a.Rows + 1, 4, 1), a.Rows + 1, 4);
        File.WriteAllText(PathOf("bad.inter"), "userID\titemID\tx_label\n0\tseven\t0\n");
        File.WriteAllText(PathOf("bad.npz"), "this is not a zip file");
        string[] args = @case switch
        {
            "unknown command" => ["frobnicate"],
            "unknown option" => ["validate", "--fast"],
            "missing file" => ["propagate", "--adjacency", PathOf("nope.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy")],
            "missing value" => ["propagate", "--adjacency"],
            "bad tier" => ["propagate", "--adjacency", PathOf("A.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy"), "--tier", "sse9"],
            "bad layers" => ["propagate", "--adjacency", PathOf("A.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy"), "--layers", "-1"],
            "shape mismatch" => ["propagate", "--adjacency", PathOf("A.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy")],
            "bad inter" => ["adjacency", "--interactions", PathOf("bad.inter"), "--output", PathOf("A2.npz")],
            _ => ["propagate", "--adjacency", PathOf("bad.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy")],
        };
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        string[] lines = stderr.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(File.Exists(PathOf("Z.npy")), "no output file is left behind on failure");
    }

    [Fact]
    public void Validate_quick_passes_and_covers_every_tier()
    {
        var (code, stdout, stderr) = Run("validate", "--quick", "--repeat", "1");
        Assert.True(code == 0, stdout + stderr);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            Assert.Contains("cpu/" + tier.ToString().ToLowerInvariant(), stdout);
        }
        foreach (string kernel in new[] { "spmm ", "spmm-t", "fsc ", "fsc-backward" })
        {
            Assert.Contains(kernel, stdout);
        }
        Assert.Matches(@"\n\d+ passed, 0 failed", stdout);
    }

    [Fact]
    public void Validate_report_writes_the_table_with_the_machine_header()
    {
        string folder = PathOf("validate-report");
        var (code, stdout, stderr) = Run("validate", "--quick", "--repeat", "1", "--backend", "cpu", "--report", folder);
        Assert.True(code == 0, stdout + stderr);
        Stair.Kernels.Validation.ValidationReport report = Stair.Kernels.Validation.ValidationReport.Read(folder);
        int printed = int.Parse(System.Text.RegularExpressions.Regex.Match(stdout, @"\n(\d+) passed, 0 failed").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(printed, report.Results.Count);
        Assert.Equal(printed, report.Passed);
        Assert.Contains(report.Results, r => r.Kernel.StartsWith("fsc", StringComparison.Ordinal));
        Assert.NotEmpty(report.Machine.CpuModel);
        Assert.Contains(report.Machine.Backends, b => b.Backend == "cpu" && b.Available);
        string md = File.ReadAllText(Path.Combine(folder, "validate.md"));
        Assert.Contains("## Machine", md);
        Assert.Contains($"**{printed} passed, 0 failed**", md);
        Assert.Contains("| spmm | cpu/", md);
    }

    // ImageSharp's habit: rerun in a child process with ISAs switched off through the runtime's
    // own switches, and check inside the child which tiers really remain, so a renamed switch fails
    // loudly. (It did: .NET 10 ignores DOTNET_EnableAVX512F; the switch is now DOTNET_EnableAVX512.)
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromMinutes(4);

    [Theory]
    [InlineData("DOTNET_EnableAVX512", "avx2")]
    [InlineData("DOTNET_EnableAVX2", "scalar")]
    [InlineData("DOTNET_EnableHWIntrinsic", "scalar")]
    public void Validate_in_a_child_process_with_isas_switched_off(string variable, string widest)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "stair-kernels.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing");
        if (widest == "avx2" && !SimdTiers.Avx2Supported)
        {
            widest = "scalar"; // this machine has no AVX2 to fall back to
        }
        var start = new ProcessStartInfo("dotnet");
        foreach (string arg in new[] { "exec", cli, "validate", "--quick", "--repeat", "1" })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment[variable] = "0";
        // A quick validate takes seconds; the timeout only turns a hung child into a failure with its output.
        ChildProcess.Result child = ChildProcess.Run(start, ChildTimeout);
        string stdout = child.Stdout;
        Assert.True(child.ExitCode == 0, child.Output);
        string tiersLine = stdout.Split('\n')[0];
        Assert.EndsWith(widest + "; " + Environment.ProcessorCount + " core(s)", tiersLine.TrimEnd());
        Assert.DoesNotContain("avx512", tiersLine);
        Assert.DoesNotContain("cpu/avx512", stdout);
    }
}
