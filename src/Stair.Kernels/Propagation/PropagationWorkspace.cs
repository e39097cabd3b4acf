// Scratch memory for FSC: two intermediate layer tables, the per-dimension scale and one
// zero-row flag per row (for row-sparse inputs).
// Reused across calls so a training loop allocates nothing per step. The layer tables are
// the gather sources of every layer after the first, so they start on a 64-byte boundary:
// a 256-byte row then spans four cache lines instead of five (measured ~30 % faster SpMM).
namespace Stair.Kernels;

/// <summary>
/// Reusable scratch buffers for <see cref="Propagation.Fsc"/>: two layer tables of
/// <see cref="Rows"/> × <see cref="Width"/> floats and one row of per-dimension scales.
/// </summary>
/// <remarks>A workspace is not thread-safe: give each concurrent caller its own.</remarks>
public sealed unsafe class PropagationWorkspace
{
    private const int AlignmentFloats = 16; // 64 bytes

    private readonly float[] _layerA;
    private readonly float[] _layerB;
    private readonly float* _alignedA;
    private readonly float* _alignedB;
    private readonly byte[] _zeroRows;

    /// <summary>Allocates a workspace for tables of up to <paramref name="rows"/> rows of width <paramref name="width"/>.</summary>
    /// <param name="rows">Rows of the tables to propagate (≥ 0).</param>
    /// <param name="width">Embedding width d (≥ 1).</param>
    public PropagationWorkspace(int rows, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        long size = (long)rows * width;
        if (size > Array.MaxLength - AlignmentFloats)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A {rows} × {width} table exceeds the largest array .NET can hold.");
        }
        Rows = rows;
        Width = width;
        // Pinned arrays never move, so an aligned pointer into them stays valid for the workspace's life.
        _layerA = GC.AllocateUninitializedArray<float>((int)size + AlignmentFloats, pinned: true);
        _layerB = GC.AllocateUninitializedArray<float>((int)size + AlignmentFloats, pinned: true);
        _alignedA = Align(_layerA);
        _alignedB = Align(_layerB);
        Scale = new float[width];
        _zeroRows = GC.AllocateUninitializedArray<byte>(Math.Max(rows, 1), pinned: true);
    }

    /// <summary>The largest row count this workspace serves.</summary>
    public int Rows { get; }

    /// <summary>The embedding width this workspace serves.</summary>
    public int Width { get; }

    internal float[] Scale { get; }

    /// <summary>One flag per row: 1 where the first layer's gather source row is all zeros (pinned).</summary>
    internal byte* ZeroRowFlags => (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_zeroRows));

    /// <summary>Layer table 0 or 1 (64-byte aligned, at least Rows × Width floats).</summary>
    internal float* Layer(int which) => which == 0 ? _alignedA : _alignedB;

    private static float* Align(float[] pinned)
    {
        float* p = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned));
        long misalignment = (long)p & 63;
        return misalignment == 0 ? p : (float*)((byte*)p + (64 - misalignment));
    }
}
