// The seam of the propagation family: what ComputeContext asks of a backend once a call is
// validated (Cpu/Propagation/CpuPropagation.cs, Gpu/Propagation/IlgpuPropagation.cs). Arguments
// arrive checked (owners, shapes, overlaps, β); implementations do not check them again.
namespace Stair.Kernels;

internal interface IPropagationBackend : IDisposable
{
    /// <summary>Prepares <paramref name="matrix"/> (its plan already built) on the device.</summary>
    DeviceGraph Upload(CsrMatrix matrix, PropagationPlan plan);

    /// <summary>Holds β and the final scale c on the device.</summary>
    StepwiseFilter CreateFilter(float[] beta, float[] scale, int layers);

    /// <summary>output = A·input (Aᵀ·input when <paramref name="transpose"/>).</summary>
    void Spmm(DeviceGraph graph, DeviceTable input, DeviceTable output, bool transpose);

    /// <summary>The stepwise convolution over A (over Aᵀ, its gradient, when <paramref name="transpose"/>).</summary>
    void Fsc(DeviceGraph graph, DeviceTable input, DeviceTable output, StepwiseFilter filter, bool transpose);
}
