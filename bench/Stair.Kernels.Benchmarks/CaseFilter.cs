// BenchmarkDotNet's --filter selects methods, not parameter values; suites with many "Case"
// values let an environment variable pick some: a comma-separated list of substrings, where a
// case runs when it contains any of them (unset or empty: every case).
namespace Stair.Kernels.Benchmarks;

internal static class CaseFilter
{
    /// <summary>The cases whose names contain one of the substrings listed in <paramref name="variable"/>.</summary>
    public static IEnumerable<string> Only(string variable, IEnumerable<string> cases)
    {
        string[] only = (Environment.GetEnvironmentVariable(variable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        return cases.Where(c => only.Length == 0 || only.Any(o => c.Contains(o, StringComparison.Ordinal)));
    }
}
