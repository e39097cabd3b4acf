// The seam of the dense product (ComputeContext.MultiplyTransposed): c = a·bᵀ of whole tables,
// arguments checked by the context (Cpu/Dense/CpuDense.cs, Gpu/Dense/IlgpuDense.cs).
namespace Stair.Kernels;

internal interface IDenseBackend
{
    /// <summary>c = a·bᵀ; <paramref name="sameTable"/> when a and b are one table (the CPU then computes one triangle and mirrors it).</summary>
    void MultiplyTransposed(DeviceTable a, DeviceTable b, DeviceTable c, bool sameTable);
}
