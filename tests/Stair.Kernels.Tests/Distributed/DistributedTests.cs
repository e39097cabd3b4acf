// Real MPI jobs on localhost: mpiexec -n 1…4 runs this test assembly's DistributedScenarios, one
// rank per process. Skipped where mpiexec is missing, unless STAIR_REQUIRE_MPI=1 (the test command
// sets it after installing MPICH), which turns a missing MPI into failures.
using System.Diagnostics;
using Stair.Kernels.Distributed;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Distributed;

public class DistributedTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    public static TheoryData<string, int> ScenariosAndRanks()
    {
        var data = new TheoryData<string, int>();
        foreach (string scenario in DistributedScenarios.Equivalence.Append(DistributedTrainingScenario.Name))
        {
            foreach (int ranks in new[] { 1, 2, 3, 4 })
            {
                data.Add(scenario, ranks);
            }
        }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(ScenariosAndRanks))]
    public void Every_ranks_rows_are_bitwise_the_single_process_result(string scenario, int ranks)
    {
        ChildProcess.Result job = Mpiexec(ranks, scenario);
        Assert.True(job.ExitCode == 0, $"mpiexec -n {ranks} {scenario} exited {job.ExitCode}:\n{job.Output}");
        for (int r = 0; r < ranks; r++)
        {
            Assert.Contains($"rank {r}/{ranks}: {scenario} bitwise OK", job.Stdout);
        }
    }

    [SkippableTheory]
    [InlineData("device-cpu", 2)]
    [InlineData("device-cpu", 3)]
    [InlineData("device-ilgpu", 1)]
    [InlineData("device-ilgpu", 3)]
    [InlineData("device-mixed", 2)]
    [InlineData("device-mixed", 4)]
    [InlineData("device-opencl", 2)]
    [InlineData("device-opencl", 3)]
    [InlineData("device-cpu-tiny", 3)]
    [InlineData("device-ilgpu-tiny", 3)]
    public void Every_rank_on_its_own_backend_matches_that_backend_on_the_whole_graph(string scenario, int ranks)
    {
        if (scenario == "device-opencl")
        {
            if (Environment.GetEnvironmentVariable("STAIR_REQUIRE_OPENCL") == "1")
            {
                Assert.True(BackendDiscovery.IsAvailable(Backend.OpenCL), "STAIR_REQUIRE_OPENCL=1 but no usable OpenCL device");
            }
            Skip.IfNot(BackendDiscovery.IsAvailable(Backend.OpenCL), "no OpenCL device on this machine");
        }
        ChildProcess.Result job = Mpiexec(ranks, scenario);
        Assert.True(job.ExitCode == 0, $"mpiexec -n {ranks} {scenario} exited {job.ExitCode}:\n{job.Output}");
        for (int r = 0; r < ranks; r++)
        {
            Assert.Contains($"rank {r}/{ranks}: {scenario} {(scenario == "device-mixed" ? "OK" : "bitwise OK")}", job.Stdout);
        }
    }

    [SkippableTheory]
    [InlineData("mismatch", 2, "every rank must pass the same graph")]
    [InlineData("mismatch", 3, "every rank must pass the same graph")]
    [InlineData("badargs", 2, "rejected the call")]
    [InlineData("badargs", 4, "rejected the call")]
    public void A_disagreement_is_a_clear_error_on_every_rank(string scenario, int ranks, string message)
    {
        ChildProcess.Result job = Mpiexec(ranks, scenario);
        Assert.True(job.ExitCode == 0, $"mpiexec -n {ranks} {scenario} exited {job.ExitCode}:\n{job.Output}");
        for (int r = 0; r < ranks; r++)
        {
            Assert.Contains($"rank {r}/{ranks}: expected error", job.Stdout);
        }
        Assert.Contains(message, job.Stdout);
    }

    [SkippableTheory]
    [InlineData(2)]
    [InlineData(4)]
    public void A_rank_that_throws_ends_the_job_with_its_error_instead_of_a_hang(int ranks)
    {
        var clock = Stopwatch.StartNew();
        ChildProcess.Result job = Mpiexec(ranks, "throws");
        Assert.NotEqual(0, job.ExitCode);
        Assert.Contains("rank 1 failed: InvalidOperationException: rank 1 fails on purpose", job.Output);
        Assert.DoesNotContain("NOT STOPPED", job.Stdout);
        Assert.True(clock.Elapsed < JobTimeout, $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_missing_mpi_library_names_the_package_to_install()
    {
        var start = new ProcessStartInfo("dotnet") { ArgumentList = { typeof(DistributedScenarios).Assembly.Location, "--mpi-scenario", "tiny" } };
        start.Environment["STAIR_MPI_LIBRARY"] = "/nonexistent/libmpich.so.12";
        ChildProcess.Result run = ChildProcess.Run(start, JobTimeout);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("apt-get install mpich libmpich-dev", run.Output);
        Assert.Contains(nameof(MpiUnavailableException), run.Output);
    }

    private static ChildProcess.Result Mpiexec(int ranks, string scenario)
    {
        string? mpiexec = FindMpiexec();
        if (mpiexec is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("STAIR_REQUIRE_MPI") == "1",
                "STAIR_REQUIRE_MPI=1 but mpiexec is not on PATH (apt-get install mpich libmpich-dev)");
            Skip.If(true, "no mpiexec on this machine (apt-get install mpich libmpich-dev)");
        }
        var start = new ProcessStartInfo(mpiexec!)
        {
            ArgumentList = { "-n", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet", typeof(DistributedScenarios).Assembly.Location, "--mpi-scenario", scenario },
        };
        start.Environment["DOTNET_TieredPGO"] = "0";
        return ChildProcess.Run(start, JobTimeout);
    }

    private static string? FindMpiexec()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "mpiexec");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
