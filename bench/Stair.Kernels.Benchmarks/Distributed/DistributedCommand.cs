// One side of the distributed comparison, run under mpiexec (scripts/bench-distributed.sh runs both sides,
// interleaved): every rank builds the suite's synthetic graph, partitions it, and times SpMM and FSC
// (d = 64, L = 3) over repeated calls. Rank 0 prints one line per kernel: the median wall time of a call,
// and, summed over the ranks and averaged per call, time in products, halo wait not hidden behind the
// interior rows, copies, and halo bytes per layer; then the floor of the exchange part: the same halo moved
// alone (pack, send, receive, wait; no product running), median over the repeats.
//
//   mpiexec -n R dotnet Stair.Kernels.Benchmarks.dll distributed [--shape toy|baby|electronics] [--threads T] [--repeats N] [--tsv]
// With --tsv rank 0 prints tab-separated lines instead, for the benchmark report (Report/DistributedRuns.cs).
using System.Globalization;
using Stair.Kernels.Distributed;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Benchmarks.Distributed;

public static class DistributedCommand
{
    public static int Run(string[] args)
    {
        string shape = "baby";
        int threads = 1, repeats = 15;
        bool tsv = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shape" when i + 1 < args.Length:
                    shape = args[++i];
                    break;
                case "--threads" when i + 1 < args.Length:
                    threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--repeats" when i + 1 < args.Length:
                    repeats = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--tsv":
                    tsv = true;
                    break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: distributed [--shape toy|baby|electronics] [--threads T] [--repeats N] [--tsv]");
                    return 2;
            }
        }
        using MpiSession session = MpiSession.Initialize();
        MpiComm comm = session.World;
        const int D = PropagationBenchmarks.Width, Layers = 3;
        CsrMatrix a = PropagationBenchmarks.Graph(PropagationBenchmarks.Shape(shape));
        DistributedPlan plan = DistributedPlan.Partition(comm, a, new CpuOptions(SimdTier.Auto, threads));
        float[] x = SyntheticGraphs.UniformTable(a.Rows * D, seed: 7).AsSpan(plan.RowStart * D, plan.LocalRows * D).ToArray();
        float[] y = new float[x.Length];
        float[] beta = StepwiseWeights.Forward(D, 0.1);
        foreach (string kernel in new[] { "SpMM", "FSC" })
        {
            var times = new List<double>();
            var sums = new double[4];
            long sent = 0;
            for (int k = 0; k < repeats + 2; k++)
            {
                comm.Barrier();
                if (kernel == "SpMM")
                {
                    DistributedPropagation.Spmm(plan, x, y, D);
                }
                else
                {
                    DistributedPropagation.Fsc(plan, x, y, D, Layers, beta);
                }
                DistributedTimings t = plan.LastCall;
                double[] total = [t.Total];
                comm.AllReduceSum(total.AsSpan()); // the slowest rank sets the pace; the mean is reported beside the parts
                if (k < 2)
                {
                    continue; // warm-up
                }
                times.Add(total[0] / comm.Size);
                double[] parts = [t.Compute, t.Wait, t.Copy, t.BytesSent];
                comm.AllReduceSum(parts.AsSpan());
                for (int p = 0; p < 4; p++)
                {
                    sums[p] += parts[p];
                }
                sent = (long)parts[3];
            }
            times.Sort();
            if (comm.Rank == 0 && tsv)
            {
                int layers = kernel == "SpMM" ? 1 : Layers;
                double per = repeats * (double)comm.Size;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"distributed\t{shape}\t{kernel}\t{comm.Size}\t{threads}\t{times[times.Count / 2] * 1e3:R}\t{sums[0] / per * 1e3:R}\t{sums[1] / per * 1e3:R}\t{sums[2] / per * 1e3:R}\t{sent / layers / 1e6:R}"));
            }
            else if (comm.Rank == 0)
            {
                int layers = kernel == "SpMM" ? 1 : Layers;
                double per = repeats * (double)comm.Size;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{shape} {kernel} ranks {comm.Size} threads {threads}: median {times[times.Count / 2] * 1e3:F2} ms (min {times[0] * 1e3:F2}, max {times[^1] * 1e3:F2}); " +
                    $"per rank: compute {sums[0] / per * 1e3:F2} ms, halo wait {sums[1] / per * 1e3:F2} ms, copies {sums[2] / per * 1e3:F2} ms; " +
                    $"halo {sent / layers / 1e6:F2} MB per layer (all ranks), {plan.HaloRows():N0} rows into rank 0, interior rows of rank 0 {plan.InteriorRows():N0} of {plan.LocalRows:N0}"));
            }
        }
        var exchange = new List<double>();
        for (int k = 0; k < repeats + 2; k++)
        {
            comm.Barrier();
            double[] seconds = [DistributedPropagation.ExchangeOnly(plan, D)];
            comm.AllReduceSum(seconds.AsSpan());
            if (k >= 2)
            {
                exchange.Add(seconds[0] / comm.Size);
            }
        }
        exchange.Sort();
        if (comm.Rank == 0 && tsv)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exchange\t{shape}\t{comm.Size}\t{exchange[exchange.Count / 2] * 1e3:R}"));
        }
        else if (comm.Rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{shape} halo exchange alone ranks {comm.Size}: median {exchange[exchange.Count / 2] * 1e3:F2} ms per layer (min {exchange[0] * 1e3:F2}, max {exchange[^1] * 1e3:F2})"));
        }
        return 0;
    }
}
