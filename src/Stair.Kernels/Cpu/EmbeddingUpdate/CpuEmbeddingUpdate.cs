// The CPU backend of the embedding-update family: the fused SIMD Adam passes on the tables'
// arrays (EmbeddingUpdate's unchecked bodies; the context has validated everything). The state's
// moments are host arrays wrapped once in an AdamState.
namespace Stair.Kernels.Cpu.EmbeddingUpdate;

internal sealed class CpuEmbeddingUpdate(ComputeContext owner, CpuOptions options) : IEmbeddingUpdateBackend
{
    public DeviceAdamState CreateAdamState(int rows, int width)
    {
        DeviceTable m = owner.CreateTable(rows, width);
        try
        {
            return new DeviceAdamState(owner, m, owner.CreateTable(rows, width), null); // new host arrays are zero
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    public UpdateResult AdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions adam)
        => Kernels.EmbeddingUpdate.StepUnchecked(table.Host, gradient.Host, state.Host, adam, SimdTiers.Resolve(options.Tier), options.EffectiveThreads);

    public UpdateResult BscAdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, DeviceGraph graph, StepwiseFilter filter,
        AdamWOptions adam)
        => Kernels.EmbeddingUpdate.BscStepUnchecked(table.Host, gradient.Host, state.Host, graph.Plan!, filter.Beta, filter.Layers,
            state.CpuWorkspace, adam);
}
