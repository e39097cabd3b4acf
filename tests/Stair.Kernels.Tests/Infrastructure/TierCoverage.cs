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
}
