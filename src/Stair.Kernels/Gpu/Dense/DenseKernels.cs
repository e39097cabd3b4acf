// The ILGPU twin of Cpu/Dense/DenseProduct: C = A·Bᵀ with both operands row-major and the
// inner dimension k contiguous, compiled by ILGPU for CUDA, OpenCL and its CPU simulator.
//
// Work layout: a group of T × T threads (T = 16 on GPUs and PoCL, smaller where the device
// allows fewer threads per group) owns a (4T) × (4T) tile of C; each thread holds a 4 × 4
// block of accumulators in registers (rows ty + r·T, columns tx + s·T, so a warp's stores and
// shared-memory reads are contiguous). k is walked in slices of 16: the group copies the
// slice of its 4T rows of A and 4T rows of B into shared memory (coalesced along k,
// transposed to [p][row] with a padded stride against bank conflicts), waits at a barrier,
// and every thread runs its 16 multiply-adds per accumulator from shared memory.
// No warp shuffles or atomics: only shared memory and group barriers, which PoCL supports.
//
// Determinism: each element is the chain acc = acc + A[i,p]·B[j,p] from +0 over p = 0 … k−1
// in storage order, whatever the tile, group or grid, so a result depends only on rows i and j
// and k, and repeats bit for bit. It is a multiply then an add (ILGPU on OpenCL cannot emit
// fma; see Gpu/Propagation/PropagationKernels.cs), so it agrees with the CPU tiers' FMA chain
// to rounding (both within γ_k·Σ|a||b| of the exact value), not bitwise.
using ILGPU;
using ILGPU.Runtime;

namespace Stair.Kernels.Gpu.Dense;

/// <summary>The dense-product kernels of one accelerator, loaded once and kept.</summary>
internal sealed class DenseKernels : IKernelSet<DenseKernels>
{
    public static DenseKernels Load(Accelerator accelerator) => new DenseKernels(accelerator);

    /// <summary>Inner-dimension slice staged through shared memory per barrier pair.</summary>
    internal const int SliceDepth = 16;

    /// <summary>Accumulators per thread along each side of its block.</summary>
    internal const int ThreadBlock = 4;

    /// <summary>Largest group side (threads per tile side); the shared tiles are sized for it.</summary>
    internal const int MaxSide = 16;

    // Shared tile of one operand: SliceDepth rows p of (4·MaxSide + 1) floats (padded stride).
    private const int SharedStride = ThreadBlock * MaxSide + 1;
    private const int SharedLength = SliceDepth * SharedStride;

    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        int, int, int, int, int, int, int, int> _multiply;

    /// <param name="accelerator">The accelerator to load on.</param>
    public DenseKernels(Accelerator accelerator)
    {
        Accelerator = accelerator;
        int maxGroup = Math.Max(1, accelerator.MaxNumThreadsPerGroup);
        int side = MaxSide;
        while (side > 1 && side * side > maxGroup)
        {
            side--;
        }
        Side = side;
        _multiply = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>,
            int, int, int, int, int, int, int, int>(MultiplyKernel);
    }

    public Accelerator Accelerator { get; }

    /// <summary>Threads per side of a group (a group is Side × Side threads, a tile 4·Side square).</summary>
    public int Side { get; }

    /// <summary>Rows (and columns) of C one group computes.</summary>
    public int TileSize => ThreadBlock * Side;

    /// <summary>
    /// C[i·ldc + j] = Σ_p A[i·lda + p]·B[j·ldb + p] for i &lt; m, j &lt; n; asynchronous on <paramref name="stream"/>.
    /// Overwrites C (k = 0 writes zeros); C must not overlap A or B.
    /// </summary>
    internal void MultiplyTransposed(AcceleratorStream stream, ArrayView<float> a, int lda, ArrayView<float> b, int ldb,
        ArrayView<float> c, int ldc, int m, int n, int k)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (m < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(m), m, "Row count m must be non-negative.");
        }
        if (n < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "Row count n must be non-negative.");
        }
        if (k < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "Inner dimension k must be non-negative.");
        }
        if (lda < Math.Max(1, k))
        {
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"Leading dimension lda must be at least max(1, k = {k}).");
        }
        if (ldb < Math.Max(1, k))
        {
            throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"Leading dimension ldb must be at least max(1, k = {k}).");
        }
        if (ldc < Math.Max(1, n))
        {
            throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"Leading dimension ldc must be at least max(1, n = {n}).");
        }
        if (m == 0 || n == 0)
        {
            return;
        }
        CheckLength(a, (long)(m - 1) * lda + k, nameof(a));
        CheckLength(b, (long)(n - 1) * ldb + k, nameof(b));
        CheckLength(c, (long)(m - 1) * ldc + n, nameof(c));
        int tile = TileSize;
        int blocksM = (m + tile - 1) / tile, blocksN = (n + tile - 1) / tile;
        _multiply(stream, new KernelConfig(checked(blocksM * blocksN), Side * Side), a, b, c, lda, ldb, ldc, m, n, k, blocksN, Side);
    }

    private static void CheckLength(ArrayView<float> view, long needed, string name)
    {
        if (view.Length < needed)
        {
            throw new ArgumentException($"The view holds {view.Length} floats; the shape and leading dimension need {needed}.", name);
        }
    }

    // One group per (4T × 4T) tile of C; thread (tx, ty) accumulates rows ty + r·T and columns
    // tx + s·T of the tile (r, s < 4) over k slices staged through shared memory.
    private static void MultiplyKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        int lda, int ldb, int ldc, int m, int n, int k, int blocksN, int side)
    {
        ArrayView<float> sa = SharedMemory.Allocate<float>(SharedLength);
        ArrayView<float> sb = SharedMemory.Allocate<float>(SharedLength);
        int tile = ThreadBlock * side;
        int blockRow = Grid.IdxX / blocksN;
        int blockColumn = Grid.IdxX - blockRow * blocksN;
        int rowBase = blockRow * tile, columnBase = blockColumn * tile;
        int tid = Group.IdxX;
        int threads = side * side;
        int ty = tid / side, tx = tid - ty * side;
        int staged = tile * SliceDepth;

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        for (int p0 = 0; p0 < k; p0 += SliceDepth)
        {
            // Stage A[rowBase .. +tile, p0 .. +16] and B's likewise, consecutive threads on
            // consecutive p (coalesced), stored transposed as s[p][row].
            for (int e = tid; e < staged; e += threads)
            {
                int r = e / SliceDepth;
                int q = e - r * SliceDepth;
                int p = p0 + q;
                int row = rowBase + r;
                int column = columnBase + r;
                sa[q * SharedStride + r] = row < m && p < k ? a[(long)row * lda + p] : 0f;
                sb[q * SharedStride + r] = column < n && p < k ? b[(long)column * ldb + p] : 0f;
            }
            Group.Barrier();
            int depth = Math.Min(SliceDepth, k - p0);
            for (int q = 0; q < depth; q++)
            {
                int at = q * SharedStride;
                float a0 = sa[at + ty], a1 = sa[at + ty + side], a2 = sa[at + ty + 2 * side], a3 = sa[at + ty + 3 * side];
                float b0 = sb[at + tx], b1 = sb[at + tx + side], b2 = sb[at + tx + 2 * side], b3 = sb[at + tx + 3 * side];
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

        StoreRow(c, ldc, m, n, rowBase + ty, columnBase + tx, side, c00, c01, c02, c03);
        StoreRow(c, ldc, m, n, rowBase + ty + side, columnBase + tx, side, c10, c11, c12, c13);
        StoreRow(c, ldc, m, n, rowBase + ty + 2 * side, columnBase + tx, side, c20, c21, c22, c23);
        StoreRow(c, ldc, m, n, rowBase + ty + 3 * side, columnBase + tx, side, c30, c31, c32, c33);
    }

    private static void StoreRow(ArrayView<float> c, int ldc, int m, int n, int row, int column, int side,
        float v0, float v1, float v2, float v3)
    {
        if (row >= m)
        {
            return;
        }
        long at = (long)row * ldc + column;
        if (column < n)
        {
            c[at] = v0;
        }
        if (column + side < n)
        {
            c[at + side] = v1;
        }
        if (column + 2 * side < n)
        {
            c[at + 2 * side] = v2;
        }
        if (column + 3 * side < n)
        {
            c[at + 3 * side] = v3;
        }
    }
}
