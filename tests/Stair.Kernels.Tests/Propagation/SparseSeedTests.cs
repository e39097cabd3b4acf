// FSC over a row-sparse input (a BPR gradient entering FSC backward): the first layer skips the
// entries whose source row is all zeros. Skipping must change no bit (against the same call with
// skipping off, every tier and thread count) and must stay within the float64 bound; the zero-row
// scan must treat −0 as zero and NaN/∞ as non-zero; and the drivers must honour the flags in every
// chunk loop (checked by flagging a row that is not zero, so its contribution visibly disappears).
using Stair.Kernels.Cpu.Propagation;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;
using static Stair.Kernels.Tests.Infrastructure.Reference;

namespace Stair.Kernels.Tests.Propagation;

public class SparseSeedTests
{
    private static readonly int[] Widths = [1, 5, 16, 17, 33, 64, 65, 100];

    public static TheoryData<SimdTier, int> TierWidth()
    {
        var data = new TheoryData<SimdTier, int>();
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int d in Widths)
            {
                data.Add(tier, d);
            }
        }
        return data;
    }

    // One row in five keeps its values; the others are +0, with a few −0 entries sprinkled in.
    private static float[] RowSparse(int rows, int width, int seed)
    {
        float[] e = TestGraphs.Table(rows, width, seed);
        var rng = new Random(seed);
        for (int r = 0; r < rows; r++)
        {
            if (r % 5 == 2)
            {
                continue;
            }
            for (int j = 0; j < width; j++)
            {
                e[r * width + j] = rng.Next(7) == 0 ? -0f : 0f;
            }
        }
        return e;
    }

    [Theory]
    [MemberData(nameof(TierWidth))]
    public void Skipping_zero_rows_changes_no_bit_and_matches_float64(SimdTier tier, int d)
    {
        CsrMatrix a = TestGraphs.WithHub(TestGraphs.RandomPowerLaw(rows: 600, columns: 600, seed: 17));
        float[] beta = StepwiseWeights.Forward(d, gamma: 0.3);
        float[] e = RowSparse(a.Rows, d, seed: 3 * d + 1);
        double tolerance = Float64Reference.FscTolerance(TestGraphs.MaxRowLength(a), 3);
        foreach (int threads in new[] { 1, 2 })
        {
            var plan = new PropagationPlan(a, new CpuOptions(tier, threads));
            var workspace = new PropagationWorkspace(a.Rows, d);
            foreach (bool transpose in new[] { false, true })
            {
                foreach (int layers in new[] { 1, 3 })
                {
                    float[] skipped = TestGraphs.Poisoned(a.Rows * d);
                    float[] full = TestGraphs.Poisoned(a.Rows * d);
                    Kernels.Propagation.FscCore(plan, e, skipped, d, layers, beta, workspace, transpose, "input", "output", skipZeroRows: true);
                    Kernels.Propagation.FscCore(plan, e, full, d, layers, beta, workspace, transpose, "input", "output", skipZeroRows: false);
                    for (int i = 0; i < full.Length; i++)
                    {
                        Assert.True(BitConverter.SingleToInt32Bits(full[i]) == BitConverter.SingleToInt32Bits(skipped[i]),
                            $"{tier} d={d} threads={threads} L={layers} transpose={transpose}: element {i} is {skipped[i]:R} with skipping, {full[i]:R} without");
                    }
                    AssertClose(Fsc(a, ToDouble(e), d, layers, beta, transpose), Fsc(a, ToDouble(e), d, layers, beta, transpose, absolute: true),
                        skipped, tolerance, $"sparse FSC {tier} d={d} threads={threads} L={layers} transpose={transpose}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(TierWidth))]
    public unsafe void Every_driver_loop_honours_the_zero_row_flags(SimdTier tier, int d)
    {
        // Flag a row that is NOT zero: the product must then equal A·X with that row zeroed.
        CsrMatrix a = TestGraphs.WithHub(TestGraphs.RandomPowerLaw(rows: 120, columns: 120, seed: 4));
        float[] x = TestGraphs.Table(a.Rows, d, seed: d);
        const int Flagged = 7;
        float[] xWithout = (float[])x.Clone();
        Array.Clear(xWithout, Flagged * d, d);
        byte[] flags = new byte[a.Rows];
        flags[Flagged] = 1;
        float[] expected = TestGraphs.Poisoned(a.Rows * d);
        float[] actual = TestGraphs.Poisoned(a.Rows * d);
        fixed (long* rp = a.RowOffsetArray)
        fixed (int* ci = &a.ColumnStorage.Reference)
        fixed (float* va = &a.ValueStorage.Reference)
        fixed (float* px = x)
        fixed (float* pw = xWithout)
        fixed (float* pe = expected)
        fixed (float* pa = actual)
        fixed (byte* pf = flags)
        {
            var view = new CsrView(rp, ci, va, a.NonZeros);
            SpmmDrivers.Rows(tier, view, pw, d, 0, a.Rows, new StoreEpilogue(pe, d), new AllColumns());
            SpmmDrivers.Rows(tier, view, px, d, 0, a.Rows, new StoreEpilogue(pa, d), new SkipZeroRows(pf));
        }
        Bits.AssertBitsEqual(expected, actual, $"{tier} d={d}: flagged row skipped vs zeroed");
        Assert.Contains(Flagged, a.ColumnIndices.ToArray()); // the flagged row is gathered by some entry
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(70)]
    public unsafe void The_zero_row_scan_treats_negative_zero_as_zero_and_nan_or_infinity_as_not(int d)
    {
        const int Rows = 40;
        float[] table = new float[Rows * d];
        table[3 * d + d - 1] = -0f;                  // −0 only: zero
        table[5 * d + d / 2] = float.NaN;            // not zero
        table[6 * d] = float.PositiveInfinity;       // not zero
        table[9 * d + d - 1] = 1e-45f;               // the smallest subnormal: not zero
        byte[] flags = new byte[Rows];
        fixed (float* t = table)
        fixed (byte* f = flags)
        {
            Assert.True(ZeroRows.MarkIfSparse(SimdTiers.Best, t, Rows, d, f, threads: 2));
        }
        for (int r = 0; r < Rows; r++)
        {
            bool nonZero = r is 5 or 6 or 9;
            Assert.True(flags[r] == (nonZero ? 0 : 1), $"row {r}: flag {flags[r]}");
        }
    }

    [Fact]
    public unsafe void A_mostly_dense_table_is_not_treated_as_sparse()
    {
        const int Rows = 5000, D = 16;
        float[] table = TestGraphs.Table(Rows, D, seed: 2);
        byte[] flags = new byte[Rows];
        fixed (float* t = table)
        fixed (byte* f = flags)
        {
            Assert.False(ZeroRows.MarkIfSparse(SimdTiers.Best, t, Rows, D, f, threads: 2)); // gives up after the first eighth
            Array.Clear(table, 0, Rows / 2 * D);                 // exactly half zero: sparse enough
            Assert.True(ZeroRows.MarkIfSparse(SimdTiers.Best, t, Rows, D, f, threads: 2));
            table[0] = 1f;                                       // one short of half
            Assert.False(ZeroRows.MarkIfSparse(SimdTiers.Best, t, Rows, D, f, threads: 2));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public unsafe void The_scan_past_the_first_eighth_marks_every_row_on_any_thread_count(int threads)
    {
        // 100,003 rows (parts of unequal length), one in ten non-zero at random rows, d = 9 (a scalar tail).
        const int Rows = 100_003, D = 9;
        var random = new Random(4);
        float[] table = new float[Rows * D];
        var nonZero = new bool[Rows];
        for (int r = 0; r < Rows; r++)
        {
            if (random.Next(10) == 0)
            {
                nonZero[r] = true;
                table[r * D + random.Next(D)] = random.Next(2) == 0 ? 1e-45f : -3f;
            }
        }
        byte[] flags = new byte[Rows];
        Array.Fill(flags, (byte)7); // a row the scan misses keeps 7
        fixed (float* t = table)
        fixed (byte* f = flags)
        {
            Assert.True(ZeroRows.MarkIfSparse(SimdTiers.Best, t, Rows, D, f, threads));
        }
        for (int r = 0; r < Rows; r++)
        {
            Assert.True(flags[r] == (nonZero[r] ? 0 : 1), $"row {r}: flag {flags[r]}");
        }
    }
}
