// The "Case" parameter values the suites share: SIMD tiers and ILGPU device backends present on
// this machine, shape × variant products, and the environment-variable filter (BenchmarkDotNet's
// --filter selects methods, not parameter values: STAIR_*_CASES holds a comma-separated list of
// substrings, and a case runs when it contains any of them; unset or empty runs every case).
// "c-ref" is the C reference loop of bench/native (NativeReference), present when it compiles and loads.
using Stair.Kernels.Benchmarks.Native;

namespace Stair.Kernels.Benchmarks;

internal static class BenchCases
{
    /// <summary>The cases whose names contain one of the substrings listed in <paramref name="variable"/>.</summary>
    public static IEnumerable<string> Only(string variable, IEnumerable<string> cases)
    {
        string[] only = (Environment.GetEnvironmentVariable(variable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        return cases.Where(c => only.Length == 0 || only.Any(o => c.Contains(o, StringComparison.Ordinal)));
    }

    /// <summary>The SIMD tiers this process supports, lower-case ("avx512", "avx2", "scalar").</summary>
    public static IEnumerable<string> Tiers() => SimdTiers.Supported.Select(t => t.ToString().ToLowerInvariant());

    /// <summary>The ILGPU device backends present ("opencl", "cuda").</summary>
    public static IEnumerable<string> Devices()
    {
        if (BackendDiscovery.IsAvailable(Backend.OpenCL))
        {
            yield return "opencl";
        }
        if (BackendDiscovery.IsAvailable(Backend.Cuda))
        {
            yield return "cuda";
        }
    }

    /// <summary>The variant of the C references, "c-ref", when they compile and load here; otherwise none, and the reason once on stderr.</summary>
    public static IEnumerable<string> NativeReferences()
    {
        if (NativeReference.TryLoad(out string? reason) is not null)
        {
            yield return NativeVariant;
        }
        else if (Interlocked.Exchange(ref _nativeReasonPrinted, 1) == 0)
        {
            Console.Error.WriteLine($"c-ref cases skipped: {reason}");
        }
    }

    /// <summary>The variant name of the C reference cases.</summary>
    public const string NativeVariant = "c-ref";

    private static int _nativeReasonPrinted;

    /// <summary>The C references for a "c-ref" case (throws with the reason when they are missing: the case was listed, so they loaded before).</summary>
    public static NativeReference RequireNative()
        => NativeReference.TryLoad(out string? reason) ?? throw new InvalidOperationException($"c-ref: {reason}");

    /// <summary>"shape/variant" for every shape and variant, shapes outermost.</summary>
    public static IEnumerable<string> Cross(IEnumerable<string> shapes, IEnumerable<string> variants)
    {
        string[] all = variants.ToArray();
        return shapes.SelectMany(shape => all.Select(variant => $"{shape}/{variant}"));
    }
}
