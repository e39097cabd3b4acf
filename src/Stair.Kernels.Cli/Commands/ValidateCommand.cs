// `stair-kernels validate`: every kernel on every backend and tier against float64.
using System.CommandLine;
using System.Globalization;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Cli.Commands;

internal static class ValidateCommand
{
    public static Command Create()
    {
        var quick = CliOptions.Flag("--quick", "small sizes only (no Amazon Baby shape)");
        var repeatOption = CliOptions.Integer("--repeat", "R", "timed runs per case; the median is printed", 5, min: 1);
        var seedOption = CliOptions.Integer("--seed", "S", "seed of the random inputs", 2025, min: 0);
        var reportOption = new Option<string>("--report")
        {
            Description = "also write the table as validate.json and validate.md, with the machine header, into this folder",
            HelpName = "DIR",
        };
        var backendOption = CliOptions.Choice("--backend", "validate this backend only (default: every backend this machine has)",
            [.. CliOptions.Backends.Where(b => b.Value != Backend.Auto)]);
        var command = new Command("validate", """
            Runs every kernel on every backend and SIMD tier this machine has (ILGPU's simulator on the
            small sizes only) on seeded random inputs
            (several sizes; the Amazon Baby shape unless --quick) against the float64 reference and
            prints one table. "max err" is the largest error relative to the rounding scale |A|·|X|;
            a case passes when it is within the float32 forward-error bound. For knn-topk it is the number
            of items whose neighbour list differs from a float64 brute force (must be 0). Exit code 1 on any failure.
            """)
        {
            quick, repeatOption, seedOption, backendOption, reportOption,
        };
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            Backend[]? backends = parse.GetValue(backendOption) is { } named ? [named.Value] : null;
            if (backends is [Backend only] && !BackendDiscovery.IsAvailable(only))
            {
                throw new BackendUnavailableException(only, BackendDiscovery.Probe().First(r => r.Backend == only).Reason ?? "no device");
            }
            var options = new ValidationOptions(!parse.GetValue(quick), parse.GetValue(repeatOption), (ulong)parse.GetValue(seedOption), backends);
            stdout.WriteLine($"Stair.Kernels validate — SIMD tiers here: {string.Join(", ", SimdTiers.Supported).ToLowerInvariant()}; {Environment.ProcessorCount} core(s)");
            stdout.WriteLine("backends: " + string.Join("; ", BackendDiscovery.Probe().Select(r => DevicesCommand.Name(r.Backend) + (r.Available ? "" : " (missing: " + r.Reason + ")"))));
            string header = string.Format(CultureInfo.InvariantCulture, "{0,-13} {1,-12} {2,-52} {3,10} {4,10} {5,-5} {6,12}",
                "kernel", "backend", "size", "max err", "tolerance", "ok", "median ms");
            stdout.WriteLine(header);
            stdout.WriteLine(new string('-', header.Length));
            int failures = 0, count = 0;
            var results = new List<ValidationResult>();
            DateTimeOffset started = DateTimeOffset.Now;
            try
            {
                KernelValidator.Run(options, Print);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Each family runs guarded on each backend; anything else that escapes still ends with the totals.
                failures++;
                count++;
                string reason = string.Join(" → ", Chain(ex).Select(e => $"{e.GetType().Name}: {e.Message}"));
                stdout.WriteLine("validate stopped: " + reason);
                results.Add(new ValidationResult("validate", "-", "stopped", double.NaN, 0, 0) { Error = reason });
            }
            if (parse.GetValue(reportOption) is string folder)
            {
                var report = new ValidationReport(started, "validate " + string.Join(' ', parse.Tokens.Select(t => t.Value)), MachineDescription.Capture(), results);
                (string json, string md) = report.Write(folder);
                stdout.WriteLine($"report: {md}, {json}");
            }
            stdout.WriteLine($"{count - failures} passed, {failures} failed");
            return failures == 0 ? 0 : 1;

            void Print(ValidationResult r)
            {
                count++;
                results.Add(r);
                if (!r.Passed)
                {
                    failures++;
                }
                stdout.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-13} {1,-12} {2,-52} {3,10:E2} {4,10:E2} {5,-5} {6,12:F3}",
                    r.Kernel, r.Backend, r.Size, r.MaxError, r.Tolerance, r.Passed ? "pass" : "FAIL", r.MedianMilliseconds));
                if (r.Error is not null)
                {
                    stdout.WriteLine($"  error: {r.Error}");
                }
                stdout.Flush();
            }
        });
        return command;
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
