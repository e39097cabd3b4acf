// The seam of the embedding-update family: ComputeContext checks tables, state, graph, filter
// and options once; a backend runs the step (Cpu/EmbeddingUpdate/CpuEmbeddingUpdate.cs,
// Gpu/EmbeddingUpdate/IlgpuEmbeddingUpdate.cs). The gradient's finiteness is part of the step
// (its first pass), not of the validation.
namespace Stair.Kernels;

internal interface IEmbeddingUpdateBackend
{
    /// <summary>Zero moments and t = 0 for a rows × width table.</summary>
    DeviceAdamState CreateAdamState(int rows, int width);

    UpdateResult AdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, AdamWOptions options);

    UpdateResult BscAdamWStep(DeviceTable table, DeviceTable gradient, DeviceAdamState state, DeviceGraph graph, StepwiseFilter filter,
        AdamWOptions options);
}
