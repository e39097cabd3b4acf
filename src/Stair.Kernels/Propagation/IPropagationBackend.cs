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

    /// <summary>
    /// One product layer of a (possibly rectangular) graph: output = A·input (<see cref="Propagation.LayerMode.Store"/>),
    /// or FSC's inner / last layer with <paramref name="seed"/> and <paramref name="filter"/>. Each row is the same
    /// chain as in <see cref="Spmm"/> / <see cref="Fsc"/>, so a row's bits do not depend on which rows share the call.
    /// </summary>
    void Layer(DeviceGraph graph, DeviceTable input, DeviceTable output, DeviceTable seed, StepwiseFilter? filter, Propagation.LayerMode mode);
}
