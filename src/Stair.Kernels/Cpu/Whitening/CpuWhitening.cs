// The CPU backend of whitening: host SIMD centering and products with the context's tier and threads.
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Cpu.Whitening;

internal sealed class CpuWhitening(CpuOptions options) : IWhiteningBackend
{
    public WhiteningDevice OpenWhitening() => new CpuWhiteningDevice(SimdTiers.Resolve(options.Tier), options.EffectiveThreads);
}
