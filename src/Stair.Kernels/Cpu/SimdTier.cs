// The SIMD instruction tiers the CPU kernels are written for, which of them this machine
// runs, and the options (tier, thread count) every CPU kernel call takes.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Stair.Kernels;

/// <summary>A CPU instruction tier a kernel can be run with.</summary>
public enum SimdTier
{
    /// <summary>The widest tier this machine supports (the default).</summary>
    Auto = 0,

    /// <summary>Plain scalar code (with <see cref="MathF.FusedMultiplyAdd"/> where the vector tiers use FMA).</summary>
    Scalar = 1,

    /// <summary>256-bit AVX2 with FMA3.</summary>
    Avx2 = 2,

    /// <summary>512-bit AVX-512 (F).</summary>
    Avx512 = 3,
}

/// <summary>Which <see cref="SimdTier"/>s this machine and process can run.</summary>
/// <remarks>
/// Support follows the runtime's view of the hardware, so the usual switches
/// (<c>DOTNET_EnableAVX512=0</c> on .NET 10, which ignores the older <c>DOTNET_EnableAVX512F</c>; <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_EnableHWIntrinsic=0</c>)
/// remove tiers. Every tier produces bitwise identical results: each output element is one
/// chain of fused multiply-adds taken in storage order, whatever the vector width.
/// </remarks>
public static class SimdTiers
{
    /// <summary>True when the AVX-512 tier can run here.</summary>
    public static bool Avx512Supported => Avx512F.IsSupported;

    /// <summary>True when the AVX2 + FMA tier can run here.</summary>
    public static bool Avx2Supported => Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>Every concrete tier this machine supports, narrowest first (always includes <see cref="SimdTier.Scalar"/>).</summary>
    public static IReadOnlyList<SimdTier> Supported { get; } = BuildSupported();

    /// <summary>The widest supported tier: what <see cref="SimdTier.Auto"/> resolves to.</summary>
    public static SimdTier Best => Supported[^1];

    /// <summary>True when <paramref name="tier"/> can run on this machine (<see cref="SimdTier.Auto"/> always can).</summary>
    public static bool IsSupported(SimdTier tier) => tier == SimdTier.Auto || Supported.Contains(tier);

    /// <summary>Resolves <see cref="SimdTier.Auto"/> to <see cref="Best"/> and checks a forced tier.</summary>
    /// <exception cref="NotSupportedException">The forced tier cannot run on this machine.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined tier.</exception>
    public static SimdTier Resolve(SimdTier tier)
    {
        if (!Enum.IsDefined(tier))
        {
            throw new ArgumentOutOfRangeException(nameof(tier), tier, "Unknown SIMD tier.");
        }
        if (tier == SimdTier.Auto)
        {
            return Best;
        }
        if (!Supported.Contains(tier))
        {
            throw new NotSupportedException($"SIMD tier {tier} is not supported on this machine (supported: {string.Join(", ", Supported)}).");
        }
        return tier;
    }

    private static SimdTier[] BuildSupported()
    {
        var tiers = new List<SimdTier> { SimdTier.Scalar };
        if (Avx2Supported)
        {
            tiers.Add(SimdTier.Avx2);
        }
        if (Avx2Supported && Avx512Supported)
        {
            tiers.Add(SimdTier.Avx512);
        }
        return tiers.ToArray();
    }
}

/// <summary>How CPU kernels run: the SIMD tier and the number of threads.</summary>
/// <param name="Tier">The instruction tier; <see cref="SimdTier.Auto"/> picks the widest supported.</param>
/// <param name="Threads">Worker threads (including the caller); 0 means one per logical core.</param>
public sealed record CpuOptions(SimdTier Tier = SimdTier.Auto, int Threads = 0)
{
    /// <summary>The defaults: widest tier, one thread per logical core.</summary>
    public static CpuOptions Default { get; } = new();

    /// <summary>The thread count actually used (resolves 0 to the core count).</summary>
    public int EffectiveThreads => Threads == 0 ? Environment.ProcessorCount : Threads;

    internal void Validate()
    {
        if (Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Thread count must be 0 (all cores) or positive.");
        }
        _ = SimdTiers.Resolve(Tier);
    }
}
