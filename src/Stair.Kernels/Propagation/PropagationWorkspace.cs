// Scratch memory for FSC: two intermediate layer tables, the per-dimension scale and one
// zero-row flag per row (for row-sparse inputs).
// Reused across calls so a training loop allocates nothing per step. The layer tables are
// the gather sources of every layer after the first, so they are host memory (HostTable's
// layout: 64-byte aligned, on huge pages from 8 MiB).
namespace Stair.Kernels;

/// <summary>
/// Reusable scratch buffers for <see cref="Propagation.Fsc"/>: two layer tables of
/// <see cref="Rows"/> × <see cref="Width"/> floats and one row of per-dimension scales.
/// </summary>
/// <remarks>A workspace is not thread-safe: give each concurrent caller its own.</remarks>
public sealed unsafe class PropagationWorkspace
{
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
        long size = HostMemory.TableLength(rows, width);
        Rows = rows;
        Width = width;
        // Pinned arrays never move, so an aligned pointer into them stays valid for the workspace's life.
        // Zeroed here, which faults the pages in now: otherwise the first FSC call pays for it (at 100×
        // Electronics, d = 16, two 1.6 GB layers: the one-call FSC took 8.0 s before, 2.5 s after).
        _layerA = HostMemory.Allocate(size, zeroed: true, out int offsetA, out _);
        _layerB = HostMemory.Allocate(size, zeroed: true, out int offsetB, out _);
        _alignedA = Pointer(_layerA, offsetA);
        _alignedB = Pointer(_layerB, offsetB);
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

    private static float* Pointer(float[] pinned, int offset)
        => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned)) + offset;
}
