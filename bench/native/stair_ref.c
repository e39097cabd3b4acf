// stair_ref.c: the C side of the benchmark report (kernels.md, "C references and probes").
//
// Reference loops, the plain C a performance engineer would write for the same work as
// Stair.Kernels' CPU kernels, run in the same process as the C# cases:
//   stair_ref_spmm          Y = A·X (CSR × dense, row-major, int32 row offsets and columns);
//   stair_ref_fsc           forward stepwise convolution in Horner form (G⁰ = E,
//                           Gᵏ = E + β⊙(A·Gᵏ⁻¹), output = c⊙Gᴸ), one fused pass per layer;
//   stair_ref_dense_nt      C = A·Bᵀ (both row-major, k contiguous, leading dimensions);
//   stair_ref_dense_nt_self C = A·Aᵀ from the tiles that touch the upper triangle, mirrored.
// SpMM and FSC give every output element one FMA chain in storage order,
// acc = fma(a_k, x_k, acc) from +0, and FSC's epilogue s = fma(acc, β_j, E[r,j]), then
// s·c_j on the last layer: the same IEEE operations in the same order as Stair's kernels, so
// their results are bitwise equal to Stair's at every width and thread count. The dense
// product is register-blocked (not promised bitwise; compare it within a float32 bound).
//
// Hardware probes (best of `reps` timed repetitions, omp_get_wtime, arrays first touched in
// parallel with the partition the timed loop uses):
//   stair_probe_triad_gbps          a[i] = b[i] + s·c[i] over float32, 12 bytes per element;
//   stair_probe_gather_rows_per_s   sums of rows gathered at splitmix64 row ids, each row prefetched
//                                   PROBE_AHEAD gathers ahead (as the library's SpMM does), from a
//                                   table laid out like a HostTable (2 MiB huge pages from 8 MiB);
//   stair_probe_fma_gflops          register-resident FMA chains, 2 flops per lane per FMA.
//
// Build: gcc -O3 -march=native -fopenmp -shared -fPIC -o libstair_ref.so stair_ref.c
// (bench/native/build.sh, or NativeReference.TryLoad at run time). What was compiled:
// AVX-512 intrinsics under __AVX512F__, AVX2 + FMA under __AVX2__ and __FMA__, else scalar fmaf.
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__AVX512F__)
#define STAIR_ISA 512
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__FMA__)
#define STAIR_ISA 256
#include <immintrin.h>
#else
#define STAIR_ISA 1
#endif

#define STAIR_EXPORT __attribute__((visibility("default")))
#define INLINE static inline __attribute__((always_inline))

STAIR_EXPORT int stair_ref_isa(void) { return STAIR_ISA; }

static void* alloc64(size_t bytes)
{
    size_t rounded = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, rounded == 0 ? 64 : rounded);
}

// HostTable's layout: 2 MiB aligned and advised for transparent huge pages from 8 MiB, else 64-byte aligned
// (before the first touch, so the parallel first touch faults huge pages in).
static void* alloc_host_table(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < 4 * huge)
    {
        return alloc64(bytes);
    }
    size_t rounded = (bytes + huge - 1) / huge * huge;
    void* p = aligned_alloc(huge, rounded);
    if (p != NULL)
    {
        madvise(p, rounded, MADV_HUGEPAGE);
    }
    return p;
}

// ---------------------------------------------------------------------------------------
// SpMM and FSC: one output row at a time, its columns in register chunks held across the
// row's entries. Epilogues: plain store, or the fused FSC layer (inner / last).

enum { EPI_STORE = 0, EPI_INNER = 1, EPI_LAST = 2 };

typedef struct
{
    const int* rowptr;
    const int* cols;
    const float* vals;
    const float* x;     // gather source
    float* y;           // output rows
    long d;
    const float* e;     // FSC seed E
    const float* beta;  // FSC β (length d)
    const float* scale; // FSC c (length d)
} rows_args;

#if STAIR_ISA == 512

INLINE void put512(const rows_args* r, int mode, long at, long j, __m512 acc)
{
    if (mode != EPI_STORE)
    {
        acc = _mm512_fmadd_ps(acc, _mm512_loadu_ps(r->beta + j), _mm512_loadu_ps(r->e + at));
        if (mode == EPI_LAST)
        {
            acc = _mm512_mul_ps(acc, _mm512_loadu_ps(r->scale + j));
        }
    }
    _mm512_storeu_ps(r->y + at, acc);
}

INLINE void put512_masked(const rows_args* r, int mode, long at, long j, __m512 acc, __mmask16 m)
{
    if (mode != EPI_STORE)
    {
        acc = _mm512_fmadd_ps(acc, _mm512_maskz_loadu_ps(m, r->beta + j), _mm512_maskz_loadu_ps(m, r->e + at));
        if (mode == EPI_LAST)
        {
            acc = _mm512_mul_ps(acc, _mm512_maskz_loadu_ps(m, r->scale + j));
        }
    }
    _mm512_mask_storeu_ps(r->y + at, m, acc);
}

// Columns [j, j + 16·nv) of one row (nv = 4, 2 or 1), or with nv = 0 the masked tail.
INLINE void chunk512(const rows_args* r, int mode, int nv, int row, long j, int k0, int k1, __mmask16 tail)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = k0; k < k1; k++)
    {
        __m512 v = _mm512_set1_ps(r->vals[k]);
        const float* xr = r->x + (long)r->cols[k] * r->d + j;
        if (nv == 0)
        {
            a0 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(tail, xr), a0);
            continue;
        }
        a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(xr), a0);
        if (nv >= 2)
        {
            a1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(xr + 16), a1);
        }
        if (nv == 4)
        {
            a2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(xr + 32), a2);
            a3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(xr + 48), a3);
        }
    }
    long at = (long)row * r->d + j;
    if (nv == 0)
    {
        put512_masked(r, mode, at, j, a0, tail);
        return;
    }
    put512(r, mode, at, j, a0);
    if (nv >= 2)
    {
        put512(r, mode, at + 16, j + 16, a1);
    }
    if (nv == 4)
    {
        put512(r, mode, at + 32, j + 32, a2);
        put512(r, mode, at + 48, j + 48, a3);
    }
}

INLINE void one_row(const rows_args* r, int mode, int row)
{
    int k0 = r->rowptr[row], k1 = r->rowptr[row + 1];
    long d = r->d, j = 0;
    for (; j + 64 <= d; j += 64)
    {
        chunk512(r, mode, 4, row, j, k0, k1, 0);
    }
    if (j + 32 <= d)
    {
        chunk512(r, mode, 2, row, j, k0, k1, 0);
        j += 32;
    }
    if (j + 16 <= d)
    {
        chunk512(r, mode, 1, row, j, k0, k1, 0);
        j += 16;
    }
    if (j < d)
    {
        chunk512(r, mode, 0, row, j, k0, k1, (__mmask16)((1u << (d - j)) - 1u));
    }
}

#elif STAIR_ISA == 256

// maskload/maskstore masks: the 8 lanes from &mask_table[8 - n] enable the first n lanes.
static const int32_t mask_table[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

INLINE void put256(const rows_args* r, int mode, long at, long j, __m256 acc)
{
    if (mode != EPI_STORE)
    {
        acc = _mm256_fmadd_ps(acc, _mm256_loadu_ps(r->beta + j), _mm256_loadu_ps(r->e + at));
        if (mode == EPI_LAST)
        {
            acc = _mm256_mul_ps(acc, _mm256_loadu_ps(r->scale + j));
        }
    }
    _mm256_storeu_ps(r->y + at, acc);
}

INLINE void put256_masked(const rows_args* r, int mode, long at, long j, __m256 acc, __m256i m)
{
    if (mode != EPI_STORE)
    {
        acc = _mm256_fmadd_ps(acc, _mm256_maskload_ps(r->beta + j, m), _mm256_maskload_ps(r->e + at, m));
        if (mode == EPI_LAST)
        {
            acc = _mm256_mul_ps(acc, _mm256_maskload_ps(r->scale + j, m));
        }
    }
    _mm256_maskstore_ps(r->y + at, m, acc);
}

// Columns [j, j + 8·nv) of one row (nv = 4, 2 or 1), or with nv = 0 the masked tail.
INLINE void chunk256(const rows_args* r, int mode, int nv, int row, long j, int k0, int k1, __m256i tail)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = k0; k < k1; k++)
    {
        __m256 v = _mm256_set1_ps(r->vals[k]);
        const float* xr = r->x + (long)r->cols[k] * r->d + j;
        if (nv == 0)
        {
            a0 = _mm256_fmadd_ps(v, _mm256_maskload_ps(xr, tail), a0);
            continue;
        }
        a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(xr), a0);
        if (nv >= 2)
        {
            a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(xr + 8), a1);
        }
        if (nv == 4)
        {
            a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(xr + 16), a2);
            a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(xr + 24), a3);
        }
    }
    long at = (long)row * r->d + j;
    if (nv == 0)
    {
        put256_masked(r, mode, at, j, a0, tail);
        return;
    }
    put256(r, mode, at, j, a0);
    if (nv >= 2)
    {
        put256(r, mode, at + 8, j + 8, a1);
    }
    if (nv == 4)
    {
        put256(r, mode, at + 16, j + 16, a2);
        put256(r, mode, at + 24, j + 24, a3);
    }
}

INLINE void one_row(const rows_args* r, int mode, int row)
{
    int k0 = r->rowptr[row], k1 = r->rowptr[row + 1];
    long d = r->d, j = 0;
    __m256i none = _mm256_setzero_si256();
    for (; j + 32 <= d; j += 32)
    {
        chunk256(r, mode, 4, row, j, k0, k1, none);
    }
    if (j + 16 <= d)
    {
        chunk256(r, mode, 2, row, j, k0, k1, none);
        j += 16;
    }
    if (j + 8 <= d)
    {
        chunk256(r, mode, 1, row, j, k0, k1, none);
        j += 8;
    }
    if (j < d)
    {
        chunk256(r, mode, 0, row, j, k0, k1, _mm256_loadu_si256((const __m256i*)(mask_table + 8 - (d - j))));
    }
}

#else

INLINE void put1(const rows_args* r, int mode, long at, long j, float acc)
{
    if (mode != EPI_STORE)
    {
        acc = fmaf(acc, r->beta[j], r->e[at]);
        if (mode == EPI_LAST)
        {
            acc = acc * r->scale[j];
        }
    }
    r->y[at] = acc;
}

INLINE void one_row(const rows_args* r, int mode, int row)
{
    int k0 = r->rowptr[row], k1 = r->rowptr[row + 1];
    long d = r->d, j = 0, at = (long)row * d;
    for (; j + 4 <= d; j += 4)
    {
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (int k = k0; k < k1; k++)
        {
            float v = r->vals[k];
            const float* xr = r->x + (long)r->cols[k] * d + j;
            s0 = fmaf(v, xr[0], s0);
            s1 = fmaf(v, xr[1], s1);
            s2 = fmaf(v, xr[2], s2);
            s3 = fmaf(v, xr[3], s3);
        }
        put1(r, mode, at + j, j, s0);
        put1(r, mode, at + j + 1, j + 1, s1);
        put1(r, mode, at + j + 2, j + 2, s2);
        put1(r, mode, at + j + 3, j + 3, s3);
    }
    for (; j < d; j++)
    {
        float s = 0.0f;
        for (int k = k0; k < k1; k++)
        {
            s = fmaf(r->vals[k], r->x[(long)r->cols[k] * d + j], s);
        }
        put1(r, mode, at + j, j, s);
    }
}

#endif

// The row loops, one per epilogue (so each inlines its own constant mode). Called inside a
// parallel region: the rows are shared out by the worksharing loop.
static void rows_store(const rows_args* r, int rows)
{
#pragma omp for schedule(dynamic, 64)
    for (int row = 0; row < rows; row++)
    {
        one_row(r, EPI_STORE, row);
    }
}

static void rows_inner(const rows_args* r, int rows)
{
#pragma omp for schedule(dynamic, 64)
    for (int row = 0; row < rows; row++)
    {
        one_row(r, EPI_INNER, row);
    }
}

static void rows_last(const rows_args* r, int rows)
{
#pragma omp for schedule(dynamic, 64)
    for (int row = 0; row < rows; row++)
    {
        one_row(r, EPI_LAST, row);
    }
}

STAIR_EXPORT void stair_ref_spmm(int rows, const int* rowptr, const int* cols, const float* vals,
    const float* x, float* y, int d, int threads)
{
    if (rows <= 0 || d <= 0)
    {
        return;
    }
    rows_args r = { rowptr, cols, vals, x, y, d, NULL, NULL, NULL };
#pragma omp parallel num_threads(threads < 1 ? 1 : threads)
    rows_store(&r, rows);
}

// Layer l (1 ≤ l ≤ layers) gathers layer l−1's table (E for l = 1) and writes work[l % 2]
// (work0 for even l, work1 for odd), or y on the last layer: Propagation.FscUnchecked's order.
STAIR_EXPORT void stair_ref_fsc(int n, const int* rowptr, const int* cols, const float* vals,
    const float* e, float* y, int d, int layers, const float* beta, const float* scale,
    float* work0, float* work1, int threads)
{
    if (n <= 0 || d <= 0)
    {
        return;
    }
    if (layers <= 0)
    {
        memcpy(y, e, (size_t)n * (size_t)d * sizeof(float));
        return;
    }
#pragma omp parallel num_threads(threads < 1 ? 1 : threads)
    {
        const float* source = e;
        for (int l = 1; l <= layers; l++)
        {
            float* target = l == layers ? y : (l % 2 == 0 ? work0 : work1);
            rows_args r = { rowptr, cols, vals, source, target, d, e, beta, scale };
            if (l == layers)
            {
                rows_last(&r, n); // ends with a barrier: the next layer reads every row
            }
            else
            {
                rows_inner(&r, n);
            }
            source = target;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dense NT product C = A·Bᵀ: C[i·ldc + j] = Σ_p A[i·lda + p]·B[j·ldb + p].
// Vector builds pack B once into panels of 64 columns, [p][64] (zero-padded past n), so a
// k-step of a panel is four aligned 16-float vectors; a register tile of 6 rows × 64 columns
// (24 zmm accumulators; AVX2: 6 × 16 columns, 12 ymm) broadcasts A[i, p] straight from A.
// Work items are 96 rows × 4 panels, column-group major (neighbouring items share panels);
// each walks k in blocks of 256 (A's 6 × 256 segment in L1, a 64 KiB panel block in L2),
// the tile's accumulators stored to C between k-blocks and loaded back.

enum { TILE_ROWS = 6, PANEL = 64, PART_ROWS = 96, PART_PANELS = 4, KC = 256 };

static void mirror_upper(float* c, long ldc, int m)
{
    int blocks = (m + 63) / 64;
#pragma omp for schedule(dynamic, 1)
    for (int bi = 0; bi < blocks; bi++)
    {
        int r0 = bi * 64, r1 = r0 + 64 < m ? r0 + 64 : m;
        for (int c0 = 0; c0 < r1; c0 += 64)
        {
            for (int i = (r0 > c0 + 1 ? r0 : c0 + 1); i < r1; i++)
            {
                int jEnd = i < c0 + 64 ? i : c0 + 64;
                for (int j = c0; j < jEnd; j++)
                {
                    c[(long)i * ldc + j] = c[(long)j * ldc + i];
                }
            }
        }
    }
}

#if STAIR_ISA == 512 || STAIR_ISA == 256

static void pack_panel(const float* b, long ldb, int n, int k, int q, float* dst)
{
    int j0 = q * PANEL;
    for (int p0 = 0; p0 < k; p0 += 64)
    {
        int p1 = p0 + 64 < k ? p0 + 64 : k;
        for (int jj = 0; jj < PANEL; jj++)
        {
            int j = j0 + jj;
            float* out = dst + (long)p0 * PANEL + jj;
            if (j < n)
            {
                const float* src = b + (long)j * ldb;
                for (int p = p0; p < p1; p++, out += PANEL)
                {
                    *out = src[p];
                }
            }
            else
            {
                for (int p = p0; p < p1; p++, out += PANEL)
                {
                    *out = 0.0f;
                }
            }
        }
    }
}

#if STAIR_ISA == 512

// R rows × NV vectors of 16 columns; `valid` columns of the tile are stored (1 ≤ valid ≤ 16·NV).
INLINE void tile512(const int R, const int NV, const float* a, long lda, const float* bp, int kc,
    float* c, long ldc, int valid, int load)
{
    __m512 acc[TILE_ROWS][4];
    __mmask16 mask[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
    {
        int rem = valid - 16 * v;
        mask[v] = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u);
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
    {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
        {
            acc[r][v] = load ? _mm512_maskz_loadu_ps(mask[v], c + r * ldc + 16 * v) : _mm512_setzero_ps();
        }
    }
    for (int p = 0; p < kc; p++)
    {
        __m512 bv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
        {
            bv[v] = _mm512_load_ps(bp + (long)p * PANEL + 16 * v);
        }
#pragma GCC unroll 6
        for (int r = 0; r < R; r++)
        {
            __m512 av = _mm512_set1_ps(a[r * lda + p]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
            {
                acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
    {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
        {
            _mm512_mask_storeu_ps(c + r * ldc + 16 * v, mask[v], acc[r][v]);
        }
    }
}

#define TILE512_ROWS(R)                                                        \
    case R:                                                                    \
        switch ((valid + 15) / 16)                                             \
        {                                                                      \
        case 1: tile512(R, 1, a, lda, bp, kc, c, ldc, valid, load); break;     \
        case 2: tile512(R, 2, a, lda, bp, kc, c, ldc, valid, load); break;     \
        case 3: tile512(R, 3, a, lda, bp, kc, c, ldc, valid, load); break;     \
        default: tile512(R, 4, a, lda, bp, kc, c, ldc, valid, load); break;    \
        }                                                                      \
        break;

static void tile(int rows, const float* a, long lda, const float* bp, int kc, float* c, long ldc, int valid, int load)
{
    switch (rows)
    {
        TILE512_ROWS(1)
        TILE512_ROWS(2)
        TILE512_ROWS(3)
        TILE512_ROWS(4)
        TILE512_ROWS(5)
        default:
        TILE512_ROWS(6)
    }
}

#else

static const int32_t mask_table_dense[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

INLINE __m256i lanes256(int n)
{
    n = n < 0 ? 0 : (n > 8 ? 8 : n);
    return _mm256_loadu_si256((const __m256i*)(mask_table_dense + 8 - n));
}

// R rows × NV vectors of 8 columns of one 16-column strip of a panel.
INLINE void tile256(const int R, const int NV, const float* a, long lda, const float* bp, int kc,
    float* c, long ldc, int valid, int load)
{
    __m256 acc[TILE_ROWS][2];
    __m256i mask[2];
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++)
    {
        mask[v] = lanes256(valid - 8 * v);
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
    {
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
        {
            acc[r][v] = load ? _mm256_maskload_ps(c + r * ldc + 8 * v, mask[v]) : _mm256_setzero_ps();
        }
    }
    for (int p = 0; p < kc; p++)
    {
        __m256 bv[2];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
        {
            bv[v] = _mm256_load_ps(bp + (long)p * PANEL + 8 * v);
        }
#pragma GCC unroll 6
        for (int r = 0; r < R; r++)
        {
            __m256 av = _mm256_set1_ps(a[r * lda + p]);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
            {
                acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
    {
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
        {
            _mm256_maskstore_ps(c + r * ldc + 8 * v, mask[v], acc[r][v]);
        }
    }
}

#define TILE256_ROWS(R)                                                                 \
    case R:                                                                             \
        if (strip > 8) tile256(R, 2, a, lda, bp + s, kc, c + s, ldc, strip, load);      \
        else tile256(R, 1, a, lda, bp + s, kc, c + s, ldc, strip, load);                \
        break;

static void tile(int rows, const float* a, long lda, const float* bp, int kc, float* c, long ldc, int valid, int load)
{
    for (int s = 0; s < valid; s += 16)
    {
        int strip = valid - s < 16 ? valid - s : 16;
        switch (rows)
        {
            TILE256_ROWS(1)
            TILE256_ROWS(2)
            TILE256_ROWS(3)
            TILE256_ROWS(4)
            TILE256_ROWS(5)
            default:
            TILE256_ROWS(6)
        }
    }
}

#endif

static int dense_core(const float* a, long lda, const float* b, long ldb, float* c, long ldc,
    int m, int n, int k, int self, int threads)
{
    int panels = (n + PANEL - 1) / PANEL;
    float* pack = (float*)alloc64((size_t)panels * PANEL * (size_t)k * sizeof(float));
    if (pack == NULL)
    {
        return -1;
    }
    int rowParts = (m + PART_ROWS - 1) / PART_ROWS;
    int colParts = (panels + PART_PANELS - 1) / PART_PANELS;
    long parts = (long)rowParts * colParts;
#pragma omp parallel num_threads(threads < 1 ? 1 : threads)
    {
#pragma omp for schedule(static)
        for (int q = 0; q < panels; q++)
        {
            pack_panel(b, ldb, n, k, q, pack + (long)q * PANEL * k);
        }
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < parts; t++)
        {
            int r0 = (int)(t % rowParts) * PART_ROWS, r1 = r0 + PART_ROWS < m ? r0 + PART_ROWS : m;
            int q0 = (int)(t / rowParts) * PART_PANELS, q1 = q0 + PART_PANELS < panels ? q0 + PART_PANELS : panels;
            int colEnd = q1 * PANEL < n ? q1 * PANEL : n;
            if (self && colEnd <= r0)
            {
                continue; // below the diagonal: mirrored
            }
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = k - p0 < KC ? k - p0 : KC;
                for (int i = r0; i < r1; i += TILE_ROWS)
                {
                    int rows = r1 - i < TILE_ROWS ? r1 - i : TILE_ROWS;
                    for (int q = q0; q < q1; q++)
                    {
                        int j0 = q * PANEL;
                        int valid = n - j0 < PANEL ? n - j0 : PANEL;
                        if (self && j0 + valid <= i)
                        {
                            continue;
                        }
                        tile(rows, a + (long)i * lda + p0, lda, pack + (long)q * PANEL * k + (long)p0 * PANEL, kc,
                            c + (long)i * ldc + j0, ldc, valid, p0 > 0);
                    }
                }
            }
        }
        if (self)
        {
            mirror_upper(c, ldc, m);
        }
    }
    free(pack);
    return 0;
}

#else

static int dense_core(const float* a, long lda, const float* b, long ldb, float* c, long ldc,
    int m, int n, int k, int self, int threads)
{
#pragma omp parallel num_threads(threads < 1 ? 1 : threads)
    {
#pragma omp for schedule(dynamic, 8)
        for (int i = 0; i < m; i++)
        {
            const float* ai = a + (long)i * lda;
            float* ci = c + (long)i * ldc;
            int j = self ? i : 0;
            for (; j + 4 <= n; j += 4)
            {
                const float *b0 = b + (long)j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
                float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
                for (int p = 0; p < k; p++)
                {
                    s0 = fmaf(ai[p], b0[p], s0);
                    s1 = fmaf(ai[p], b1[p], s1);
                    s2 = fmaf(ai[p], b2[p], s2);
                    s3 = fmaf(ai[p], b3[p], s3);
                }
                ci[j] = s0;
                ci[j + 1] = s1;
                ci[j + 2] = s2;
                ci[j + 3] = s3;
            }
            for (; j < n; j++)
            {
                const float* bj = b + (long)j * ldb;
                float s = 0.0f;
                for (int p = 0; p < k; p++)
                {
                    s = fmaf(ai[p], bj[p], s);
                }
                ci[j] = s;
            }
        }
        if (self)
        {
            mirror_upper(c, ldc, m);
        }
    }
    return 0;
}

#endif

static int dense_entry(const float* a, int lda, const float* b, int ldb, float* c, int ldc,
    int m, int n, int k, int self, int threads)
{
    if (m <= 0 || n <= 0)
    {
        return 0;
    }
    if (k <= 0)
    {
        for (int i = 0; i < m; i++)
        {
            memset(c + (long)i * ldc, 0, (size_t)n * sizeof(float));
        }
        return 0;
    }
    return dense_core(a, lda, b, ldb, c, ldc, m, n, k, self, threads);
}

// C = A·Bᵀ: A is m × k (row stride lda ≥ k), B is n × k (row stride ldb ≥ k), C is m × n
// (row stride ldc ≥ n), overwritten. Returns 0, or −1 when the packed copy of B cannot be allocated.
STAIR_EXPORT int stair_ref_dense_nt(const float* a, int lda, const float* b, int ldb, float* c, int ldc,
    int m, int n, int k, int threads)
{
    return dense_entry(a, lda, b, ldb, c, ldc, m, n, k, 0, threads);
}

// C = A·Aᵀ (m × m): the tiles touching the upper triangle, then the lower triangle mirrored.
STAIR_EXPORT int stair_ref_dense_nt_self(const float* a, int lda, float* c, int ldc, int m, int k, int threads)
{
    return dense_entry(a, lda, a, lda, c, ldc, m, m, k, 1, threads);
}

// ---------------------------------------------------------------------------------------
// Probes.

// The i-th output (i = 0, 1, …) of a splitmix64 stream started at state `seed`.
static inline uint64_t splitmix64_at(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static volatile float probe_sink;

STAIR_EXPORT double stair_probe_triad_gbps(long elements, int reps, int threads)
{
    if (elements <= 0 || reps <= 0)
    {
        return -1.0;
    }
    threads = threads < 1 ? 1 : threads;
    float* a = (float*)alloc64((size_t)elements * sizeof(float));
    float* b = (float*)alloc64((size_t)elements * sizeof(float));
    float* c = (float*)alloc64((size_t)elements * sizeof(float));
    if (a == NULL || b == NULL || c == NULL)
    {
        free(a);
        free(b);
        free(c);
        return -1.0;
    }
#pragma omp parallel for schedule(static) num_threads(threads)
    for (long i = 0; i < elements; i++)
    {
        a[i] = 0.0f;
        b[i] = 1.0f;
        c[i] = 2.0f;
    }
    volatile float scalar = 3.0f;
    float s = scalar;
    double best = 1e300;
    for (int rep = 0; rep < reps; rep++)
    {
        double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static) num_threads(threads)
        for (long i = 0; i < elements; i++)
        {
            a[i] = b[i] + s * c[i];
        }
        double t = omp_get_wtime() - t0;
        best = t < best ? t : best;
    }
    probe_sink = a[elements / 2];
    free(a);
    free(b);
    free(c);
    return 12.0 * (double)elements / best / 1e9;
}

// Gathers ahead that the gather probe prefetches (Stair's SpMM prefetches 48 entries ahead).
#define PROBE_AHEAD 48

// Every cache line of a row of rf floats.
INLINE void prefetch_row(const float* row, long rf)
{
    for (long o = 0; o < rf; o += 16)
    {
        __builtin_prefetch(row + o, 0, 3);
    }
}

#if STAIR_ISA == 512

// Rows of up to 64 floats in NV registers (the last masked), two rows in flight.
INLINE float gather_regs(const int NV, const float* table, long rf, const int32_t* ids, long g0, long g1, __mmask16 last)
{
    __m512 s0[4], s1[4];
    __mmask16 m[4];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
    {
        s0[v] = _mm512_setzero_ps();
        s1[v] = _mm512_setzero_ps();
        m[v] = v == NV - 1 ? last : (__mmask16)0xFFFF;
    }
    long g = g0;
    for (; g + 1 < g1; g += 2)
    {
        if (g + PROBE_AHEAD + 1 < g1)
        {
            prefetch_row(table + (long)ids[g + PROBE_AHEAD] * rf, rf);
            prefetch_row(table + (long)ids[g + PROBE_AHEAD + 1] * rf, rf);
        }
        const float* r0 = table + (long)ids[g] * rf;
        const float* r1 = table + (long)ids[g + 1] * rf;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
        {
            s0[v] = _mm512_add_ps(s0[v], _mm512_maskz_loadu_ps(m[v], r0 + 16 * v));
            s1[v] = _mm512_add_ps(s1[v], _mm512_maskz_loadu_ps(m[v], r1 + 16 * v));
        }
    }
    if (g < g1)
    {
        const float* r0 = table + (long)ids[g] * rf;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
        {
            s0[v] = _mm512_add_ps(s0[v], _mm512_maskz_loadu_ps(m[v], r0 + 16 * v));
        }
    }
    float total = 0.0f;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
    {
        total += _mm512_reduce_add_ps(_mm512_add_ps(s0[v], s1[v]));
    }
    return total;
}

#endif

// Any row length: the thread's accumulator row in L1.
static float gather_buffer(const float* table, long rf, const int32_t* ids, long g0, long g1, float* acc)
{
    for (long j = 0; j < rf; j++)
    {
        acc[j] = 0.0f;
    }
    for (long g = g0; g < g1; g++)
    {
        if (g + PROBE_AHEAD < g1)
        {
            prefetch_row(table + (long)ids[g + PROBE_AHEAD] * rf, rf);
        }
        const float* row = table + (long)ids[g] * rf;
        for (long j = 0; j < rf; j++)
        {
            acc[j] += row[j];
        }
    }
    float total = 0.0f;
    for (long j = 0; j < rf; j++)
    {
        total += acc[j];
    }
    return total;
}

STAIR_EXPORT double stair_probe_gather_rows_per_s(long table_rows, int row_floats, long gathers, int reps,
    int threads, unsigned long long seed)
{
    if (table_rows <= 0 || table_rows > 2147483647L || row_floats <= 0 || gathers <= 0 || reps <= 0)
    {
        return -1.0;
    }
    threads = threads < 1 ? 1 : threads;
    long rf = row_floats;
    float* table = (float*)alloc_host_table((size_t)table_rows * (size_t)rf * sizeof(float));
    int32_t* ids = (int32_t*)alloc64((size_t)gathers * sizeof(int32_t));
    if (table == NULL || ids == NULL)
    {
        free(table);
        free(ids);
        return -1.0;
    }
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
        for (long r = 0; r < table_rows; r++)
        {
            for (long j = 0; j < rf; j++)
            {
                table[r * rf + j] = 1e-3f * (float)((r + j) % 7);
            }
        }
#pragma omp for schedule(static)
        for (long g = 0; g < gathers; g++)
        {
            ids[g] = (int32_t)(splitmix64_at(seed, (uint64_t)g) % (uint64_t)table_rows);
        }
    }
    double best = 1e300;
    int failed = 0;
    for (int rep = 0; rep < reps && !failed; rep++)
    {
        float sum = 0.0f;
        double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : sum) reduction(| : failed)
        {
            int tid = omp_get_thread_num(), nth = omp_get_num_threads();
            long g0 = gathers * tid / nth, g1 = gathers * (tid + 1) / nth;
#if STAIR_ISA == 512
            if (rf <= 64)
            {
                __mmask16 last = rf % 16 == 0 ? (__mmask16)0xFFFF : (__mmask16)((1u << (rf % 16)) - 1u);
                switch ((rf + 15) / 16)
                {
                case 1: sum += gather_regs(1, table, rf, ids, g0, g1, last); break;
                case 2: sum += gather_regs(2, table, rf, ids, g0, g1, last); break;
                case 3: sum += gather_regs(3, table, rf, ids, g0, g1, last); break;
                default: sum += gather_regs(4, table, rf, ids, g0, g1, last); break;
                }
            }
            else
#endif
            {
                float* acc = (float*)alloc64((size_t)rf * sizeof(float));
                if (acc == NULL)
                {
                    failed = 1;
                }
                else
                {
                    sum += gather_buffer(table, rf, ids, g0, g1, acc);
                    free(acc);
                }
            }
        }
        double t = omp_get_wtime() - t0;
        best = t < best ? t : best;
        probe_sink = sum;
    }
    free(table);
    free(ids);
    return failed ? -1.0 : (double)gathers / best;
}

#if STAIR_ISA == 512
enum { FMA_CHAINS = 16, FMA_LANES = 16, FMA_ITERS = 1 << 23 };
#elif STAIR_ISA == 256
enum { FMA_CHAINS = 12, FMA_LANES = 8, FMA_ITERS = 1 << 23 };
#else
enum { FMA_CHAINS = 12, FMA_LANES = 1, FMA_ITERS = 1 << 20 };
#endif

STAIR_EXPORT double stair_probe_fma_gflops(int threads, int reps)
{
    if (reps <= 0)
    {
        return -1.0;
    }
    threads = threads < 1 ? 1 : threads;
    volatile float mv = 0.999f, cv = 0.001f;
    float mul = mv, add = cv;
    double best = 1e300;
    for (int rep = 0; rep < reps; rep++)
    {
        float sum = 0.0f;
        double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : sum)
        {
            float start = 1.0f + 1e-3f * (float)omp_get_thread_num();
#if STAIR_ISA == 512
            __m512 acc[FMA_CHAINS];
            __m512 m = _mm512_set1_ps(mul), c = _mm512_set1_ps(add);
#pragma GCC unroll 16
            for (int i = 0; i < FMA_CHAINS; i++)
            {
                acc[i] = _mm512_set1_ps(start + 1e-4f * (float)i);
            }
            for (int it = 0; it < FMA_ITERS; it++)
            {
#pragma GCC unroll 16
                for (int i = 0; i < FMA_CHAINS; i++)
                {
                    acc[i] = _mm512_fmadd_ps(acc[i], m, c);
                }
            }
#pragma GCC unroll 16
            for (int i = 0; i < FMA_CHAINS; i++)
            {
                sum += _mm512_reduce_add_ps(acc[i]);
            }
#elif STAIR_ISA == 256
            __m256 acc[FMA_CHAINS];
            __m256 m = _mm256_set1_ps(mul), c = _mm256_set1_ps(add);
#pragma GCC unroll 12
            for (int i = 0; i < FMA_CHAINS; i++)
            {
                acc[i] = _mm256_set1_ps(start + 1e-4f * (float)i);
            }
            for (int it = 0; it < FMA_ITERS; it++)
            {
#pragma GCC unroll 12
                for (int i = 0; i < FMA_CHAINS; i++)
                {
                    acc[i] = _mm256_fmadd_ps(acc[i], m, c);
                }
            }
            float lanes[8];
#pragma GCC unroll 12
            for (int i = 0; i < FMA_CHAINS; i++)
            {
                _mm256_storeu_ps(lanes, acc[i]);
                for (int l = 0; l < 8; l++)
                {
                    sum += lanes[l];
                }
            }
#else
            float acc[FMA_CHAINS];
            for (int i = 0; i < FMA_CHAINS; i++)
            {
                acc[i] = start + 1e-4f * (float)i;
            }
            for (int it = 0; it < FMA_ITERS; it++)
            {
                for (int i = 0; i < FMA_CHAINS; i++)
                {
                    acc[i] = fmaf(acc[i], mul, add);
                }
            }
            for (int i = 0; i < FMA_CHAINS; i++)
            {
                sum += acc[i];
            }
#endif
        }
        double t = omp_get_wtime() - t0;
        best = t < best ? t : best;
        probe_sink = sum;
    }
    double flops = 2.0 * FMA_LANES * (double)FMA_CHAINS * (double)FMA_ITERS * (double)threads;
    return flops / best / 1e9;
}
