// The packages as an outside program sees them: pack the four library projects (already built by
// `dotnet test`, so pack -no-build) into a temporary folder feed under a version no earlier run used,
// then build tests/PackageConsumer against that feed (plus the machine's usual NuGet sources) and run it.
using System.Diagnostics;
using System.Reflection;
using System.Text;
using Xunit.Abstractions;

namespace Stair.Kernels.PackageTests;

public sealed class PackageConsumerTests(ITestOutputHelper output)
{
    private static readonly string[] PackageIds = ["Stair.Kernels", "Stair.Kernels.Distributed", "Stair.Kernels.IO", "Stair.Kernels.Validation"];
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public void PackagesBuildAndRunAConsumerProgram()
    {
        string root = ChildProcess.RepositoryRoot();
        // The configuration this test was built in is the one its referenced library projects were built in.
        string configuration = typeof(PackageConsumerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
            ?? throw new InvalidOperationException("The test assembly has no AssemblyConfigurationAttribute.");
        // A fresh prerelease version per run, so no NuGet cache can serve an older package of the same version.
        string version = $"0.0.0-check.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

        string temp = Path.Combine(Path.GetTempPath(), $"stair-package-check-{Guid.NewGuid():N}");
        string feed = Path.Combine(temp, "feed");
        string consumer = Path.Combine(temp, "consumer");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(consumer);
        try
        {
            string pack = Dotnet(root, "pack", Path.Combine(root, "Kernels.sln"), "-c", configuration, "--no-build", "-o", feed,
                $"-p:PackageVersion={version}", $"-p:NuspecOutputPath={Path.Combine(temp, "nuspec")}");
            string[] warnings = pack.Split('\n').Where(line => line.Contains("warning", StringComparison.OrdinalIgnoreCase)).ToArray();
            Assert.True(warnings.Length == 0, "dotnet pack warned:\n" + string.Join('\n', warnings));
            string[] packed = Directory.GetFiles(feed).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
            Assert.Equal(PackageIds.Select(id => $"{id}.{version}.nupkg"), packed);

            // The consumer is built outside the repository, so nothing of the repository's build reaches it.
            foreach (string file in Directory.GetFiles(Path.Combine(root, "tests", "PackageConsumer")))
            {
                File.Copy(file, Path.Combine(consumer, Path.GetFileName(file)));
            }
            var restore = new List<string>
            {
                $"-p:StairKernelsVersion={version}",
                $"-p:RestoreAdditionalProjectSources={feed}",
                // Its own packages folder (removed below); the machine's global one still serves ILGPU and MathNet.Numerics.
                $"-p:RestorePackagesPath={Path.Combine(temp, "packages")}",
            };
            string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
                ? custom
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            if (Directory.Exists(globalPackages))
            {
                restore.Add($"-p:RestoreAdditionalProjectFallbackFolders={globalPackages}");
            }
            string bin = Path.Combine(temp, "bin");
            Dotnet(consumer, ["build", Path.Combine(consumer, "PackageConsumer.csproj"), "-c", "Release", "-o", bin, .. restore]);

            // What it compiled against must be the packed assemblies, not anything from the repository's build.
            string assets = File.ReadAllText(Path.Combine(consumer, "obj", "project.assets.json"));
            foreach (string id in PackageIds)
            {
                Assert.Contains($"\"{id}/{version}\"", assets, StringComparison.Ordinal);
            }

            string run = Dotnet(consumer, Path.Combine(bin, "PackageConsumer.dll"));
            Assert.Contains("package consumer: all checks passed", run, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    // Runs `dotnet args...` in directory and returns its output; throws (failing the test) on a non-zero exit or a hang.
    private string Dotnet(string directory, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        bool msbuild = args[0] is "pack" or "build";
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        if (msbuild)
        {
            // No build servers or reused nodes: they would outlive the step and hold its output pipes open.
            start.ArgumentList.Add("--disable-build-servers");
            start.ArgumentList.Add("-nodeReuse:false");
            start.ArgumentList.Add("-nologo");
        }
        // The test host inherits the outer MSBuild's variables; a nested build must find its own SDK and settings.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        return ChildProcess.Run(start, StepTimeout, output);
    }
}
