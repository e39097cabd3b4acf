// 64-bit row offsets and entries past an array's limit, on small graphs: the same code paths a
// graph of 2³¹ + 2²⁰ entries takes (the native-memory storage, the long offsets in every CPU tier
// and ILGPU kernel, the row-by-row builder, the in-place symmetry check), compared bit for bit with
// the managed-array matrix. The real size runs in LargeGraphTests (STAIR_LARGE_TESTS=1).
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Graphs;

public class RowOffsets64Tests
{
    public static TheoryData<string> Graphs() => [.. TestGraphs.SquareCases];

    [Fact]
    public void The_64_bit_constructor_builds_the_same_matrix_as_the_32_bit_one()
    {
        CsrMatrix a = TestGraphs.RandomPowerLaw(60, 45, seed: 4);
        long[] offsets = Array.ConvertAll(a.RowPointers.ToArray(), p => (long)p);
        var b = new CsrMatrix(a.Rows, a.Columns, offsets, a.ColumnIndices, a.Values);
        Assert.Equal(a.RowOffsets.ToArray(), b.RowOffsets.ToArray());
        Assert.Equal(a.RowPointers.ToArray(), b.RowPointers.ToArray());
        Assert.Equal(a.ColumnIndices.ToArray(), b.ColumnIndices.ToArray());
        Bits.AssertBitsEqual(a.Values, b.Values, "values");
        Assert.Equal(a.NonZeros, b.NonZeros);
        for (int r = 0; r < a.Rows; r++)
        {
            Assert.Equal(a.RowLength(r), b.RowColumns(r).Length);
            Assert.Equal(a.ColumnIndices.Slice(a.RowPointers[r], a.RowLength(r)).ToArray(), b.RowColumns(r).ToArray());
            Bits.AssertBitsEqual(a.Values.Slice(a.RowPointers[r], a.RowLength(r)), b.RowValues(r), $"row {r}");
        }
    }

    [Fact]
    public void Bad_64_bit_offsets_are_refused_naming_the_argument_and_index()
    {
        var e = ArgumentAssert.Throws("rowOffsets", () => new CsrMatrix(3, 3, [0L, 2, 1, 2], [0, 1], [1f, 1f]));
        Assert.Contains("index 2", e.Message);
        e = ArgumentAssert.Throws("rowOffsets", () => new CsrMatrix(2, 3, [1L, 1, 1], [0], [1f]));
        Assert.Contains("start at 0", e.Message);
        e = ArgumentAssert.Throws("rowOffsets", () => new CsrMatrix(2, 3, [0L, 1, 3], [0, 1], [1f, 1f]));
        Assert.Contains("index 2", e.Message);
        // A row past int.MaxValue entries could not be handed out as a span: refused before its length is compared with the arrays.
        e = ArgumentAssert.Throws("rowOffsets", () => new CsrMatrix(2, 3, [0L, 0, 1L << 32], [], []));
        Assert.Contains("Row 1 holds 4,294,967,296 entries", e.Message);
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Native_storage_gives_the_same_bits_on_every_tier_and_thread_count(string graph)
    {
        CsrMatrix managed = TestGraphs.Square(graph);
        CsrMatrix native = managed.WithNativeStorage();
        Assert.True(native.IsNativeStorage);
        Assert.False(managed.IsNativeStorage);
        const int D = 37, Layers = 3;
        float[] beta = StepwiseWeights.Forward(D, 0.3);
        float[] x = TestGraphs.Table(managed.Rows, D, seed: 9);
        foreach (SimdTier tier in TierCoverage.Expected())
        {
            foreach (int threads in new[] { 1, 2 })
            {
                var options = new CpuOptions(tier, threads);
                var pm = new PropagationPlan(managed, options);
                var pn = new PropagationPlan(native, options);
                Assert.Equal(pm.IsSymmetric, pn.IsSymmetric);
                Assert.True(pn.Transposed.IsNativeStorage); // the matrix itself, or a transpose that keeps its storage
                var ws = new PropagationWorkspace(managed.Rows, D);
                foreach (bool transpose in new[] { false, true })
                {
                    float[] ym = new float[x.Length], yn = TestGraphs.Poisoned(x.Length);
                    Stair.Kernels.Propagation.Spmm(pm, x, ym, D, transpose);
                    Stair.Kernels.Propagation.Spmm(pn, x, yn, D, transpose);
                    Bits.AssertBitsEqual(ym, yn, $"{graph} {tier}/t{threads} spmm transpose={transpose}");
                }
                float[] fm = new float[x.Length], fn = TestGraphs.Poisoned(x.Length);
                Stair.Kernels.Propagation.Fsc(pm, x, fm, D, Layers, beta, ws);
                Stair.Kernels.Propagation.Fsc(pn, x, fn, D, Layers, beta, ws);
                Bits.AssertBitsEqual(fm, fn, $"{graph} {tier}/t{threads} fsc");
                Stair.Kernels.Propagation.FscBackward(pm, x, fm, D, Layers, beta, ws);
                Stair.Kernels.Propagation.FscBackward(pn, x, fn, D, Layers, beta, ws);
                Bits.AssertBitsEqual(fm, fn, $"{graph} {tier}/t{threads} fsc backward");
            }
        }
    }

    [SkippableTheory]
    [InlineData(Backend.IlgpuCpu)]
    [InlineData(Backend.OpenCL)]
    [InlineData(Backend.Cuda)]
    public void Native_storage_uploads_and_propagates_like_managed_storage_on_devices(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        CsrMatrix managed = TestGraphs.Square("hub"), native = managed.WithNativeStorage();
        const int D = 9;
        float[] beta = StepwiseWeights.Forward(D, 0.3);
        float[] x = TestGraphs.Table(managed.Rows, D, seed: 2);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceGraph gm = context.Upload(managed), gn = context.Upload(native);
        Assert.Equal(managed.NonZeros, gn.NonZeros);
        using DeviceTable input = context.Upload(x, managed.Rows, D);
        using DeviceTable om = context.CreateTable(managed.Rows, D), on = context.CreateTable(managed.Rows, D);
        using StepwiseFilter filter = context.CreateFilter(beta, 3);
        foreach (bool transpose in new[] { false, true })
        {
            on.Upload(TestGraphs.Poisoned((int)on.Length));
            context.Spmm(gm, input, om, transpose);
            context.Spmm(gn, input, on, transpose);
            Bits.AssertBitsEqual(om.ToArray(), on.ToArray(), $"{backend} spmm transpose={transpose}");
            on.Upload(TestGraphs.Poisoned((int)on.Length));
            context.FscOrBackward(gm, input, om, filter, transpose);
            context.FscOrBackward(gn, input, on, filter, transpose);
            Bits.AssertBitsEqual(om.ToArray(), on.ToArray(), $"{backend} fsc backward={transpose}");
        }
    }

    [Fact]
    public void Native_storage_reads_back_through_every_accessor()
    {
        CsrMatrix managed = TestGraphs.RandomPowerLaw(80, 50, seed: 8), native = managed.WithNativeStorage();
        Assert.Equal(managed.ColumnIndices.ToArray(), native.ColumnIndices.ToArray());
        Bits.AssertBitsEqual(managed.Values, native.Values, "values");
        Assert.Equal(managed.RowPointers.ToArray(), native.RowPointers.ToArray());
        Bits.AssertBitsEqual(managed.ToDense(), native.ToDense(), "native vs managed dense");
        CsrMatrix tm = managed.Transpose(), tn = native.Transpose();
        Assert.True(tn.IsNativeStorage);
        Assert.Equal(tm.RowOffsets.ToArray(), tn.RowOffsets.ToArray());
        Assert.Equal(tm.ColumnIndices.ToArray(), tn.ColumnIndices.ToArray());
        Bits.AssertBitsEqual(tm.Values, tn.Values, "transposed values");
    }

    [Fact]
    public void The_builder_makes_the_matrix_the_constructor_makes()
    {
        CsrMatrix a = TestGraphs.WithHub(TestGraphs.RandomPowerLaw(70, 70, seed: 6));
        foreach (bool native in new[] { false, true })
        {
            var builder = new CsrBuilder(a.Rows, a.Columns, a.NonZeros, native);
            for (int r = 0; r < a.Rows; r++)
            {
                builder.AppendRow(a.RowColumns(r), a.RowValues(r));
            }
            Assert.Equal(a.Rows, builder.RowsAppended);
            CsrMatrix b = builder.Build();
            Assert.Equal(native, b.IsNativeStorage);
            Assert.Equal(a.RowOffsets.ToArray(), b.RowOffsets.ToArray());
            Assert.Equal(a.ColumnIndices.ToArray(), b.ColumnIndices.ToArray());
            Bits.AssertBitsEqual(a.Values, b.Values, "values");
        }
    }

    [Fact]
    public void The_builder_refuses_bad_rows_without_appending_them()
    {
        var builder = new CsrBuilder(3, 4, 4);
        builder.AppendRow([1, 3], [0.5f, -1f]);
        var e = ArgumentAssert.Throws("columnIndices", () => builder.AppendRow([0, 4], [1f, 1f]));
        Assert.Contains("Row 1", e.Message);
        Assert.Contains("position 1 is 4", e.Message);
        e = ArgumentAssert.Throws("values", () => builder.AppendRow([0], [float.NaN]));
        Assert.Contains("Row 1", e.Message);
        e = ArgumentAssert.Throws("values", () => builder.AppendRow([0, 1], [1f]));
        e = ArgumentAssert.Throws("columnIndices", () => builder.AppendRow([0, 1, 2], [1f, 1f, 1f]));
        Assert.Contains("pass the 4 declared", e.Message);
        Assert.Equal(1, builder.RowsAppended);
        builder.AppendRow([], []);
        Assert.Contains("2 of 3 rows", Assert.Throws<InvalidOperationException>(() => builder.Build()).Message);
        builder.AppendRow([2], [2f]);
        Assert.Contains("hold 3 entries, 4 were declared", Assert.Throws<InvalidOperationException>(() => builder.Build()).Message);
        Assert.Throws<InvalidOperationException>(() => builder.AppendRow([0], [1f]));

        var exact = new CsrBuilder(1, 2, 1);
        exact.AppendRow([1], [3f]);
        CsrMatrix m = exact.Build();
        Assert.Equal([0L, 1L], m.RowOffsets.ToArray());
        Assert.Throws<InvalidOperationException>(() => exact.Build());
        Assert.Throws<InvalidOperationException>(() => exact.AppendRow([], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CsrBuilder(1, 1, -1));
    }

    // The in-place symmetry check (sorted rows without repeats) must agree with the transpose
    // comparison on matrices that are symmetric, almost symmetric and not at all.
    [Fact]
    public void In_place_symmetry_agrees_with_the_transpose_comparison()
    {
        var rng = new Random(17);
        int symmetric = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int n = rng.Next(1, 12);
            var dense = new float[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int j = i; j < n; j++)
                {
                    if (rng.NextDouble() < 0.3)
                    {
                        float v = rng.Next(3) - 1; // −1, 0 (stored zero) or 1
                        dense[i, j] = v;
                        dense[j, i] = rng.NextDouble() < 0.1 ? -v : v; // −0 against +0 stays symmetric
                    }
                }
            }
            var ptr = new List<int> { 0 };
            var cols = new List<int>();
            var vals = new List<float>();
            bool[,] present = new bool[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    bool stored = dense[i, j] != 0 || float.IsNegative(dense[i, j]) || (trial % 3 == 0 && rng.NextDouble() < 0.05);
                    if (stored && !(trial % 5 == 0 && rng.NextDouble() < 0.05)) // sometimes drop one side
                    {
                        present[i, j] = true;
                        cols.Add(j);
                        vals.Add(dense[i, j]);
                    }
                }
                ptr.Add(cols.Count);
            }
            var a = new CsrMatrix(n, n, ptr.ToArray(), cols.ToArray(), vals.ToArray());
            CsrMatrix t = a.Transpose();
            bool expected = a.RowPointers.SequenceEqual(t.RowPointers) && a.ColumnIndices.SequenceEqual(t.ColumnIndices)
                && Bits.Equal(a.Values, t.Values);
            Assert.Equal(expected, a.IsSymmetric());
            Assert.Equal(expected, a.WithNativeStorage().IsSymmetric());
            symmetric += expected ? 1 : 0;
        }
        Assert.InRange(symmetric, 30, 270); // both outcomes were exercised
    }
}
