// Which SIMD tiers a tier test has to run on this machine, derived from the hardware intrinsics
// directly (not from SimdTiers), so that a SimdTiers.Supported that silently lost a tier makes
// the tier tests fail instead of passing on fewer tiers.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stair.Kernels.Tests.Infrastructure;

public static class TierCoverage
{
    /// <summary>Every tier this process's hardware view can run, narrowest first.</summary>
    public static IReadOnlyList<SimdTier> Expected()
    {
        var tiers = new List<SimdTier> { SimdTier.Scalar };
        bool avx2 = Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated;
        if (avx2)
        {
            tiers.Add(SimdTier.Avx2);
        }
        if (avx2 && Avx512F.IsSupported)
        {
            tiers.Add(SimdTier.Avx512);
        }
        return tiers;
    }

    /// <summary>Fails unless <paramref name="ran"/> covers every tier in <see cref="Expected"/>.</summary>
    public static void AssertRanEveryTier(IEnumerable<SimdTier> ran, string what)
    {
        var set = new HashSet<SimdTier>(ran);
        SimdTier[] missing = Expected().Where(t => !set.Contains(t)).ToArray();
        Assert.True(missing.Length == 0,
            $"{what}: this machine supports {string.Join(", ", Expected())} but no case ran on {string.Join(", ", missing)} (ran: {string.Join(", ", set)}).");
    }

    /// <summary>
    /// Skips a tier row the hardware cannot run, saying so in the report (a skipped Avx512 row is the record that
    /// AVX-512 was not exercised). Decided from the hardware, not from SimdTiers: a tier the hardware has but the
    /// library lost runs, and fails in the library's own check.
    /// </summary>
    public static void SkipUnlessHardware(SimdTier tier)
        => Skip.IfNot(Expected().Contains(tier), $"{tier} did not run: this machine's runtime reports no {tier} (cpu flags: {string.Join(" ", CpuFlags().Where(f => f.StartsWith("avx", StringComparison.Ordinal)))})");

    /// <summary>The CPU's flags as the Linux kernel reports them (empty elsewhere).</summary>
    public static IReadOnlySet<string> CpuFlags()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo))
        {
            return new HashSet<string>();
        }
        string? line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        return line is null ? new HashSet<string>() : line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
    }
}
