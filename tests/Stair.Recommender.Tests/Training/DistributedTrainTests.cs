// `mpiexec -n N stair-kernels train --distributed` against the one-process `train` on the same planted
// MMRec directory: the printed metrics and losses are the same lines, and the best epoch's tables and
// their propagation (--checkpoints) are the same bytes. Skipped where mpiexec is missing, unless
// STAIR_REQUIRE_MPI=1 (the test command sets it after installing MPICH).
using System.Diagnostics;
using System.Globalization;
using Stair.Kernels.Cli;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Recommender.Tests.Infrastructure;

namespace Stair.Recommender.Tests.Training;

public class DistributedTrainTests
{
    private static readonly string[] Arguments = ["--epochs", "4", "--eval-every", "2", "--dim", "19", "--batch-size", "128", "--lr", "0.01",
        "--knn", "3,1", "--seed", "5", "--layers", "2"];

    [SkippableTheory]
    [InlineData(2, "")]
    [InlineData(3, "")]
    [InlineData(2, "--lightgcn")]
    public void Distributed_training_prints_the_same_metrics_and_writes_the_same_tables(int ranks, string ablation)
    {
        string mpiexec = Mpiexec();
        using var dir = new TempDirectory();
        TrainCommandTests.WriteMmrec(StairTrainerTests.Planted(), dir);
        string[] extra = ablation.Length > 0 ? [ablation] : [];

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["train", "--data", dir.Path, .. Arguments, .. extra, "--checkpoints", dir.File("one")], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());

        var start = new ProcessStartInfo(mpiexec);
        foreach (string a in new[] { "-n", ranks.ToString(CultureInfo.InvariantCulture), "dotnet", "exec", Path.Combine(AppContext.BaseDirectory, "stair-kernels.dll"),
            "train", "--distributed", "--data", dir.Path })
        {
            start.ArgumentList.Add(a);
        }
        foreach (string a in Arguments.Concat(extra).Append("--checkpoints").Append(dir.File("many")))
        {
            start.ArgumentList.Add(a);
        }
        ChildProcess.Result job = ChildProcess.Run(start, TimeSpan.FromMinutes(4));
        Assert.True(job.ExitCode == 0, $"mpiexec -n {ranks} exited {job.ExitCode}:\n{job.Output}");
        Assert.Contains($"× {ranks} MPI ranks", job.Stdout);

        // Every metrics row, the best epoch and the test line, character for character.
        string[] Metrics(string output) => output.Split('\n').Select(l => l.TrimEnd())
            .Where(l => l.StartsWith("best epoch", StringComparison.Ordinal) || l.StartsWith("test (", StringComparison.Ordinal)
                || (l.Length > 0 && char.IsDigit(l.TrimStart()[0]) && l.Contains("  ", StringComparison.Ordinal))).ToArray();
        string[] expected = Metrics(stdout.ToString());
        Assert.True(expected.Length >= 4, stdout.ToString());
        Assert.Equal(expected, Metrics(job.Stdout));
        foreach (string file in new[] { "users.npy", "items.npy", "users_propagated.npy", "items_propagated.npy" })
        {
            Assert.True(File.ReadAllBytes(Path.Combine(dir.File("one"), file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir.File("many"), file))),
                $"{file} differs between one process and {ranks} ranks");
        }
    }

    [SkippableFact]
    public void A_distributed_run_with_bad_options_ends_every_rank_with_one_clear_error()
    {
        string mpiexec = Mpiexec();
        using var dir = new TempDirectory();
        TrainCommandTests.WriteMmrec(StairTrainerTests.Planted(), dir);
        var start = new ProcessStartInfo(mpiexec);
        foreach (string a in new[] { "-n", "2", "dotnet", "exec", Path.Combine(AppContext.BaseDirectory, "stair-kernels.dll"),
            "train", "--distributed", "--data", dir.Path, "--backend", "opencl", "--epochs", "1" })
        {
            start.ArgumentList.Add(a);
        }
        ChildProcess.Result job = ChildProcess.Run(start, TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, job.ExitCode);
        Assert.Contains("runs its kernels on each rank's CPU", job.Output);
    }

    private static string Mpiexec()
    {
        string? found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "mpiexec")).FirstOrDefault(File.Exists);
        if (found is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("STAIR_REQUIRE_MPI") == "1",
                "STAIR_REQUIRE_MPI=1 but mpiexec is not on PATH (apt-get install mpich libmpich-dev)");
            Skip.If(true, "no mpiexec on this machine (apt-get install mpich libmpich-dev)");
        }
        return found!;
    }
}
