// TEMPORARY stand-in with the contract's signature until the shared DenseProduct lands on main; deleted on merge.
using System.Numerics;

namespace Stair.Kernels.Cpu.Dense
{

internal static unsafe class DenseProduct
{
    internal static void MultiplyTransposed(SimdTier tier, int threads, float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int n, int k)
    {
        _ = tier;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            var ra = new ReadOnlySpan<float>((float*)pa + (long)i * lda, k);
            for (int j = 0; j < n; j++)
            {
                var rb = new ReadOnlySpan<float>((float*)pb + (long)j * ldb, k);
                ((float*)pc)[(long)i * ldc + j] = Dot(ra, rb);
            }
        });
    }

    internal static void MultiplySelfTransposed(SimdTier tier, int threads, float* a, int lda, float* c, int ldc, int m, int k)
    {
        MultiplyTransposed(tier, threads, a, lda, a, lda, c, ldc, m, m, k);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < i; j++)
            {
                c[(long)i * ldc + j] = c[(long)j * ldc + i];
            }
        }
    }

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var acc = Vector<float>.Zero;
        int p = 0;
        for (; p <= x.Length - Vector<float>.Count; p += Vector<float>.Count)
        {
            acc += new Vector<float>(x.Slice(p)) * new Vector<float>(y.Slice(p));
        }
        float s = Vector.Sum(acc);
        for (; p < x.Length; p++)
        {
            s += x[p] * y[p];
        }
        return s;
    }
}
}

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
