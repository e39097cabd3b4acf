// The ILGPU similarity-block kernel of the kNN graph: C = A·Bᵀ for row-major A (m × k) and
// B (n × k) with the shared dimension contiguous, the product the screen needs per block pair.
// 64 × 64 tiles of C per group of 16 × 16 threads (16 × 16 per 4 × 4 on ILGPU's simulator),
// each thread 4 × 4 outputs in registers (rows ty + s·a, columns tx + s·b),
// A and B staged through shared memory 16 columns of k at a time (rows padded to 17 floats so
// the column reads of a warp fall in distinct banks). Multiply then add, as every ILGPU kernel
// here (OpenCL cannot emit fma); the kNN screen's error window covers any order and rounding,
// so this kernel's bits need not match the CPU's (Cpu/KnnGraph/KnnCandidates.cs).
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels.Gpu.KnnGraph;

/// <summary>The kNN similarity-block kernel of one accelerator, loaded once and kept.</summary>
internal sealed class KnnBlockKernels
{
    private const int Tile = 64;
    private const int Chunk = 16;
    private const int Stride = Chunk + 1;

    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int> _multiply;
    private readonly int _side;

    public KnnBlockKernels(Accelerator accelerator)
    {
        // 16 × 16 threads where the device allows it (GPUs, PoCL); ILGPU's CPU simulator caps a group at 16 threads: 4 × 4.
        _side = accelerator.MaxNumThreadsPerGroup >= 256 ? 16 : 4;
        _multiply = accelerator.LoadKernel<ArrayView<float>, int, ArrayView<float>, int, ArrayView<float>, int, int, int, int, int>(MultiplyKernel);
    }

    /// <summary>C[i·ldc + j] = Σ_p A[i·lda + p]·B[j·ldb + p] for i &lt; m, j &lt; n (async on <paramref name="stream"/>).</summary>
    public void MultiplyTransposed(AcceleratorStream stream, ArrayView<float> a, int lda, ArrayView<float> b, int ldb,
        ArrayView<float> c, int ldc, int m, int n, int k)
    {
        if (m == 0 || n == 0)
        {
            return;
        }
        int tile = 4 * _side;
        var config = new KernelConfig(new Index2D((n + tile - 1) / tile, (m + tile - 1) / tile), new Index2D(_side, _side));
        _multiply(stream, config, a, lda, b, ldb, c, ldc, m, n, k, _side);
    }

    private static void MultiplyKernel(ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc, int m, int n, int k, int side)
    {
        ArrayView<float> tileA = SharedMemory.Allocate<float>(Tile * Stride);
        ArrayView<float> tileB = SharedMemory.Allocate<float>(Tile * Stride);
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * side + tx, tile = 4 * side;
        int i0 = Grid.IdxY * tile, j0 = Grid.IdxX * tile;
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int p0 = 0; p0 < k; p0 += Chunk)
        {
            // tile rows × 16 columns of each operand, consecutive threads on consecutive p.
            for (int e = thread; e < tile * Chunk; e += side * side)
            {
                int row = e / Chunk, p = e % Chunk;
                int ia = i0 + row, jb = j0 + row, pp = p0 + p;
                tileA[row * Stride + p] = ia < m && pp < k ? a[(long)ia * lda + pp] : 0f;
                tileB[row * Stride + p] = jb < n && pp < k ? b[(long)jb * ldb + pp] : 0f;
            }
            Group.Barrier();
            for (int q = 0; q < Chunk; q++)
            {
            float a0 = tileA[(ty + 0 * side) * Stride + q];
            float a1 = tileA[(ty + 1 * side) * Stride + q];
            float a2 = tileA[(ty + 2 * side) * Stride + q];
            float a3 = tileA[(ty + 3 * side) * Stride + q];
            float b0 = tileB[(tx + 0 * side) * Stride + q];
            float b1 = tileB[(tx + 1 * side) * Stride + q];
            float b2 = tileB[(tx + 2 * side) * Stride + q];
            float b3 = tileB[(tx + 3 * side) * Stride + q];
            c00 += a0 * b0;
            c01 += a0 * b1;
            c02 += a0 * b2;
            c03 += a0 * b3;
            c10 += a1 * b0;
            c11 += a1 * b1;
            c12 += a1 * b2;
            c13 += a1 * b3;
            c20 += a2 * b0;
            c21 += a2 * b1;
            c22 += a2 * b2;
            c23 += a2 * b3;
            c30 += a3 * b0;
            c31 += a3 * b1;
            c32 += a3 * b2;
            c33 += a3 * b3;
            }
            Group.Barrier();
        }
        Store(c, ldc, m, n, i0 + ty + 0 * side, j0 + tx + 0 * side, c00);
        Store(c, ldc, m, n, i0 + ty + 0 * side, j0 + tx + 1 * side, c01);
        Store(c, ldc, m, n, i0 + ty + 0 * side, j0 + tx + 2 * side, c02);
        Store(c, ldc, m, n, i0 + ty + 0 * side, j0 + tx + 3 * side, c03);
        Store(c, ldc, m, n, i0 + ty + 1 * side, j0 + tx + 0 * side, c10);
        Store(c, ldc, m, n, i0 + ty + 1 * side, j0 + tx + 1 * side, c11);
        Store(c, ldc, m, n, i0 + ty + 1 * side, j0 + tx + 2 * side, c12);
        Store(c, ldc, m, n, i0 + ty + 1 * side, j0 + tx + 3 * side, c13);
        Store(c, ldc, m, n, i0 + ty + 2 * side, j0 + tx + 0 * side, c20);
        Store(c, ldc, m, n, i0 + ty + 2 * side, j0 + tx + 1 * side, c21);
        Store(c, ldc, m, n, i0 + ty + 2 * side, j0 + tx + 2 * side, c22);
        Store(c, ldc, m, n, i0 + ty + 2 * side, j0 + tx + 3 * side, c23);
        Store(c, ldc, m, n, i0 + ty + 3 * side, j0 + tx + 0 * side, c30);
        Store(c, ldc, m, n, i0 + ty + 3 * side, j0 + tx + 1 * side, c31);
        Store(c, ldc, m, n, i0 + ty + 3 * side, j0 + tx + 2 * side, c32);
        Store(c, ldc, m, n, i0 + ty + 3 * side, j0 + tx + 3 * side, c33);
    }

    private static void Store(ArrayView<float> c, int ldc, int m, int n, int i, int j, float value)
    {
        if (i < m && j < n)
        {
            c[(long)i * ldc + j] = value;
        }
    }
}
