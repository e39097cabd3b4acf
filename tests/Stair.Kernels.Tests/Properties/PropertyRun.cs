// How the property tests run: CsCheck samples a generator, calls the check on each case and,
// on a failure, shrinks the case to the smallest that still fails and throws with it printed.
// Case counts: STAIR_PROPERTY_ITERATIONS (default 100, what CI runs) for the CPU tiers, and
// STAIR_PROPERTY_ILGPU_ITERATIONS (default: the same) for the ILGPU backends, whose generators
// draw smaller shapes (the CPU simulator runs every thread). STAIR_PROPERTY_SEED replays one
// failing seed (CsCheck prints it). With STAIR_PROPERTY_REPORT=<file> every property appends
// "property<TAB>target<TAB>cases<TAB>seconds" there (scripts/properties.sh prints the table).
using System.Diagnostics;
using CsCheck;

namespace Stair.Kernels.Tests.Properties;

public static class PropertyRun
{
    /// <summary>Cases per property on the CPU backend (every tier runs each case).</summary>
    public static long Iterations { get; } = FromEnvironment("STAIR_PROPERTY_ITERATIONS", 100);

    /// <summary>Cases per property on an ILGPU backend.</summary>
    public static long IlgpuIterations { get; } = FromEnvironment("STAIR_PROPERTY_ILGPU_ITERATIONS", Iterations);

    private static readonly object ReportGate = new();

    /// <summary>
    /// Samples <paramref name="gen"/> and runs <paramref name="check"/> on every case, one at a time (the contexts
    /// serialize calls anyway, and the machine is shared); throws CsCheck's exception with the shrunk case.
    /// </summary>
    public static void Check<T>(string property, PropertyTarget target, Gen<T> gen, Action<T> check, Func<T, string> print)
    {
        long iterations = target.IsIlgpu ? IlgpuIterations : Iterations;
        long ran = 0;
        var clock = Stopwatch.StartNew();
        gen.Sample(value =>
            {
                Interlocked.Increment(ref ran);
                check(value);
            },
            seed: Environment.GetEnvironmentVariable("STAIR_PROPERTY_SEED"),
            iter: iterations,
            threads: 1,
            print: print);
        clock.Stop();
        Report(property, target.Name, ran, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Appends one line to the STAIR_PROPERTY_REPORT file, if set.</summary>
    public static void Report(string property, string target, long cases, double seconds)
    {
        string? path = Environment.GetEnvironmentVariable("STAIR_PROPERTY_REPORT");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        lock (ReportGate)
        {
            File.AppendAllText(path, FormattableString.Invariant($"{property}\t{target}\t{cases}\t{seconds:F2}\n"));
        }
    }

    private static long FromEnvironment(string name, long fallback)
    {
        string? text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        if (!long.TryParse(text, out long value) || value < 1)
        {
            throw new InvalidOperationException($"{name} is '{text}'; it must be a positive whole number of cases.");
        }
        return value;
    }
}
