// Generators of the awkward shapes kernels get wrong, built from CsCheck's own generators so that
// a failure shrinks to the smallest matrix, width and table that still fail: empty rows, isolated
// nodes (no entry in their row or column), an occasional hub row (every column, plus repeats),
// non-symmetric and rectangular matrices, unsorted rows and repeated column indices inside a row
// (CsrMatrix allows both: "column indices inside a row need not be sorted and may repeat
// (kernels sum them in storage order)"), zero-row matrices, and widths d from 1 to 130 (every
// SIMD tail of 8- and 16-lane vectors). The ILGPU backends draw from smaller bounds.
using System.Globalization;
using System.Text;
using CsCheck;

namespace Stair.Kernels.Tests.Properties;

/// <summary>Upper bounds on a generated case.</summary>
public sealed record Sizes(int MaxRows, int MaxColumns, int MaxDegree, int MaxWidth, int MaxLayers, int MaxBatch, int MaxUsers, int MaxItems)
{
    /// <summary>The CPU tiers: small enough for 100 cases in seconds, big enough for several row blocks per thread.</summary>
    public static readonly Sizes Cpu = new(MaxRows: 40, MaxColumns: 40, MaxDegree: 6, MaxWidth: 130, MaxLayers: 4, MaxBatch: 48, MaxUsers: 16, MaxItems: 24);

    /// <summary>The ILGPU backends (the CPU simulator runs every thread): tiny graphs, but still every width up to 130.</summary>
    public static readonly Sizes Ilgpu = new(MaxRows: 8, MaxColumns: 8, MaxDegree: 4, MaxWidth: 130, MaxLayers: 3, MaxBatch: 12, MaxUsers: 6, MaxItems: 8);

    public static Sizes For(PropertyTarget target) => target.IsIlgpu ? Ilgpu : Cpu;
}

/// <summary>A generated CSR matrix, kept as its arrays so that the shrunk case prints in full.</summary>
public sealed record CsrCase(int Rows, int Columns, int[] Pointers, int[] Indices, float[] Values)
{
    public CsrMatrix Matrix() => new(Rows, Columns, Pointers, Indices, Values);

    /// <summary>The most terms any output element of A·X or Aᵀ·X sums (repeats counted): the n of the rounding bound.</summary>
    public int MaxTerms
    {
        get
        {
            int max = 0;
            var perColumn = new int[Columns];
            for (int r = 0; r < Rows; r++)
            {
                max = Math.Max(max, Pointers[r + 1] - Pointers[r]);
            }
            foreach (int c in Indices)
            {
                max = Math.Max(max, ++perColumn[c]);
            }
            return max;
        }
    }

    public override string ToString()
        => $"{Rows}×{Columns} CSR, ptr={Show.Ints(Pointers)}, idx={Show.Ints(Indices)}, val={Show.Floats(Values)}";
}

public static class Generators
{
    /// <summary>A stored value: mostly uniform in [−1, 1], sometimes an explicit zero (still a stored entry).</summary>
    public static readonly Gen<float> Value = Gen.Frequency((7, (IGen<float>)Gen.Float[-1f, 1f]), (1, Gen.Const(0f)));

    /// <summary>A dense table entry, uniform in [−1, 1].</summary>
    public static readonly Gen<float> Entry = Gen.Float[-1f, 1f];

    /// <summary>A table of <paramref name="length"/> entries.</summary>
    public static Gen<float[]> Table(int length) => Entry.Array[length];

    /// <summary>One row's entries: 0 to <paramref name="maxDegree"/> (column, value) pairs drawn with replacement (so repeats and any order).</summary>
    private static Gen<(int Column, float Value)[]> Row(int columns, int maxDegree)
        => columns == 0 ? Gen.Const(Array.Empty<(int, float)>()) : Gen.Select(Gen.Int[0, columns - 1], Value).Array[0, maxDegree];

    /// <summary>
    /// A random CSR matrix: rows in [0, maxRows], columns in [0, maxColumns] (or square), each row 0 to maxDegree
    /// entries with replacement, and one time in four a hub row holding every column in descending order plus up
    /// to as many repeats.
    /// </summary>
    public static Gen<CsrCase> Csr(Sizes sizes, bool square, int minRows = 0)
        => from rows in Gen.Int[minRows, sizes.MaxRows]
           from columns in square ? Gen.Const(rows) : Gen.Int[0, sizes.MaxColumns]
           from body in Row(columns, sizes.MaxDegree).Array[rows]
           from hub in Gen.Int[0, 3]
           from hubRow in Gen.Int[0, Math.Max(rows - 1, 0)]
           from hubValues in Value.Array[columns]
           from hubRepeats in Row(columns, columns)
           select Build(rows, columns, body, hub == 0 && rows > 0 && columns > 0 ? hubRow : -1, hubValues, hubRepeats);

    private static CsrCase Build(int rows, int columns, (int Column, float Value)[][] body, int hubRow, float[] hubValues, (int Column, float Value)[] hubRepeats)
    {
        var pointers = new int[rows + 1];
        var indices = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            if (r == hubRow)
            {
                for (int c = columns - 1; c >= 0; c--)
                {
                    indices.Add(c);
                    values.Add(hubValues[c]);
                }
                foreach ((int c, float v) in hubRepeats)
                {
                    indices.Add(c);
                    values.Add(v);
                }
            }
            else
            {
                foreach ((int c, float v) in body[r])
                {
                    indices.Add(c);
                    values.Add(v);
                }
            }
            pointers[r + 1] = indices.Count;
        }
        return new CsrCase(rows, columns, pointers, indices.ToArray(), values.ToArray());
    }

    /// <summary>A width d in [1, max].</summary>
    public static Gen<int> Width(Sizes sizes) => Gen.Int[1, sizes.MaxWidth];

    /// <summary>A strength β in [0, 1], with the end points (β = 1 is the 1/(L+1) special case) drawn on purpose.</summary>
    public static readonly Gen<float> Strength = Gen.Frequency((4, (IGen<float>)Gen.Float[0f, 1f]), (1, Gen.OneOf(0f, 1f)));

    /// <summary>CPU worker threads for a case (1 to 3: one block, and uneven row partitions).</summary>
    public static readonly Gen<int> Threads = Gen.Int[1, 3];
}

/// <summary>Short text forms of arrays for the printed (shrunk) case.</summary>
public static class Show
{
    private const int Most = 64;

    public static string Ints(IReadOnlyList<int> x) => List(x.Count, k => x[k].ToString(CultureInfo.InvariantCulture));

    public static string Floats(IReadOnlyList<float> x) => List(x.Count, k => x[k].ToString("R", CultureInfo.InvariantCulture));

    private static string List(int count, Func<int, string> item)
    {
        var s = new StringBuilder("[");
        for (int k = 0; k < Math.Min(count, Most); k++)
        {
            s.Append(k == 0 ? "" : ", ").Append(item(k));
        }
        if (count > Most)
        {
            s.Append($", … ({count} in all)");
        }
        return s.Append(']').ToString();
    }
}
