// Optimizer state of the EmbeddingUpdate family on the host: Adam's two moment tables and the
// step count t (bias corrections use t), plus the scratch a BSC-smoothed step needs, allocated
// once so a training loop allocates nothing per step.
namespace Stair.Kernels;

/// <summary>Adam/AdamW state for one rows × width embedding table: first moment m, second moment v, step t.</summary>
/// <remarks>A new state is all zeros with t = 0, as Adam starts. Not thread-safe.</remarks>
public sealed class AdamState
{
    /// <summary>Zero moments for a <paramref name="rows"/> × <paramref name="width"/> table.</summary>
    /// <param name="rows">Rows of the table (≥ 0).</param>
    /// <param name="width">Width d (≥ 1).</param>
    public AdamState(int rows, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        long length = (long)rows * width;
        if (length > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"A {rows} × {width} table exceeds the largest array .NET can hold.");
        }
        Rows = rows;
        Width = width;
        M = new float[length];
        V = new float[length];
    }

    // Wraps existing moment arrays (the CPU backend's device tables).
    internal AdamState(int rows, int width, float[] m, float[] v)
    {
        Rows = rows;
        Width = width;
        M = m;
        V = v;
    }

    /// <summary>Rows of the table the state serves.</summary>
    public int Rows { get; }

    /// <summary>Width d of the table the state serves.</summary>
    public int Width { get; }

    /// <summary>First moment m (row-major, Rows × Width); exposed for checkpoints.</summary>
    public float[] M { get; }

    /// <summary>Second moment v (row-major, Rows × Width); exposed for checkpoints.</summary>
    public float[] V { get; }

    /// <summary>Steps taken so far (t); a skipped step does not count.</summary>
    public long Step { get; internal set; }

    /// <summary>Restores the step count, e.g. with moments loaded from a checkpoint.</summary>
    /// <param name="step">t (≥ 0).</param>
    public void SetStep(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Step = step;
    }

    /// <summary>Zeroes both moments and sets t = 0.</summary>
    public void Reset()
    {
        Array.Clear(M);
        Array.Clear(V);
        Step = 0;
    }
}

/// <summary>
/// Scratch for <see cref="EmbeddingUpdate.BscAdamWStep"/>: the raw update Δ, the smoothed Δ̃ and the
/// propagation workspace the stepwise filter runs in (about four tables of rows × width floats).
/// </summary>
/// <remarks>Reuse one per table across steps; not thread-safe.</remarks>
public sealed class BscWorkspace
{
    /// <summary>Allocates scratch for tables of up to <paramref name="rows"/> rows of width <paramref name="width"/>.</summary>
    /// <param name="rows">Rows (≥ 0).</param>
    /// <param name="width">Width d (≥ 1).</param>
    public BscWorkspace(int rows, int width)
    {
        Propagation = new PropagationWorkspace(rows, width); // validates rows and width
        Rows = rows;
        Width = width;
        // Δ is the gather source of the smoothing: a host table (aligned, huge pages when large).
        Delta = new HostTable(rows, width);
        Smoothed = new HostTable(rows, width);
    }

    /// <summary>Rows served.</summary>
    public int Rows { get; }

    /// <summary>Width served.</summary>
    public int Width { get; }

    internal HostTable Delta { get; }

    internal HostTable Smoothed { get; }

    internal PropagationWorkspace Propagation { get; }
}
