// TEMPORARY stand-in for the shared ILGPU DenseKernels (gemm branch), same contract, one
// thread per element. Deleted when main's DenseKernels is merged.
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels.Gpu.Dense;

internal sealed class DenseKernels
{
    private readonly Action<AcceleratorStream, Index2D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int> _kernel;

    public DenseKernels(Accelerator accelerator)
        => _kernel = accelerator.LoadAutoGroupedKernel<Index2D, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int>(Kernel);

    internal void MultiplyTransposed(AcceleratorStream stream, ArrayView<float> a, int lda, ArrayView<float> b, int ldb,
        ArrayView<float> c, int ldc, int m, int n, int k)
    {
        if (m > 0 && n > 0)
        {
            _kernel(stream, new Index2D(n, m), a, lda, b, ldb, c, ldc, k);
        }
    }

    private static void Kernel(Index2D index, ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc, int k)
    {
        int j = index.X, i = index.Y;
        float s = 0;
        for (int p = 0; p < k; p++)
        {
            float prod = a[(long)i * lda + p] * b[(long)j * ldb + p];
            s += prod;
        }
        c[(long)i * ldc + j] = s;
    }
}

internal static class TemporaryDenseAccess
{
    private static readonly ConditionalWeakTable<ComputeContext, DenseKernels> Loaded = new();

    extension(ComputeContext context)
    {
        internal DenseKernels Dense => Loaded.GetValue(context, c => c.Compile(acc => new DenseKernels(acc)));
    }
}
