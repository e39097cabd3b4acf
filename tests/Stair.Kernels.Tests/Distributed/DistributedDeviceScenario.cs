// One rank of the "any backend per rank" test (mpiexec runs it): each rank opens its own ComputeContext
// (the CPU backend, the ILGPU simulator in the GPU work layout with hub rows summed in chunks, or OpenCL),
// computes SpMM, transposed SpMM, FSC and FSC backward on the whole graph with that context, then the same
// through a DistributedPlan built with the context (host-staged halo), and compares its rows bit for bit.
// The "-tiny" scenarios run a 2-row graph on 3 ranks: the last rank owns no rows (empty device tables).
// "device-mixed" gives neighbouring ranks different backends (CPU, simulator, CPU, …): a single product
// (SpMM) is still bitwise the rank's own backend, but a layer of FSC then reads halo rows another backend
// computed, so FSC is checked against float64 within the bound every backend meets (kernels.md, FscTolerance).
using Stair.Kernels.Distributed;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Distributed;

public static class DistributedDeviceScenario
{
    public static readonly string[] Names = ["device-cpu", "device-ilgpu", "device-mixed", "device-opencl", "device-cpu-tiny", "device-ilgpu-tiny"];

    public static int Run(MpiComm comm, string scenario)
    {
        // "-tiny": a 2-row graph, so with 3 or more ranks some rank owns no rows and uploads empty tables.
        bool tiny = scenario.EndsWith("-tiny", StringComparison.Ordinal);
        string backendName = scenario == "device-mixed" ? (comm.Rank % 2 == 0 ? "cpu" : "ilgpu") : scenario["device-".Length..].Replace("-tiny", "");
        Backend backend = backendName switch
        {
            "cpu" => Backend.Cpu,
            "ilgpu" => Backend.IlgpuCpu,
            "opencl" => Backend.OpenCL,
            _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "unknown backend"),
        };
        using ComputeContext context = ComputeContext.Create(backend, new CpuOptions(SimdTier.Auto, Threads: 1));
        if (backend == Backend.IlgpuCpu)
        {
            context.ForceKernelLayout(gpuLayout: true); // the GPU layout, with hub rows summed in chunks
            context.HubRowThreshold = 16;
            context.HubChunkLength = 8;
        }
        CsrMatrix a = tiny
            ? DistributedScenarios.Graph("tiny")
            : TestGraphs.WithHub(TestGraphs.RandomPowerLaw(rows: 97, columns: 97, seed: 12)); // not symmetric, empty rows, a hub
        using DeviceGraph whole = context.Upload(a);
        using DistributedPlan plan = DistributedPlan.Partition(comm, a, context);
        string? mismatch = null;
        int checks = 0;
        foreach (int d in new[] { 3, 21 })
        {
            const int Layers = 3;
            float[] x = TestGraphs.Table(a.Rows, d, seed: 7 * d);
            using StepwiseFilter filter = context.CreateFilter(StepwiseWeights.Forward(d, 0.3), Layers);
            using DeviceTable wholeX = context.Upload(x, a.Rows, d);
            using DeviceTable wholeY = context.CreateTable(a.Rows, d);
            using DeviceTable mine = context.Upload(x.AsSpan(plan.RowStart * d, plan.LocalRows * d), Math.Max(plan.LocalRows, 0), d);
            using DeviceTable result = context.CreateTable(plan.LocalRows, d);
            foreach (string kernel in new[] { "spmm", "spmm-t", "fsc", "fsc-t" })
            {
                result.Upload(TestGraphs.Poisoned(plan.LocalRows * d));
                switch (kernel)
                {
                    case "spmm":
                    case "spmm-t":
                        context.Spmm(whole, wholeX, wholeY, transpose: kernel == "spmm-t");
                        DistributedPropagation.Spmm(plan, mine, result, transpose: kernel == "spmm-t");
                        break;
                    case "fsc":
                        context.Fsc(whole, wholeX, wholeY, filter);
                        DistributedPropagation.Fsc(plan, mine, result, filter);
                        break;
                    default:
                        context.FscBackward(whole, wholeX, wholeY, filter);
                        DistributedPropagation.FscBackward(plan, mine, result, filter);
                        break;
                }
                float[] expected = wholeY.ToArray(), actual = result.ToArray();
                if (scenario == "device-mixed" && kernel.StartsWith("fsc", StringComparison.Ordinal))
                {
                    mismatch ??= WithinBound(a, x, actual, plan.RowStart, d, Layers, kernel == "fsc-t", backendName);
                    checks++;
                    continue;
                }
                for (int k = 0; k < actual.Length && mismatch is null; k++)
                {
                    float want = expected[plan.RowStart * d + k];
                    if (BitConverter.SingleToInt32Bits(want) != BitConverter.SingleToInt32Bits(actual[k]))
                    {
                        mismatch = $"{backendName} {kernel} d={d}: row {plan.RowStart + k / d} column {k % d} is {actual[k]:R}, one process gives {want:R}";
                    }
                }
                checks++;
            }
        }
        if (mismatch is not null)
        {
            Console.WriteLine($"rank {comm.Rank}/{comm.Size}: {scenario} MISMATCH: {mismatch}");
            return 1;
        }
        string verdict = scenario == "device-mixed" ? "OK (SpMM bitwise, FSC within the float64 bound)" : "bitwise OK";
        Console.WriteLine($"rank {comm.Rank}/{comm.Size}: {scenario} {verdict} ({checks} products on {context.Device}, rows [{plan.RowStart}, {plan.RowStart + plan.LocalRows}), " +
            $"halo {plan.HaloRows()} rows)");
        return 0;
    }

    // FSC of mixed backends: every layer's rounding is within the per-layer bound whichever backend did it, so the
    // result is within FscTolerance (relative to the filtered |E|) of float64, as each backend alone is.
    private static string? WithinBound(CsrMatrix a, float[] x, float[] actual, int rowStart, int d, int layers, bool transpose, string backend)
    {
        float[] beta = StepwiseWeights.Forward(d, 0.3);
        double[] x64 = x.Select(v => (double)v).ToArray();
        double[] exact = Float64Reference.Fsc(a, x64, d, layers, beta, transpose);
        double[] scale = Float64Reference.Fsc(a, x64.Select(Math.Abs).ToArray(), d, layers, beta, transpose, absolute: true);
        double tolerance = Float64Reference.FscTolerance(Math.Max(TestGraphs.MaxRowLength(a), TestGraphs.MaxRowLength(a.Transpose())), layers);
        for (int k = 0; k < actual.Length; k++)
        {
            int g = rowStart * d + k;
            if (!(Math.Abs(actual[k] - exact[g]) <= tolerance * scale[g]))
            {
                return $"{backend} fsc{(transpose ? "-t" : "")} d={d}: row {g / d} column {g % d} is {actual[k]:R}, float64 gives {exact[g]:R} (bound {tolerance * scale[g]:E2})";
            }
        }
        return null;
    }
}
