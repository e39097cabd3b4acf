// The seeded generator behind every deterministic random stream of the kernels (negative sampling,
// eigensolver start vectors, seeded dense tables) and of Stair.Kernels.Validation's synthetic data.
namespace Stair.Kernels;

/// <summary>SplitMix64: a tiny, fast, well-mixed generator whose sequence never depends on the runtime version.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}
