// `stair-kernels validate`: every kernel on every backend and tier against float64.
using System.Globalization;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Cli.Commands;

internal static class ValidateCommand
{
    public const string Usage = """
        stair-kernels validate [--quick] [--repeat R] [--seed S] [--backend cpu|cuda|opencl|ilgpu-cpu]
          Runs every kernel on every backend and SIMD tier this machine has (ILGPU's simulator on the
          small sizes only) on seeded random inputs
          (several sizes; the Amazon Baby shape unless --quick) against the float64 reference and
          prints one table. "max err" is the largest error relative to the rounding scale |A|·|X|;
          a case passes when it is within the float32 forward-error bound. For knn-topk it is the number
          of items whose neighbour list differs from a float64 brute force (must be 0). Exit code 1 on any failure.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["repeat", "seed", "backend"], ["quick"]);
        Backend[]? backends = a.Has("backend") ? [a.Backend()] : null;
        if (backends is [Backend.Auto])
        {
            throw new UsageException("validate covers every backend by default; --backend takes cpu, cuda, opencl or ilgpu-cpu.");
        }
        if (backends is [Backend only] && !BackendDiscovery.IsAvailable(only))
        {
            throw new BackendUnavailableException(only, BackendDiscovery.Probe().First(r => r.Backend == only).Reason ?? "no device");
        }
        var options = new ValidationOptions(!a.Has("quick"), a.Int("repeat", 5, min: 1), (ulong)a.Int("seed", 2025, min: 0), backends);
        stdout.WriteLine($"Stair.Kernels validate — SIMD tiers here: {string.Join(", ", SimdTiers.Supported).ToLowerInvariant()}; {Environment.ProcessorCount} core(s)");
        stdout.WriteLine("backends: " + string.Join("; ", BackendDiscovery.Probe().Select(r => DevicesCommand.Name(r.Backend) + (r.Available ? "" : " (missing: " + r.Reason + ")"))));
        string header = string.Format(CultureInfo.InvariantCulture, "{0,-13} {1,-12} {2,-52} {3,10} {4,10} {5,-5} {6,12}",
            "kernel", "backend", "size", "max err", "tolerance", "ok", "median ms");
        stdout.WriteLine(header);
        stdout.WriteLine(new string('-', header.Length));
        int failures = 0;
        IReadOnlyList<ValidationResult> results = KernelValidator.Run(options, r =>
        {
            if (!r.Passed)
            {
                failures++;
            }
            stdout.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-13} {1,-12} {2,-52} {3,10:E2} {4,10:E2} {5,-5} {6,12:F3}",
                r.Kernel, r.Backend, r.Size, r.MaxError, r.Tolerance, r.Passed ? "pass" : "FAIL", r.MedianMilliseconds));
            stdout.Flush();
        });
        stdout.WriteLine($"{results.Count - failures} passed, {failures} failed");
        return failures == 0 ? 0 : 1;
    }
}
