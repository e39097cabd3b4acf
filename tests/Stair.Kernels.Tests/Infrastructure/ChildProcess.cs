// Child processes for tests: stdout and stderr are drained concurrently (a child that fills one
// pipe while the test reads the other cannot deadlock), and a child that outlives its timeout is
// killed with its whole tree and the test fails with everything the child had written.
using System.Diagnostics;
using System.Text;

namespace Stair.Kernels.Tests.Infrastructure;

public static class ChildProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    /// <summary>Runs <paramref name="start"/> to completion within <paramref name="timeout"/>, or kills it and fails.</summary>
    public static Result Run(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var child = new Process { StartInfo = start };
        child.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        child.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        if (!child.Start())
        {
            Assert.Fail($"{start.FileName} did not start.");
        }
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        if (!child.WaitForExit(timeout))
        {
            try
            {
                child.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the timeout and the kill.
            }
            child.WaitForExit(TimeSpan.FromSeconds(10));
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} ran past {timeout.TotalSeconds:F0} s and was killed.\n"
                + $"stdout so far:\n{Text(stdout)}\nstderr so far:\n{Text(stderr)}");
        }
        child.WaitForExit(); // after a timed wait returns true, this one waits for the redirected streams to reach their end
        return new Result(child.ExitCode, Text(stdout), Text(stderr));
    }

    private static void Append(StringBuilder into, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (into)
        {
            into.Append(line).Append('\n');
        }
    }

    private static string Text(StringBuilder from)
    {
        lock (from)
        {
            return from.ToString();
        }
    }
}
