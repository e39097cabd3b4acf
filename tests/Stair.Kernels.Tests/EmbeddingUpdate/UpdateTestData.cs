// Inputs for the EmbeddingUpdate tests: S̃-shaped item graphs (a few random "text" and one
// "visual" neighbour per item, symmetrized by max and symmetric-normalized, with isolated
// items that have no neighbours at all), and gradients of varying scale.
namespace Stair.Kernels.Tests.Updates;

public static class UpdateTestData
{
    /// <summary>An item–item graph like S̃; the last <paramref name="isolated"/> items have empty rows.</summary>
    public static CsrMatrix ItemGraph(int items, int seed, int isolated = 3, int textK = 3)
    {
        var rng = new Random(seed);
        var sources = new List<int>();
        var targets = new List<int>();
        int connected = Math.Max(0, items - isolated);
        for (int i = 0; i < connected && connected > 1; i++)
        {
            for (int k = 0; k < textK + 1; k++)
            {
                int j = rng.Next(connected - 1);
                j += j >= i ? 1 : 0; // no self-loops
                sources.Add(i);
                targets.Add(j);
            }
        }
        return GraphBuilder.FromEdges(items, items, sources.ToArray(), targets.ToArray(), [], symmetrize: true, GraphNormalization.Symmetric);
    }

    public static float[] Gradient(int length, int seed, float scale)
    {
        var rng = new Random(seed);
        var g = new float[length];
        for (int k = 0; k < length; k++)
        {
            g[k] = (float)((2 * rng.NextDouble() - 1) * scale * (0.1 + rng.NextDouble()));
        }
        return g;
    }

    public static float[] Copy(float[] x) => (float[])x.Clone();

    public static void AssertBitwiseEqual(float[] expected, float[] actual, string what) => Infrastructure.Bits.AssertBitsEqual(expected, actual, what);
}
