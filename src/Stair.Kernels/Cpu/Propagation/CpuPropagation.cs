// The CPU backend of the propagation family: a ComputeContext's graphs are PropagationPlans
// and its tables host arrays, so a call runs the SIMD drivers directly (Propagation's unchecked
// bodies; the context has validated everything).
namespace Stair.Kernels.Cpu.Propagation;

internal sealed class CpuPropagation(ComputeContext owner) : IPropagationBackend
{
    private PropagationWorkspace? _workspace;

    public DeviceGraph Upload(CsrMatrix matrix, PropagationPlan plan)
        => new(owner, matrix, plan, null, null, plan.IsSymmetric, []);

    public StepwiseFilter CreateFilter(float[] beta, float[] scale, int layers)
        => new(owner, beta, scale, layers, null, null);

    public void Spmm(DeviceGraph graph, DeviceTable input, DeviceTable output, bool transpose)
        => Kernels.Propagation.SpmmUnchecked(graph.Plan!, input.Host, output.Host, input.Width, transpose);

    public void Fsc(DeviceGraph graph, DeviceTable input, DeviceTable output, StepwiseFilter filter, bool transpose)
    {
        int n = graph.Rows, width = filter.Width;
        if (_workspace is null || _workspace.Rows < n || _workspace.Width != width)
        {
            _workspace = new PropagationWorkspace(n, width);
        }
        Kernels.Propagation.FscUnchecked(graph.Plan!, input.Host, output.Host, width, filter.Layers, filter.Beta, _workspace, transpose);
    }

    public unsafe void Layer(DeviceGraph graph, DeviceTable input, DeviceTable output, DeviceTable seed, StepwiseFilter? filter, Kernels.Propagation.LayerMode mode)
    {
        fixed (float* x = input.Host, y = output.Host, e = seed.Host, b = filter is null ? default : filter.Beta, c = filter is null ? default : filter.Scale)
        {
            Kernels.Propagation.LayerUnchecked(graph.Plan!, x, y, e, b, c, input.Width, mode);
        }
    }

    public void Dispose()
    {
    }
}
