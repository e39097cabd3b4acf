// TEMPORARY stand-in for the shared DenseProduct (gemm branch), same contract, naive loops.
// Deleted when main's DenseProduct is merged.
namespace Stair.Kernels.Cpu.Dense;

internal static unsafe class DenseProduct
{
    internal static void MultiplyTransposed(SimdTier tier, int threads, float* a, int lda, float* b, int ldb,
        float* c, int ldc, int m, int n, int k)
    {
        _ = tier;
        _ = threads;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                {
                    s = MathF.FusedMultiplyAdd(a[(long)i * lda + p], b[(long)j * ldb + p], s);
                }
                c[(long)i * ldc + j] = s;
            }
        }
    }

    internal static void MultiplySelfTransposed(SimdTier tier, int threads, float* a, int lda, float* c, int ldc, int m, int k)
        => MultiplyTransposed(tier, threads, a, lda, a, lda, c, ldc, m, m, k);
}
