// What a propagation kernel does with one accumulated chunk of an output row. The SpMM
// drivers compute acc = Σ_k A[r,k]·X[k, j..j+w) and hand it to an epilogue; FSC's fused
// layer update is an epilogue, so the row loop exists once for every use.
//
// Each epilogue is written once over the vector types of Cpu/Simd: the same IEEE operations,
// in the same order, at every width (scalar, 128, 256, 512 bits): results are bitwise identical across SIMD tiers.
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.Propagation;

/// <summary>Consumes accumulated chunks of output row <c>row</c> starting at column <c>j</c>.</summary>
internal interface IRowEpilogue
{
    void Store<TVec>(int row, int j, TVec acc)
        where TVec : struct, IFloatVector<TVec>;
}

/// <summary>Plain SpMM: Y[row, j] = acc.</summary>
internal readonly unsafe struct StoreEpilogue(float* output, int width) : IRowEpilogue
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TVec>(int row, int j, TVec acc)
        where TVec : struct, IFloatVector<TVec>
        => TVec.Store(acc, output + (long)row * width + j);
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
    public void Store<TVec>(int row, int j, TVec acc)
        where TVec : struct, IFloatVector<TVec>
    {
        long at = (long)row * width + j;
        TVec s = TVec.Fma(acc, TVec.Load(beta + j), TVec.Load(seed + at));
        if (TLast.IsLast)
        {
            s = TVec.Mul(s, TVec.Load(scale + j));
        }
        TVec.Store(s, target + at);
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
