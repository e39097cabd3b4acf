// ILGPU kernels of whitening's centering step: column means (float64, one column per
// thread, rows in order — the same sums as the CPU) and the centered matrix with its
// transpose. The products themselves are the shared dense kernels.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels.Gpu.Whitening;

/// <summary>The whitening kernels of one accelerator, loaded once and kept.</summary>
internal sealed class WhiteningKernels : IKernelSet<WhiteningKernels>
{
    public static WhiteningKernels Load(Accelerator accelerator) => new WhiteningKernels(accelerator);

    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int> _means;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _center;

    public WhiteningKernels(Accelerator accelerator)
    {
        _means = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(MeansKernel);
        _center = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(CenterKernel);
    }

    /// <summary>means[c] = (Σ_i x[i, c]) / rows, accumulated in float64.</summary>
    public void Means(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> means, int rows, int columns)
        => _means(stream, columns, x, means, rows, columns);

    /// <summary>centered[i, c] = transposed[c, i] = x[i, c] − means[c].</summary>
    public void Center(AcceleratorStream stream, ArrayView<float> x, ArrayView<float> means, ArrayView<float> centered, ArrayView<float> transposed, int rows, int columns)
        => _center(stream, (int)((long)rows * columns), x, means, centered, transposed, rows, columns);

    private static void MeansKernel(Index1D c, ArrayView<float> x, ArrayView<float> means, int rows, int columns)
    {
        double sum = 0;
        for (int i = 0; i < rows; i++)
        {
            sum += x[(long)i * columns + c];
        }
        means[c] = (float)(sum / rows);
    }

    private static void CenterKernel(Index1D k, ArrayView<float> x, ArrayView<float> means, ArrayView<float> centered, ArrayView<float> transposed, int rows, int columns)
    {
        int i = k / columns, c = k - i * columns;
        float v = x[k] - means[c];
        centered[k] = v;
        transposed[(long)c * rows + i] = v;
    }
}
