// The report command end to end, as CI runs it: the benchmark assembly's `report --mode smoke`
// in a child process (every suite's toy cases, one cold round), then the folder it wrote. It
// checks that every kernel family and every variant this machine has produced a row, that the
// floors and ratios are filled where they must be, and that the files are there; never a time.
using System.Diagnostics;
using Stair.Kernels.Benchmarks.Report;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Benchmarks.Tests;

public class ReportSmokeTests
{
    [Fact]
    public void Smoke_report_runs_every_kernel_on_every_variant_and_writes_the_folder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "stair-report-smoke-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetTempPath() };
            foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "Stair.Kernels.Benchmarks.dll"), "report", "--mode", "smoke", "--out", folder })
            {
                start.ArgumentList.Add(arg);
            }
            ChildProcess.Result run = ChildProcess.Run(start, TimeSpan.FromMinutes(12));
            Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Output}");

            PerformanceReport report = ReportWriter.Read(folder);
            Assert.Equal(ReportMode.Smoke, report.Mode);
            foreach (string kernel in ReportDriver.KernelNames.Where(k => !k.EndsWith(" growth", StringComparison.Ordinal)))
            {
                Assert.True(report.Rows.Any(r => r.Kernel == kernel), $"no row for {kernel}\n{run.Output}");
            }
            foreach (string tier in SimdTiers.Supported.Select(t => t.ToString().ToLowerInvariant()))
            {
                Assert.Contains(report.Rows, r => r.Kernel == "SpMM" && r.Variant == tier);
            }
            if (BackendDiscovery.IsAvailable(Backend.OpenCL))
            {
                Assert.Contains(report.Rows, r => r.Kernel == "FSC" && r.Variant == "opencl");
            }
            Assert.All(report.Rows.Where(r => r.Kernel == "SpMM" && r.Variant != "naive"), r => Assert.NotNull(r.SpeedupOverBaseline));
            Assert.All(report.Rows, r => Assert.True(r.MedianMs > 0 && double.IsFinite(r.MedianMs), $"{r.Kernel} {r.Shape} {r.Variant}"));
            Assert.Contains(report.Growth, g => g.Kernel == "SpMM" && g.Size == "toy");
            Assert.NotEmpty(report.Machine.CpuModel);
            bool native = report.Machine.Throughput is not null;
            Assert.True(native || report.Skipped.Any(s => s.What.Contains("probes", StringComparison.Ordinal)), "no probes and no reason");
            if (native)
            {
                Assert.Contains(report.Rows, r => r.Kernel == "SpMM" && r.Variant == "c-ref");
                Assert.All(report.Rows.Where(r => r.Kernel is "SpMM" or "FSC" or "dense product"), r => Assert.NotNull(r.FloorMs));
            }
            string md = File.ReadAllText(Path.Combine(folder, "report.md"));
            Assert.Contains("## Headline", md);
            Assert.Contains("## Every case", md);
            Assert.True(File.Exists(Path.Combine(folder, "charts", "growth.png")));
            Assert.True(File.Exists(Path.Combine(folder, "charts", "spmm-toy.png")));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "bdn"), "*.json", SearchOption.AllDirectories));
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
