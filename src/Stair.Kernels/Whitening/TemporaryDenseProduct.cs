// TEMPORARY stand-in with the contract's signature until the shared GPU DenseKernels land on main; deleted on merge.
namespace Stair.Kernels.Gpu.Dense
{
    using ILGPU;
    using ILGPU.Runtime;

    internal sealed class DenseKernels
    {
        private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int> _nt;

        public DenseKernels(Accelerator accelerator)
            => _nt = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int>(Nt);

        internal void MultiplyTransposed(AcceleratorStream stream, ArrayView<float> a, int lda, ArrayView<float> b, int ldb,
            ArrayView<float> c, int ldc, int m, int n, int k) => _nt(stream, new Index2D(m, n), a, lda, b, ldb, c, ldc, k);

        private static void Nt(Index2D ij, ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc, int k)
        {
            float acc = 0;
            for (int p = 0; p < k; p++)
            {
                acc += a[(long)ij.X * lda + p] * b[(long)ij.Y * ldb + p];
            }
            c[(long)ij.X * ldc + ij.Y] = acc;
        }
    }
}
