// The naive baseline the tiers are measured against: the textbook CSR loop, scalar,
// one thread, an unfused FSC that makes separate passes for scaling and summing.
namespace Stair.Kernels.Benchmarks;

internal static class NaivePropagation
{
    public static void Spmm(CsrMatrix a, float[] x, float[] y, int d)
    {
        ReadOnlySpan<int> ptr = a.RowPointers, cols = a.ColumnIndices;
        ReadOnlySpan<float> vals = a.Values;
        for (int r = 0; r < a.Rows; r++)
        {
            for (int j = 0; j < d; j++)
            {
                float acc = 0;
                for (int k = ptr[r]; k < ptr[r + 1]; k++)
                {
                    acc += vals[k] * x[cols[k] * d + j];
                }
                y[r * d + j] = acc;
            }
        }
    }

    public static void Fsc(CsrMatrix a, float[] e, float[] output, int d, int layers, float[] beta, float[] h, float[] next)
    {
        Array.Copy(e, output, e.Length);
        Array.Copy(e, h, e.Length);
        for (int l = 1; l <= layers; l++)
        {
            Spmm(a, h, next, d);
            for (int k = 0; k < next.Length; k++)
            {
                next[k] *= beta[k % d];
                output[k] += next[k];
            }
            (h, next) = (next, h);
        }
        for (int k = 0; k < output.Length; k++)
        {
            float b = beta[k % d];
            float sum = 0, p = 1;
            for (int l = 0; l <= layers; l++)
            {
                sum += p;
                p *= b;
            }
            output[k] /= sum;
        }
    }
}
