// The two package checks run child processes (dotnet, bash, tar, the unpacked CLI) the same way:
// output and error read together as they come, a time limit that kills the whole process tree,
// the command and its output in the test log, and a non-zero exit failing the test.
using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Stair.Kernels.PackageTests;

internal static class ChildProcess
{
    /// <summary>Runs <paramref name="start"/> (output and error redirected here); returns its output, throws on a timeout or a non-zero exit.</summary>
    public static string Run(ProcessStartInfo start, TimeSpan timeout, ITestOutputHelper output)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        string command = $"{start.FileName} {string.Join(' ', start.ArgumentList)}";
        var text = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (text) { text.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (text) { text.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} ran past {timeout.TotalMinutes} minutes:\n{text}");
        }
        process.WaitForExit(); // drains the redirected output
        string result;
        lock (text)
        {
            result = text.ToString();
        }
        output.WriteLine($"$ {command}  ({watch.Elapsed.TotalSeconds:F1} s, exit {process.ExitCode})");
        output.WriteLine(result);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} exited with {process.ExitCode}:\n{result}");
        }
        return result;
    }

    /// <summary>The folder holding Kernels.sln, above the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kernels.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Kernels.sln above {AppContext.BaseDirectory}.");
    }
}
