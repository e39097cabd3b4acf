// The CPU backend of the embedding-update family: the fused SIMD Adam passes on the tables'
// arrays (EmbeddingUpdate's unchecked bodies; the context has validated everything). The state's
// moments are the arrays of an AdamState, wrapped as tables (they are streamed, never gathered,
// so they keep AdamState's plain arrays rather than host-table alignment).
namespace Stair.Kernels.Cpu.EmbeddingUpdate;

internal sealed class CpuEmbeddingUpdate(ComputeContext owner, CpuOptions options) : IEmbeddingUpdateBackend
{
    public DeviceAdamState CreateAdamState(int rows, int width)
    {
        var moments = new AdamState(rows, width); // new arrays are zero
        return new DeviceAdamState(owner, new DeviceTable(owner, rows, width, moments.M, 0, null), new DeviceTable(owner, rows, width, moments.V, 0, null), null);
    }

    public UpdateResult AdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions adam)
        => Kernels.EmbeddingUpdate.StepUnchecked(table.Host, gradient.Host, state.Host, adam, SimdTiers.Resolve(options.Tier), options.EffectiveThreads);

    public UpdateResult BscAdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, DeviceGraph graph, StepwiseFilter filter,
        AdamWOptions adam)
        => Kernels.EmbeddingUpdate.BscStepUnchecked(table.Host, gradient.Host, state.Host, graph.Plan!, filter.Beta, filter.Layers,
            state.CpuWorkspace, adam);
}
