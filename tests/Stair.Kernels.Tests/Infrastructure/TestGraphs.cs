// Random graphs and tables for the tests, with the awkward shapes kernels get wrong:
// empty rows, isolated nodes, a hub row, a single row, rectangular and non-symmetric.
namespace Stair.Kernels.Tests.Infrastructure;

public static class TestGraphs
{
    /// <summary>Names of the graph cases, for theory data.</summary>
    public static readonly string[] SquareCases = ["powerlaw", "adjacency", "single", "empty", "hub"];

    public static CsrMatrix Square(string name) => name switch
    {
        "powerlaw" => RandomPowerLaw(rows: 173, columns: 173, seed: 11),
        "adjacency" => SmallAdjacency(users: 61, items: 37, seed: 5),
        "single" => new CsrMatrix(1, 1, [0, 1], [0], [0.75f]),
        "empty" => new CsrMatrix(9, 9, new int[10], [], []),
        "hub" => WithHub(RandomPowerLaw(rows: 90, columns: 90, seed: 3)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>User–item adjacency with some users and items left without interactions.</summary>
    public static CsrMatrix SmallAdjacency(int users, int items, ulong seed)
    {
        var rng = new Random((int)seed);
        var u = new List<int>();
        var i = new List<int>();
        for (int k = 0; k < users * 3; k++)
        {
            int user = rng.Next(users - 3); // the last three users stay isolated
            int item = (int)(items * Math.Pow(rng.NextDouble(), 2)); // popular low ids
            if (item < items - 2) // the last two items stay isolated
            {
                u.Add(user);
                i.Add(item);
            }
        }
        return GraphBuilder.UserItemAdjacency(users, items, u.ToArray(), i.ToArray());
    }

    /// <summary>A non-symmetric matrix with power-law row lengths, about a fifth of rows empty, values in [−1, 1).</summary>
    public static CsrMatrix RandomPowerLaw(int rows, int columns, ulong seed)
    {
        var rng = new Random((int)seed);
        var ptr = new int[rows + 1];
        var cols = new List<int>();
        var vals = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            int degree = rng.NextDouble() < 0.2 ? 0 : Math.Min(columns, (int)(1 / Math.Pow(rng.NextDouble() + 1e-3, 0.7)));
            for (int k = 0; k < degree; k++)
            {
                cols.Add(rng.Next(columns));
                vals.Add((float)(2 * rng.NextDouble() - 1));
            }
            ptr[r + 1] = cols.Count;
        }
        return new CsrMatrix(rows, columns, ptr, cols.ToArray(), vals.ToArray());
    }

    /// <summary>Row 0 gets an entry in every column (a very high-degree row).</summary>
    public static CsrMatrix WithHub(CsrMatrix m)
    {
        var ptr = new List<int> { 0 };
        var cols = new List<int>();
        var vals = new List<float>();
        for (int c = 0; c < m.Columns; c++)
        {
            cols.Add(c);
            vals.Add(1f / m.Columns);
        }
        ptr.Add(cols.Count);
        for (int r = 1; r < m.Rows; r++)
        {
            for (int k = m.RowPointers[r]; k < m.RowPointers[r + 1]; k++)
            {
                cols.Add(m.ColumnIndices[k]);
                vals.Add(m.Values[k]);
            }
            ptr.Add(cols.Count);
        }
        return new CsrMatrix(m.Rows, m.Columns, ptr.ToArray(), cols.ToArray(), vals.ToArray());
    }

    public static float[] Table(int rows, int width, int seed)
    {
        var rng = new Random(seed);
        var t = new float[rows * width];
        for (int k = 0; k < t.Length; k++)
        {
            t[k] = (float)(2 * rng.NextDouble() - 1);
        }
        return t;
    }

    public static float[] Poisoned(int length)
    {
        var t = new float[length];
        t.AsSpan().Fill(float.NaN);
        return t;
    }

    public static int MaxRowLength(CsrMatrix m)
    {
        int max = 0;
        for (int r = 0; r < m.Rows; r++)
        {
            max = Math.Max(max, m.RowLength(r));
        }
        return max;
    }
}

public static class ContextTestExtensions
{
    /// <summary><see cref="ComputeContext.Fsc"/>, or <see cref="ComputeContext.FscBackward"/> when <paramref name="backward"/>: for theories over both.</summary>
    public static void FscOrBackward(this ComputeContext context, DeviceGraph graph, DeviceTable input, DeviceTable output, StepwiseFilter filter, bool backward)
    {
        if (backward)
        {
            context.FscBackward(graph, input, output, filter);
        }
        else
        {
            context.Fsc(graph, input, output, filter);
        }
    }
}
