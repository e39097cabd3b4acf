// The GPU check's archive as the GPU machine gets it: `scripts/gpu-check.sh prepare` (which publishes in a scratch
// copy of the tree, so it never races the surrounding `dotnet test` for bin/ and obj/) into a temporary folder,
// then the checks that need no GPU: it fits the 64 MiB carry, every app in it is self-contained, and its
// `stair-kernels devices` runs with no dotnet on PATH and no DOTNET_ROOT, finding the CPU backend and saying why
// CUDA is unavailable (no machine this runs on has an NVIDIA driver), and its benchmark report runs a tiny case.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

// This test and PackageConsumerTests each build a lot; one after the other, neither starves the other of the cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Stair.Kernels.PackageTests;

public sealed class GpuCheckArchiveTests(ITestOutputHelper output)
{
    private const long CarryLimit = 64L * 1024 * 1024;

    [Fact]
    public void ArchiveFitsAndItsCliRunsWithoutDotnet()
    {
        string root = ChildProcess.RepositoryRoot();
        string temp = Path.Combine(Path.GetTempPath(), $"stair-gpu-check-test-{Guid.NewGuid():N}");
        string archive = Path.Combine(temp, "gpu-check.tar.xz");
        string unpacked = Path.Combine(temp, "unpacked");
        Directory.CreateDirectory(unpacked);
        try
        {
            var environment = new Dictionary<string, string?>();
            // The test host inherits the outer MSBuild's variables; the script's builds must find their own SDK and settings.
            foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>()
                         .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)))
            {
                environment[name] = null;
            }
            environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            environment["DOTNET_NOLOGO"] = "1";
            Run(root, TimeSpan.FromMinutes(15), environment, "bash", Path.Combine(root, "scripts", "gpu-check.sh"), "prepare", archive);

            long size = new FileInfo(archive).Length;
            output.WriteLine($"archive: {size} bytes ({size / (1024.0 * 1024):F1} MiB)");
            Assert.True(size <= CarryLimit, $"the archive is {size} bytes, over the 64 MiB carry");

            Run(unpacked, TimeSpan.FromMinutes(2), new Dictionary<string, string?>(), "tar", "-xJf", archive);
            string bin = Path.Combine(unpacked, "gpu-check");
            foreach (string app in new[] { "stair-kernels", "Stair.Kernels.Benchmarks", "Stair.Kernels.Tests" })
            {
                Assert.True(File.Exists(Path.Combine(bin, app)), $"the archive has no {app} executable");
                // Self-contained: the runtime config lists the frameworks it carries, and names none to look up.
                string config = File.ReadAllText(Path.Combine(bin, app + ".runtimeconfig.json"));
                Assert.Contains("\"includedFrameworks\"", config, StringComparison.Ordinal);
                Assert.DoesNotContain("\"framework\"", config, StringComparison.Ordinal);
                Assert.DoesNotContain("\"frameworks\"", config, StringComparison.Ordinal);
            }
            Assert.True(File.Exists(Path.Combine(bin, "libcoreclr.so")), "the archive carries no runtime (libcoreclr.so)");

            // No dotnet: PATH without any folder that holds one, and no DOTNET_* variable (DOTNET_ROOT, DOTNET_HOST_PATH, ...).
            string path = string.Join(':', (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Where(folder => !File.Exists(Path.Combine(folder, "dotnet"))));
            var bare = new Dictionary<string, string?> { ["PATH"] = path };
            foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>()
                         .Where(k => k.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)))
            {
                bare[name] = null;
            }
            string devices = Run(unpacked, TimeSpan.FromMinutes(2), bare, Path.Combine(bin, "stair-kernels"), "devices");
            Assert.Matches(new Regex(@"^cpu\s+available", RegexOptions.Multiline), devices);
            // CUDA: a status other than "available", then a reason.
            Assert.Matches(new Regex(@"^cuda\s+(?!available)\S+:\s*\S.{4,}", RegexOptions.Multiline), devices);

            // The benchmark report runs from the archive too (gpu-check.sh run uses it): one tiny SpMM case, charts included.
            string report = Path.Combine(temp, "report");
            Run(unpacked, TimeSpan.FromMinutes(3), bare, Path.Combine(bin, "Stair.Kernels.Benchmarks"),
                "report", "--mode", "smoke", "--backend", "scalar,naive", "--filter", "SpMM", "--out", report);
            Assert.Contains("| SpMM | toy | scalar |", File.ReadAllText(Path.Combine(report, "report.md")), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(report, "charts", "spmm-toy.png")), "the archive's report drew no chart");
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    // Runs file args... in directory with the environment changes (null removes a variable); returns its output;
    // throws (failing the test) on a non-zero exit or on running past the timeout.
    private string Run(string directory, TimeSpan timeout, IReadOnlyDictionary<string, string?> environment, string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach ((string name, string? value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        return ChildProcess.Run(start, timeout, output);
    }
}
