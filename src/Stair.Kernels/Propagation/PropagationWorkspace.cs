// Scratch memory for FSC: the two ping-pong layer buffers and the per-dimension scale.
// Reused across calls so a training loop allocates nothing per step.
namespace Stair.Kernels;

/// <summary>
/// Reusable scratch buffers for <see cref="Propagation.Fsc"/>: two layer tables of
/// <see cref="Rows"/> × <see cref="Width"/> floats and one row of per-dimension scales.
/// </summary>
/// <remarks>A workspace is not thread-safe: give each concurrent caller its own.</remarks>
public sealed class PropagationWorkspace
{
    /// <summary>Allocates a workspace for tables of up to <paramref name="rows"/> rows of width <paramref name="width"/>.</summary>
    /// <param name="rows">Rows of the tables to propagate (≥ 0).</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    public PropagationWorkspace(int rows, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        long size = (long)rows * width;
        if (size > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A {rows} × {width} table exceeds the largest array .NET can hold.");
        }
        Rows = rows;
        Width = width;
        LayerA = GC.AllocateUninitializedArray<float>((int)size, pinned: true);
        LayerB = GC.AllocateUninitializedArray<float>((int)size, pinned: true);
        Scale = new float[width];
    }

    /// <summary>The largest row count this workspace serves.</summary>
    public int Rows { get; }

    /// <summary>The embedding width this workspace serves.</summary>
    public int Width { get; }

    internal float[] LayerA { get; }

    internal float[] LayerB { get; }

    internal float[] Scale { get; }
}
