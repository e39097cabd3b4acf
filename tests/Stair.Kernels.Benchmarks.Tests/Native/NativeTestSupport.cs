// Shared pieces of the C reference tests: loading (skipped only when no compiler can be had),
// the awkward graphs and tables, and a bit-for-bit comparison that names the first differing element.
using Stair.Kernels.Benchmarks.Native;

namespace Stair.Kernels.Benchmarks.Tests.Native;

internal static class NativeTestSupport
{
    /// <summary>The dense widths of the bitwise tests: one lane, odd, one vector, one past, four vectors, and past them.</summary>
    public static readonly int[] Widths = [1, 7, 16, 17, 64, 70, 130];

    /// <summary>The C references; skips the test when gcc is missing, fails it when gcc is there and the build or load fails.</summary>
    public static NativeReference Require()
    {
        Skip.IfNot(NativeReference.CompilerAvailable, $"{NativeReference.CompilerName} is not available on this machine: the C references cannot be built");
        NativeReference? native = NativeReference.TryLoad(out string? reason);
        Assert.True(native is not null, $"gcc is present but the C references did not load: {reason}");
        return native!;
    }

    /// <summary>A build with other flags (e.g. another -march); skips like <see cref="Require"/>.</summary>
    public static NativeReference RequireBuild(params string[] flags)
    {
        Skip.IfNot(NativeReference.CompilerAvailable, $"{NativeReference.CompilerName} is not available on this machine: the C references cannot be built");
        (NativeReference? native, string? reason) = NativeReference.Build(flags);
        Assert.True(native is not null, $"gcc is present but the build with {string.Join(' ', flags)} did not load: {reason}");
        return native!;
    }

    /// <summary>The flags of the default build with -march=native replaced.</summary>
    public static string[] WithMarch(string march)
        => NativeReference.CompilerFlags.Select(f => f == "-march=native" ? march : f).ToArray();

    /// <summary>Square graphs for FSC and SpMM: empty rows, a hub row, isolated nodes, non-symmetric, unsorted and repeated columns; one row; all rows empty.</summary>
    public static IEnumerable<(string Name, CsrMatrix Matrix)> SquareGraphs()
    {
        yield return ("mixed-300", Mixed(300, 300, seed: 1));
        yield return ("one-row", new CsrMatrix(1, 1, [0, 1], [0], [0.75f]));
        yield return ("all-empty", new CsrMatrix(4, 4, [0, 0, 0, 0, 0], [], []));
        yield return ("mixed-129", Mixed(129, 129, seed: 2));
    }

    /// <summary>Every graph of the SpMM tests: the square ones and rectangular ones (one row; more columns than rows).</summary>
    public static IEnumerable<(string Name, CsrMatrix Matrix)> AllGraphs()
    {
        foreach (var g in SquareGraphs())
        {
            yield return g;
        }
        yield return ("one-row-40", new CsrMatrix(1, 40, [0, 3], [39, 0, 17], [0.5f, -1.25f, 3f]));
        yield return ("rect-70x130", Mixed(70, 130, seed: 3));
    }

    // rows × cols: every 11th row (from 3) empty, the last 10 nodes isolated (no entries in their rows or
    // columns) when square, row 5 a hub over every other column in descending order, the rest 0–12 random
    // entries (unsorted, repeats allowed), values in [−1, 1) with some tiny ones (subnormal products).
    private static CsrMatrix Mixed(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        int isolated = rows == cols && rows > 20 ? 10 : 0;
        int usable = cols - isolated;
        var pointers = new List<int> { 0 };
        var columns = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            bool empty = r % 11 == 3 || r >= rows - isolated;
            if (!empty && r == 5)
            {
                for (int c = usable - 1; c >= 0; c--)
                {
                    columns.Add(c);
                    values.Add(Value(rng));
                }
            }
            else if (!empty)
            {
                int count = rng.Next(13);
                for (int e = 0; e < count; e++)
                {
                    columns.Add(rng.Next(usable));
                    values.Add(Value(rng));
                }
            }
            pointers.Add(columns.Count);
        }
        return new CsrMatrix(rows, cols, pointers.ToArray(), columns.ToArray(), values.ToArray());
    }

    private static float Value(Random rng) => rng.Next(20) == 0 ? 1e-20f * (float)(rng.NextDouble() - 0.5) : (float)(rng.NextDouble() * 2 - 1);

    /// <summary>A table in [−1, 1) with some +0, −0 and tiny entries.</summary>
    public static float[] Table(long length, int seed)
    {
        var rng = new Random(seed);
        var t = new float[length];
        for (long i = 0; i < length; i++)
        {
            t[i] = rng.Next(40) switch
            {
                0 => 0f,
                1 => -0f,
                2 => 3e-20f * (float)(rng.NextDouble() - 0.5),
                _ => (float)(rng.NextDouble() * 2 - 1),
            };
        }
        return t;
    }

    /// <summary>FSC strengths with the edge values 1 (j = 0) and 0 (last, when d ≥ 3).</summary>
    public static float[] Beta(int width)
    {
        float[] beta = StepwiseWeights.Forward(width, 0.5);
        beta[0] = 1f;
        if (width >= 3)
        {
            beta[width - 1] = 0f;
        }
        return beta;
    }

    /// <summary>Asserts the two tables hold the same bits (the shared Bits helper: IEEE bits, −0 ≠ +0, NaN payloads count); Stair's result is the expected one.</summary>
    public static void AssertBitwise(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
        => Stair.Kernels.Tests.Infrastructure.Bits.AssertBitsEqual(expected, actual, $"{context} (expected: Stair, actual: C)");
}
