// The "Case" parameter values the suites share: SIMD tiers and ILGPU device backends present on
// this machine, shape × variant products, and the environment-variable filter (BenchmarkDotNet's
// --filter selects methods, not parameter values: STAIR_*_CASES holds a comma-separated list of
// substrings, and a case runs when it contains any of them; unset or empty runs every case).
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

    /// <summary>"shape/variant" for every shape and variant, shapes outermost.</summary>
    public static IEnumerable<string> Cross(IEnumerable<string> shapes, IEnumerable<string> variants)
    {
        string[] all = variants.ToArray();
        return shapes.SelectMany(shape => all.Select(variant => $"{shape}/{variant}"));
    }
}
