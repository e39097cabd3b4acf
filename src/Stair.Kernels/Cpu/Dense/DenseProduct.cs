// The shared dense "NT" product C = A·Bᵀ (both operands row-major, the inner dimension k
// contiguous) that whitening, the kNN similarity blocks and full ranking are built on.
//
// Blocking (vector tiers). B is packed, a chunk of columns at a time, into panels of up to
// 64 columns laid out [p][column] (the transpose of B's rows, zero-padded to a multiple of
// 16), so one row p of a panel is one to four contiguous 16-float vectors. A is not packed:
// a register tile reads six A rows directly (six sequential streams) and broadcasts A[r, p].
// C is cut into parts of 96 rows × 256 columns that threads claim from CpuWorkerPool; a part
// walks k in blocks of KBlock (so its A rows and the B panels it reuses stay in L1/L2), and
// within a k-block runs 6 × 64 register tiles (AVX-512: 24 zmm accumulators; AVX2: 6 × 16
// with 12 ymm). A tile keeps its accumulators across the k-block and stores them to C; the
// next k-block loads them back, which continues the float32 chain exactly.
//
// Determinism. Every element is the single chain s = 0; s = fma(A[i,p], B[j,p], s) for
// p = 0, 1, …, k-1, in storage order — in the AVX-512 lanes, the AVX2 lanes and the scalar
// loop alike. Blocking only decides when the chain pauses in C, never its order, so C[i,j]
// depends only on row i of A, row j of B and k: not on m, n, the position in a tile, the
// tier or the thread count, and identical rows give bitwise identical results. Because fma's
// product is commutative, the chain for (i, j) equals the one for (j, i), which is why the
// self product may compute the upper triangle and mirror it and still equal A·Aᵀ bit for bit.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.Dense;

/// <summary>The dense product C = A·Bᵀ on the CPU (see the file header for blocking and determinism).</summary>
internal static unsafe partial class DenseProduct
{
    /// <summary>Rows of a register tile.</summary>
    internal const int TileRows = 6;

    /// <summary>Columns of a full packed panel (four 16-float vectors).</summary>
    internal const int PanelWidth = 64;

    /// <summary>Rows of C per parallel part (a multiple of <see cref="TileRows"/>).</summary>
    internal const int PartRows = 96;

    /// <summary>Panels (of <see cref="PanelWidth"/> columns) per parallel part.</summary>
    internal const int PartPanels = 4;

    /// <summary>Inner-dimension block: a part's 96 A rows × 256 floats (96 KiB) and a 64 KiB panel stay in L2.</summary>
    internal const int KBlock = 256;

    /// <summary>Most floats the packed B chunk may hold (32 MiB); the columns are processed in chunks that fit.</summary>
    internal const long PackBudget = 8L << 20;

    /// <summary>
    /// C[i·ldc + j] = Σ_p A[i·lda + p] · B[j·ldb + p] for 0 ≤ i &lt; m, 0 ≤ j &lt; n (C = A·Bᵀ); overwrites C.
    /// C must not overlap A or B.
    /// </summary>
    /// <remarks>
    /// tier: a resolved tier (not <see cref="SimdTier.Auto"/>) this machine supports. threads: 1 runs on
    /// the caller's thread only (for callers that parallelize outside); more uses <see cref="CpuWorkerPool.Shared"/>
    /// and must not be called from inside a pool job. Leading dimensions: lda, ldb ≥ k; ldc ≥ n.
    /// </remarks>
    internal static void MultiplyTransposed(SimdTier tier, int threads, float* a, int lda, float* b, int ldb,
        float* c, int ldc, int m, int n, int k)
    {
        Validate(tier, threads, a, lda, b, ldb, c, ldc, m, n, k, self: false);
        if (m == 0 || n == 0)
        {
            return;
        }
        Run(tier, threads, a, lda, b, ldb, c, ldc, m, n, k, self: false, PackBudget);
    }

    /// <summary>
    /// <see cref="MultiplyTransposed"/> or, with <paramref name="self"/> (b = a, n = m),
    /// <see cref="MultiplySelfTransposed"/>, with a given pack budget in floats, so tests can force
    /// many column chunks on small inputs.
    /// </summary>
    internal static void MultiplyWithPackBudget(long packBudget, bool self, SimdTier tier, int threads, float* a, int lda,
        float* b, int ldb, float* c, int ldc, int m, int n, int k)
    {
        Validate(tier, threads, a, lda, b, ldb, c, ldc, m, n, k, self);
        if (m == 0 || n == 0)
        {
            return;
        }
        Run(tier, threads, a, lda, b, ldb, c, ldc, m, n, k, self, packBudget);
        if (self)
        {
            CpuWorkerPool.Shared.Run(new MirrorJob(c, ldc, m), threads);
        }
    }

    /// <summary>
    /// C = A·Aᵀ (m × m): computes the tiles that touch the upper triangle and mirrors it, so C is
    /// exactly symmetric and bitwise equal to <see cref="MultiplyTransposed"/>(A, A). Overwrites C.
    /// </summary>
    internal static void MultiplySelfTransposed(SimdTier tier, int threads, float* a, int lda, float* c, int ldc, int m, int k)
    {
        Validate(tier, threads, a, lda, a, lda, c, ldc, m, m, k, self: true);
        if (m == 0)
        {
            return;
        }
        Run(tier, threads, a, lda, a, lda, c, ldc, m, m, k, self: true, PackBudget);
        var mirror = new MirrorJob(c, ldc, m);
        CpuWorkerPool.Shared.Run(mirror, threads);
    }

    private static void Validate(SimdTier tier, int threads, float* a, int lda, float* b, int ldb,
        float* c, int ldc, int m, int n, int k, bool self)
    {
        if (tier == SimdTier.Auto || !SimdTiers.IsSupported(tier))
        {
            throw new ArgumentOutOfRangeException(nameof(tier), tier, $"Pass a resolved tier this machine supports (supported: {string.Join(", ", SimdTiers.Supported)}).");
        }
        if (threads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "Thread count must be at least 1.");
        }
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
        if (lda < k || lda < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(lda), lda, $"Leading dimension lda must be at least max(1, k = {k}).");
        }
        if (!self && (ldb < k || ldb < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"Leading dimension ldb must be at least max(1, k = {k}).");
        }
        if (ldc < n || ldc < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"Leading dimension ldc must be at least max(1, n = {n}).");
        }
        if (m > 0 && n > 0)
        {
            if (c == null)
            {
                throw new ArgumentNullException(nameof(c));
            }
            if (k > 0 && a == null)
            {
                throw new ArgumentNullException(nameof(a));
            }
            if (k > 0 && b == null)
            {
                throw new ArgumentNullException(nameof(b));
            }
        }
    }

    private static void Run(SimdTier tier, int threads, float* a, int lda, float* b, int ldb,
        float* c, int ldc, int m, int n, int k, bool self, long packBudget)
    {
        if (k == 0)
        {
            for (int i = 0; i < m; i++)
            {
                new Span<float>(c + (long)i * ldc, n).Clear();
            }
            return;
        }
        if (tier == SimdTier.Scalar)
        {
            var scalar = new ScalarJob(a, lda, b, ldb, c, ldc, m, n, k, self).Init();
            CpuWorkerPool.Shared.Run(scalar, threads);
            return;
        }

        int paddedN = (n + 15) & ~15;
        long chunkCols = Math.Max(PanelWidth, packBudget / k / PanelWidth * PanelWidth);
        chunkCols = Math.Min(chunkCols, paddedN);
        float* pack = (float*)NativeMemory.AlignedAlloc((nuint)(chunkCols * k * sizeof(float)), 64);
        try
        {
            var job = new TileJob(tier, a, lda, b, ldb, c, ldc, m, n, k, self, pack);
            for (int j0 = 0; j0 < n; j0 += (int)chunkCols)
            {
                job.BeginChunk(j0, (int)Math.Min(chunkCols, n - j0));
                job.Packing = true;
                job.PartCount = job.Panels;
                CpuWorkerPool.Shared.Run(job, threads);
                job.Packing = false;
                job.PartCount = job.RowParts * job.ColumnParts;
                CpuWorkerPool.Shared.Run(job, threads);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(pack);
        }
    }

    /// <summary>Packs B's column chunks and runs the register tiles over parts of C.</summary>
    private sealed class TileJob(SimdTier tier, float* a, int lda, float* b, int ldb, float* c, int ldc,
        int m, int n, int k, bool self, float* pack) : ParallelJob
    {
        public bool Packing;
        public int Panels;
        public int RowParts = (m + PartRows - 1) / PartRows;
        public int ColumnParts;
        private int _chunkStart;
        private int _chunkColumns;

        public void BeginChunk(int start, int columns)
        {
            _chunkStart = start;
            _chunkColumns = columns;
            Panels = (columns + PanelWidth - 1) / PanelWidth;
            ColumnParts = (Panels + PartPanels - 1) / PartPanels;
        }

        /// <summary>Width of panel q of the chunk: 64, or the rest rounded up to 16.</summary>
        private int PanelColumns(int q) => Math.Min(PanelWidth, (_chunkColumns - q * PanelWidth + 15) & ~15);

        private float* PanelBase(int q) => pack + (long)q * PanelWidth * k;

        public override void Execute(int part)
        {
            if (Packing)
            {
                PackPanel(part);
            }
            else
            {
                // Column-part major: consecutive parts (on both threads) share the same packed
                // panels (4 MiB at k = 4,096, kept in L3) and stream fresh A rows (1.5 MiB), rather
                // than the reverse; measured 10–40 % faster at k = 384 and 4,096 (loaded machine).
                RunPart(part % RowParts, part / RowParts);
            }
        }

        private void PackPanel(int q)
        {
            int w = PanelColumns(q);
            float* dst = PanelBase(q);
            int j0 = _chunkStart + q * PanelWidth;
            const int PBlock = 64;
            for (int p0 = 0; p0 < k; p0 += PBlock)
            {
                int p1 = Math.Min(k, p0 + PBlock);
                for (int jj = 0; jj < w; jj++)
                {
                    int j = j0 + jj;
                    float* d = dst + (long)p0 * w + jj;
                    if (j < n)
                    {
                        float* src = b + (long)j * ldb;
                        for (int p = p0; p < p1; p++, d += w)
                        {
                            *d = src[p];
                        }
                    }
                    else
                    {
                        for (int p = p0; p < p1; p++, d += w)
                        {
                            *d = 0f;
                        }
                    }
                }
            }
        }

        private void RunPart(int rowPart, int columnPart)
        {
            int r0 = rowPart * PartRows, r1 = Math.Min(m, r0 + PartRows);
            int q0 = columnPart * PartPanels, q1 = Math.Min(Panels, q0 + PartPanels);
            int colEnd = Math.Min(n, _chunkStart + q1 * PanelWidth);
            if (self && colEnd <= r0)
            {
                return; // entirely below the diagonal: the mirror fills it
            }
            float* scratch = stackalloc float[TileRows * PanelWidth];
            for (int p0 = 0; p0 < k; p0 += KBlock)
            {
                int kc = Math.Min(KBlock, k - p0);
                bool load = p0 > 0;
                // Row tiles outer, panels inner: the tile's six A row segments (6·kc floats) stay
                // in L1 while the part's packed panels (up to 4 × 64 × kc floats) stream from L2.
                for (int i = r0; i < r1; i += TileRows)
                {
                    int rows = Math.Min(TileRows, r1 - i);
                    float* aTile = a + (long)i * lda + p0;
                    for (int q = q0; q < q1; q++)
                    {
                        int w = PanelColumns(q);
                        int jStart = _chunkStart + q * PanelWidth;
                        int valid = Math.Min(w, n - jStart);
                        if (self && jStart + valid <= i)
                        {
                            continue; // every column of this tile is below row i: mirrored later
                        }
                        float* bp = PanelBase(q) + (long)p0 * w;
                        float* cTile = c + (long)i * ldc + jStart;
                        if (rows == TileRows && valid == w)
                        {
                            Tile(aTile, rows, bp, w, kc, cTile, ldc, load);
                        }
                        else
                        {
                            // Edge tile: run it on a w-wide scratch block and copy the valid part.
                            if (load)
                            {
                                for (int r = 0; r < rows; r++)
                                {
                                    new ReadOnlySpan<float>(cTile + (long)r * ldc, valid).CopyTo(new Span<float>(scratch + r * w, valid));
                                }
                            }
                            Tile(aTile, rows, bp, w, kc, scratch, w, load);
                            for (int r = 0; r < rows; r++)
                            {
                                new ReadOnlySpan<float>(scratch + r * w, valid).CopyTo(new Span<float>(cTile + (long)r * ldc, valid));
                            }
                        }
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Tile(float* aTile, int rows, float* bp, int w, int kc, float* cTile, long ldcTile, bool load)
        {
            if (tier == SimdTier.Avx512)
            {
                SimdDispatch.Record(SimdTier.Avx512);
                switch (w)
                {
                    case 64:
                        Tile512x4(aTile, lda, rows, bp, w, kc, cTile, ldcTile, load);
                        break;
                    case 48:
                        Tile512x3(aTile, lda, rows, bp, w, kc, cTile, ldcTile, load);
                        break;
                    case 32:
                        Tile512x2(aTile, lda, rows, bp, w, kc, cTile, ldcTile, load);
                        break;
                    default:
                        Tile512x1(aTile, lda, rows, bp, w, kc, cTile, ldcTile, load);
                        break;
                }
            }
            else
            {
                SimdDispatch.Record(SimdTier.Avx2);
                for (int s = 0; s < w; s += 16)
                {
                    Tile256(aTile, lda, rows, bp + s, w, kc, cTile + s, ldcTile, load);
                }
            }
        }
    }

    /// <summary>The scalar tier: the same chains, four columns at a time, straight from A and B.</summary>
    private sealed class ScalarJob(float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool self) : ParallelJob
    {
        private const int RowsPerPart = 8;

        public override void Execute(int part)
        {
            SimdDispatch.Record(SimdTier.Scalar);
            int r1 = Math.Min(m, (part + 1) * RowsPerPart);
            for (int i = part * RowsPerPart; i < r1; i++)
            {
                float* ai = a + (long)i * lda;
                float* ci = c + (long)i * ldc;
                int j = self ? i : 0;
                for (; j + 4 <= n; j += 4)
                {
                    float* b0 = b + (long)j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                    float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                    for (int p = 0; p < k; p++)
                    {
                        float x = ai[p];
                        s0 = MathF.FusedMultiplyAdd(x, b0[p], s0);
                        s1 = MathF.FusedMultiplyAdd(x, b1[p], s1);
                        s2 = MathF.FusedMultiplyAdd(x, b2[p], s2);
                        s3 = MathF.FusedMultiplyAdd(x, b3[p], s3);
                    }
                    ci[j] = s0;
                    ci[j + 1] = s1;
                    ci[j + 2] = s2;
                    ci[j + 3] = s3;
                }
                for (; j < n; j++)
                {
                    float* bj = b + (long)j * ldb;
                    float s = 0f;
                    for (int p = 0; p < k; p++)
                    {
                        s = MathF.FusedMultiplyAdd(ai[p], bj[p], s);
                    }
                    ci[j] = s;
                }
            }
        }

        public ScalarJob Init()
        {
            PartCount = (m + RowsPerPart - 1) / RowsPerPart;
            return this;
        }
    }

    /// <summary>Copies the upper triangle of a square C onto its lower triangle, in 64 × 64 blocks.</summary>
    private sealed class MirrorJob : ParallelJob
    {
        private const int Block = 64;
        private readonly float* _c;
        private readonly int _ldc;
        private readonly int _m;

        public MirrorJob(float* c, int ldc, int m)
        {
            _c = c;
            _ldc = ldc;
            _m = m;
            PartCount = (m + Block - 1) / Block;
        }

        public override void Execute(int part)
        {
            int r0 = part * Block, r1 = Math.Min(_m, r0 + Block);
            for (int c0 = 0; c0 < r1; c0 += Block)
            {
                for (int i = Math.Max(r0, c0 + 1); i < r1; i++)
                {
                    float* row = _c + (long)i * _ldc;
                    int jEnd = Math.Min(i, c0 + Block);
                    for (int j = c0; j < jEnd; j++)
                    {
                        row[j] = _c[(long)j * _ldc + i];
                    }
                }
            }
        }
    }
}
