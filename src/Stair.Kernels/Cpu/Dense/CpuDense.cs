// The CPU backend of the dense product: the SIMD tiles of DenseProduct on the tables' arrays,
// with the context's tier and threads. One table on both sides computes the upper triangle of
// A·Aᵀ and mirrors it (bitwise the same result, half the work).
namespace Stair.Kernels.Cpu.Dense;

internal sealed class CpuDense(CpuOptions options) : IDenseBackend
{
    public unsafe void MultiplyTransposed(DeviceTable a, DeviceTable b, DeviceTable c, bool sameTable)
    {
        SimdTier tier = SimdTiers.Resolve(options.Tier);
        int threads = options.EffectiveThreads;
        int m = a.Rows, n = b.Rows, k = a.Width;
        fixed (float* pa = a.Host, pb = b.Host, pc = c.Host)
        {
            if (sameTable)
            {
                DenseProduct.MultiplySelfTransposed(tier, threads, pa, Math.Max(1, k), pc, Math.Max(1, n), m, k);
            }
            else
            {
                DenseProduct.MultiplyTransposed(tier, threads, pa, Math.Max(1, k), pb, Math.Max(1, k), pc, Math.Max(1, n), m, n, k);
            }
        }
    }
}
