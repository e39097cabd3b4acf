// Where a property runs, and the contexts it runs on. "cpu" is the CPU backend on every SIMD
// tier this machine has (each case runs on all of them, which must agree bit for bit);
// "ilgpu-cpu" is ILGPU's CPU simulator; "ilgpu-cpu-gpu-layout" the simulator forced to the GPU
// work layout with a hub threshold of 3 entries in chunks of 2 (so generated hub rows take the
// chunked path that real hubs past 1,024 entries take on a GPU); "opencl" and "cuda" run where
// a device exists (skipped otherwise; STAIR_REQUIRE_OPENCL / STAIR_REQUIRE_CUDA = 1 fail instead).
// Contexts are expensive (an ILGPU one compiles its kernels on first use), so one collection
// fixture opens each once and every property class shares it.
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Properties;

public sealed record PropertyTarget(string Name, Backend Backend, bool GpuLayout = false)
{
    public static readonly PropertyTarget Cpu = new("cpu", Backend.Cpu);
    public static readonly PropertyTarget IlgpuCpu = new("ilgpu-cpu", Backend.IlgpuCpu);
    public static readonly PropertyTarget IlgpuCpuGpuLayout = new("ilgpu-cpu-gpu-layout", Backend.IlgpuCpu, GpuLayout: true);
    public static readonly PropertyTarget OpenCL = new("opencl", Backend.OpenCL);
    public static readonly PropertyTarget Cuda = new("cuda", Backend.Cuda);

    private static readonly PropertyTarget[] All = [Cpu, IlgpuCpu, IlgpuCpuGpuLayout, OpenCL, Cuda];

    public bool IsIlgpu => Backend != Backend.Cpu;

    public static PropertyTarget Named(string name) => All.Single(t => t.Name == name);

    /// <summary>Every target (the propagation kernels and BSC, which the work layout and hub chunks change).</summary>
    public static TheoryData<string> Every() => new() { Cpu.Name, IlgpuCpu.Name, IlgpuCpuGpuLayout.Name, OpenCL.Name, Cuda.Name };

    /// <summary>Every backend once (families the work layout does not touch).</summary>
    public static TheoryData<string> Backends() => new() { Cpu.Name, IlgpuCpu.Name, OpenCL.Name, Cuda.Name };

    /// <summary>Skips (or, where required, fails) a target whose device is missing.</summary>
    public void SkipIfMissing() => BackendPropagationTests.SkipIfMissing(Backend);

    public override string ToString() => Name;
}

[CollectionDefinition(nameof(PropertyCollection))]
public sealed class PropertyCollection : ICollectionFixture<PropertyContexts>
{
}

/// <summary>One context per (target, tier, threads), opened on first use and shared by every property.</summary>
public sealed class PropertyContexts : IDisposable
{
    private readonly Dictionary<(string Target, SimdTier Tier, int Threads), ComputeContext> _contexts = new();
    private readonly object _gate = new();

    /// <summary>The SIMD tiers a CPU case runs on: every one this machine supports (checked independently of SimdTiers).</summary>
    public static IReadOnlyList<SimdTier> Tiers { get; } = TierCoverage.Expected();

    /// <summary>The CPU backend forced to <paramref name="tier"/> with <paramref name="threads"/> workers.</summary>
    public ComputeContext Cpu(SimdTier tier, int threads)
        => Get((PropertyTarget.Cpu.Name, tier, threads), () => ComputeContext.Create(Backend.Cpu, new CpuOptions(tier, threads)));

    /// <summary>The context of an ILGPU target (host-side work on one thread).</summary>
    public ComputeContext Ilgpu(PropertyTarget target)
        => Get((target.Name, SimdTier.Auto, 1), () =>
        {
            ComputeContext context = ComputeContext.Create(target.Backend, new CpuOptions(SimdTier.Auto, 1));
            if (target.GpuLayout)
            {
                context.ForceKernelLayout(gpuLayout: true);
                context.HubRowThreshold = 3;
                context.HubChunkLength = 2;
            }
            return context;
        });

    /// <summary>The contexts a case of <paramref name="target"/> runs on, each with a label for messages.</summary>
    public IEnumerable<(string Label, ComputeContext Context)> For(PropertyTarget target, int threads)
    {
        if (target.IsIlgpu)
        {
            yield return (target.Name, Ilgpu(target));
            yield break;
        }
        foreach (SimdTier tier in Tiers)
        {
            yield return ($"cpu/{tier}/{threads}t", Cpu(tier, threads));
        }
    }

    private ComputeContext Get((string, SimdTier, int) key, Func<ComputeContext> open)
    {
        lock (_gate)
        {
            if (!_contexts.TryGetValue(key, out ComputeContext? context))
            {
                context = open();
                _contexts.Add(key, context);
            }
            return context;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (ComputeContext context in _contexts.Values)
            {
                context.Dispose();
            }
            _contexts.Clear();
        }
    }
}
