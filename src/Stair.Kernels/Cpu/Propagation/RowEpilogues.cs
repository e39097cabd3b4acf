// What a propagation kernel does with one accumulated chunk of an output row. The SpMM
// drivers compute acc = Σ_k A[r,k]·X[k, j..j+w) and hand it to an epilogue; FSC's fused
// layer update is an epilogue, so the row loop exists once for every use.
//
// Each epilogue performs the same IEEE operations, in the same order, at every width
// (scalar, 128, 256, 512 bits): results are bitwise identical across SIMD tiers.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stair.Kernels.Cpu.Propagation;

/// <summary>Consumes accumulated chunks of output row <c>row</c> starting at column <c>j</c>.</summary>
internal interface IRowEpilogue
{
    void Store(int row, int j, float acc);

    void Store(int row, int j, Vector128<float> acc);

    void Store(int row, int j, Vector256<float> acc);

    void Store(int row, int j, Vector512<float> acc);
}

/// <summary>Plain SpMM: Y[row, j] = acc.</summary>
internal readonly unsafe struct StoreEpilogue(float* output, int width) : IRowEpilogue
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, float acc) => output[(long)row * width + j] = acc;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, Vector128<float> acc) => acc.Store(output + (long)row * width + j);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, Vector256<float> acc) => acc.Store(output + (long)row * width + j);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, Vector512<float> acc) => acc.Store(output + (long)row * width + j);
}

/// <summary>
/// One fused FSC layer in Horner form: Gᵏ = E + β ⊙ acc (one FMA per element), and on the last
/// layer the result is scaled by c_j = 1 / Σ_{l=0..L} β_jˡ, which equals (1−β)/(1−β^{L+1})
/// without its 0/0 at β = 1.
/// </summary>
internal readonly unsafe struct FscLayerEpilogue<TLast>(float* target, float* seed, float* beta, float* scale, int width) : IRowEpilogue
    where TLast : struct, ILayerKind
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, float acc)
    {
        long at = (long)row * width + j;
        float s = MathF.FusedMultiplyAdd(acc, beta[j], seed[at]);
        if (TLast.IsLast)
        {
            s *= scale[j];
        }
        target[at] = s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, Vector128<float> acc)
    {
        long at = (long)row * width + j;
        Vector128<float> s = Vector128.FusedMultiplyAdd(acc, Vector128.Load(beta + j), Vector128.Load(seed + at));
        if (TLast.IsLast)
        {
            s *= Vector128.Load(scale + j);
        }
        s.Store(target + at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, Vector256<float> acc)
    {
        long at = (long)row * width + j;
        Vector256<float> s = Vector256.FusedMultiplyAdd(acc, Vector256.Load(beta + j), Vector256.Load(seed + at));
        if (TLast.IsLast)
        {
            s *= Vector256.Load(scale + j);
        }
        s.Store(target + at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, int j, Vector512<float> acc)
    {
        long at = (long)row * width + j;
        Vector512<float> s = Vector512.FusedMultiplyAdd(acc, Vector512.Load(beta + j), Vector512.Load(seed + at));
        if (TLast.IsLast)
        {
            s *= Vector512.Load(scale + j);
        }
        s.Store(target + at);
    }
}

/// <summary>Whether an FSC layer is the last one (which scales by c); a type so the JIT drops the branch.</summary>
internal interface ILayerKind
{
    static abstract bool IsLast { get; }
}

internal readonly struct LastLayer : ILayerKind
{
    public static bool IsLast => true;
}

internal readonly struct InnerLayer : ILayerKind
{
    public static bool IsLast => false;
}
