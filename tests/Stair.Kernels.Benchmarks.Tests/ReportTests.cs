// The benchmark report as an instrument: which cases each mode selects, how a row's floor,
// spread and ratios are derived, that the files round-trip, and (ReportSmokeTests) that the
// command really runs end to end. No test asserts a timing.
using Stair.Kernels.Benchmarks.Report;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Benchmarks.Tests;

public class ReportTests
{
    private static readonly MachineThroughput Probe = new(2, 20, new Dictionary<long, double> { [1L << 20] = 200e6, [64L << 20] = 50e6 }, 256, 100);

    private static ReportDriver.Samples Sample(string kernel, string shape, string variant, params double[] roundMedians)
    {
        var s = new ReportDriver.Samples { Name = new CaseName(kernel, shape, variant), Suite = "Test.Method" };
        s.RoundMedians.AddRange(roundMedians);
        s.Quartiles.AddRange(roundMedians.Select(m => (m * 0.99, m * 1.01)));
        s.Allocated = 0;
        return s;
    }

    [Fact]
    public void Smoke_selects_only_toy_cases_and_quick_no_electronics()
    {
        var toy = new CaseName("SpMM", "toy", "avx512");
        var baby = new CaseName("SpMM", "baby", "avx512");
        var electronics = new CaseName("SpMM", "electronics", "avx512");
        Assert.NotEqual(Selection.No, SuiteCatalog.Select(ReportMode.Smoke, typeof(PropagationBenchmarks), toy, out _));
        Assert.Equal(Selection.No, SuiteCatalog.Select(ReportMode.Smoke, typeof(PropagationBenchmarks), baby, out _));
        Assert.NotEqual(Selection.No, SuiteCatalog.Select(ReportMode.Quick, typeof(PropagationBenchmarks), baby, out _));
        Assert.Equal(Selection.No, SuiteCatalog.Select(ReportMode.Quick, typeof(PropagationBenchmarks), electronics, out _));
        Assert.NotEqual(Selection.No, SuiteCatalog.Select(ReportMode.Full, typeof(PropagationBenchmarks), electronics, out _));
        Assert.Equal(Selection.No, SuiteCatalog.Select(ReportMode.Quick, typeof(PropagationBenchmarks), baby with { Variant = "ilgpu-cpu" }, out _));
    }

    [Fact]
    public void Full_leaves_out_the_minutes_long_case_and_says_why()
    {
        Assert.Equal(Selection.No, SuiteCatalog.Select(ReportMode.Full, typeof(KnnGraphBenchmarks), new CaseName("kNN top-k", "electronics-visual", "avx512"), out string? why));
        Assert.Contains("minutes", why);
    }

    [Fact]
    public void Slow_baselines_run_once_and_the_best_tier_every_round()
    {
        Assert.Equal(Selection.Once, SuiteCatalog.Select(ReportMode.Full, typeof(PropagationBenchmarks), new CaseName("FSC", "electronics", "naive"), out _));
        Assert.Equal(Selection.Rounds, SuiteCatalog.Select(ReportMode.Full, typeof(PropagationBenchmarks), new CaseName("FSC", "electronics", "avx512"), out _));
        Assert.Equal(Selection.Rounds, SuiteCatalog.Select(ReportMode.Quick, typeof(PropagationBenchmarks), new CaseName("FSC", "baby", "naive"), out _));
    }

    [Fact]
    public void Growth_runs_up_to_Electronics_in_quick_mode_and_beyond_in_full()
    {
        var e1 = new CaseName("SpMM growth", "e1", "avx512");
        var e4 = new CaseName("SpMM growth", "e4", "avx512");
        Assert.NotEqual(Selection.No, SuiteCatalog.Select(ReportMode.Quick, typeof(GrowthBenchmarks), e1, out _));
        Assert.Equal(Selection.No, SuiteCatalog.Select(ReportMode.Quick, typeof(GrowthBenchmarks), e4, out _));
        Assert.NotEqual(Selection.No, SuiteCatalog.Select(ReportMode.Full, typeof(GrowthBenchmarks), e4, out _));
        Assert.Equal(1.0, GrowthBenchmarks.Scale("e1"));
        Assert.Equal(DatasetShape.Electronics.Interactions, GrowthBenchmarks.Shape("e1").Interactions);
        Assert.Equal(100.0, GrowthBenchmarks.Scale("e100-d16"));
        Assert.Equal(16, GrowthBenchmarks.Width("e100-d16"));
        Assert.Equal(64, GrowthBenchmarks.Width("e10"));
        Assert.Equal(100 * DatasetShape.Electronics.Users, GrowthBenchmarks.Shape("e100-d16").Users);
        Assert.Equal(Selection.Once, SuiteCatalog.Select(ReportMode.Full, typeof(GrowthBenchmarks), new CaseName("SpMM growth", "e100-d16", "avx512"), out _));
        Assert.Equal(Selection.No, SuiteCatalog.Select(ReportMode.Quick, typeof(GrowthBenchmarks), new CaseName("SpMM growth", "e10-d16", "avx512"), out _));
    }

    [Fact]
    public void Floor_is_the_faster_of_the_model_and_the_C_reference()
    {
        // The model of toy SpMM under this probe is far below 1 ms; a 10 ms C reference does not replace it, a 1 µs one does.
        List<ReportRow> slowRef = ReportDriver.Summarize([Sample("SpMM", "toy", "avx512", 2, 2), Sample("SpMM", "toy", "c-ref", 10, 10)], Probe, null);
        ReportRow avx = slowRef.Single(r => r.Variant == "avx512");
        Assert.StartsWith("model:", avx.FloorSource);
        Assert.True(avx.FloorMs < 1);
        Assert.Equal(100 * avx.FloorMs!.Value / 2, avx.PercentOfFloor!.Value, 9);

        List<ReportRow> fastRef = ReportDriver.Summarize([Sample("SpMM", "toy", "avx512", 2, 2), Sample("SpMM", "toy", "c-ref", 1e-3, 1e-3)], Probe, null);
        Assert.Equal("c-ref", fastRef.Single(r => r.Variant == "avx512").FloorSource);
        Assert.Equal(1e-3, fastRef.Single(r => r.Variant == "avx512").FloorMs);
    }

    [Fact]
    public void A_kernel_without_model_or_C_reference_has_no_floor()
    {
        ReportRow row = ReportDriver.Summarize([Sample("negative sample", "toy", "avx512", 1)], Probe, null).Single();
        Assert.Null(row.FloorMs);
        Assert.Null(row.PercentOfFloor);
    }

    [Fact]
    public void Ratios_are_taken_against_naive_else_scalar()
    {
        List<ReportRow> rows = ReportDriver.Summarize(
        [
            Sample("SpMM", "toy", "naive", 8), Sample("SpMM", "toy", "scalar", 4), Sample("SpMM", "toy", "avx512", 1),
            Sample("ranking", "toy", "scalar", 3), Sample("ranking", "toy", "avx512", 1.5),
        ], null, null);
        Assert.Equal(8.0, rows.Single(r => r.Kernel == "SpMM" && r.Variant == "avx512").SpeedupOverBaseline);
        Assert.Equal("naive", rows.Single(r => r.Kernel == "SpMM" && r.Variant == "scalar").Baseline);
        Assert.Null(rows.Single(r => r.Kernel == "SpMM" && r.Variant == "naive").SpeedupOverBaseline);
        Assert.Equal(2.0, rows.Single(r => r.Kernel == "ranking" && r.Variant == "avx512").SpeedupOverBaseline);
    }

    [Fact]
    public void Spread_is_the_range_of_the_rounds_and_flags_above_ten_percent()
    {
        List<ReportRow> rows = ReportDriver.Summarize([Sample("AdamW", "toy", "avx512", 1.0, 1.05, 1.02), Sample("AdamW", "toy", "avx2", 1.0, 1.3, 1.1)], null, null);
        ReportRow steady = rows.Single(r => r.Variant == "avx512");
        Assert.Equal(1.02, steady.MedianMs, 12);
        Assert.Equal(0.05 / 1.02, steady.Spread, 12);
        Assert.False(steady.Unsteady);
        Assert.True(rows.Single(r => r.Variant == "avx2").Unsteady);
    }

    [Fact]
    public void Growth_points_are_per_non_zero_and_count_the_FSC_layers()
    {
        List<ReportRow> rows = ReportDriver.Summarize([Sample("SpMM growth", "toy", "avx512", 1.0), Sample("FSC growth", "toy", "avx512", 3.0)], null, null);
        List<GrowthPoint> points = ReportDriver.Growth(rows);
        long nnz = GrowthBenchmarks.Graph("toy").NonZeros;
        Assert.Equal(1e6 / nnz, points.Single(p => p.Kernel == "SpMM").NanosecondsPerNonZero, 9);
        Assert.Equal(1e6 / nnz, points.Single(p => p.Kernel == "FSC").NanosecondsPerNonZero, 9);
    }

    [Fact]
    public void Report_files_round_trip()
    {
        string folder = Path.Combine(Path.GetTempPath(), "stair-report-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            List<ReportRow> rows = ReportDriver.Summarize([Sample("SpMM", "toy", "scalar", 4, 4.1), Sample("SpMM", "toy", "avx512", 1, 1.1)], Probe, null);
            var report = new PerformanceReport("0", DateTimeOffset.Now, 0.1, ReportMode.Smoke, 2, "report --mode smoke", MachineDescription.Capture(Probe),
                rows, ReportDriver.Growth(ReportDriver.Summarize([Sample("SpMM growth", "toy", "avx512", 1)], null, null)), [new SkippedCase("x", "why")],
                new Dictionary<string, string>());
            ReportWriter.Write(report, folder);
            PerformanceReport back = ReportWriter.Read(folder);
            Assert.Equal(report.Rows.Count, back.Rows.Count);
            Assert.Equal(report.Rows[1].MedianMs, back.Rows[1].MedianMs);
            Assert.Equal(ReportMode.Smoke, back.Mode);
            string md = File.ReadAllText(Path.Combine(folder, "report.md"));
            Assert.Contains("## Machine", md);
            Assert.Contains("| SpMM | toy | avx512 |", md);
            Assert.Contains("- x: why", md);
            foreach (string png in Directory.GetFiles(Path.Combine(folder, "charts")))
            {
                byte[] head = File.ReadAllBytes(png)[..8];
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, head);
            }
            Assert.True(File.Exists(Path.Combine(folder, "charts", "spmm-toy.png")));
            Assert.True(File.Exists(Path.Combine(folder, "charts", "growth.png")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
