// One rank of a distributed test, run by mpiexec (DistributedTests starts the job): every rank builds
// the same graph, computes the single-process results on the whole graph, runs the distributed kernels
// on its rows and compares its rows bit for bit. Error scenarios check that every rank ends with a clear
// error. Prints one line per rank; the exit code is 0 when this rank saw what it should.
using Stair.Kernels.Distributed;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Distributed;

public static class DistributedScenarios
{
    public static readonly string[] Equivalence = ["powerlaw", "adjacency", "tiny", "everything"];

    public static int Run(string scenario)
    {
        using MpiSession session = MpiSession.Initialize();
        MpiComm comm = session.World;
        comm.Timeout = TimeSpan.FromSeconds(60);
        try
        {
            int result = scenario switch
            {
                "mismatch" => ExpectError(comm, () => DistributedPlan.Partition(comm, Graph(comm.Rank == 1 ? "adjacency" : "powerlaw"), Options), "same graph", "rejected"),
                "badargs" => BadArguments(comm),
                "throws" => Throws(comm),
                DistributedTrainingScenario.Name => DistributedTrainingScenario.Run(comm),
                _ when scenario.StartsWith("device-", StringComparison.Ordinal) => DistributedDeviceScenario.Run(comm, scenario),
                _ => Equivalent(comm, scenario),
            };
            return result;
        }
        catch (Exception e)
        {
            // A rank that cannot go on ends the whole job: the others are waiting in a collective.
            Console.Error.WriteLine($"rank {comm.Rank} failed: {e.GetType().Name}: {e.Message}"); if (Environment.GetEnvironmentVariable("STAIR_TRACE") == "1") { Console.Error.WriteLine(e.StackTrace); }
            Console.Error.Flush();
            // mpiexec forwards a rank's output asynchronously and MPI_Abort kills every rank at once: without a
            // pause the line above was lost in about one job in six (4 ranks on 2 cores).
            Thread.Sleep(1000);
            comm.Abort(3);
            return 3;
        }
    }

    private static CpuOptions Options => new(SimdTier.Auto, Threads: 1);

    internal static CsrMatrix Graph(string name) => name switch
    {
        "powerlaw" => TestGraphs.WithHub(TestGraphs.RandomPowerLaw(rows: 173, columns: 173, seed: 11)), // not symmetric, empty rows, a hub
        "adjacency" => TestGraphs.SmallAdjacency(users: 61, items: 37, seed: 5), // symmetric, isolated nodes
        "tiny" => new CsrMatrix(2, 2, [0, 1, 2], [1, 0], [0.5f, -2f]), // fewer rows than ranks: some ranks own none
        "everything" => Dense(23), // every row reads every row: the halo is the whole graph
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown scenario"),
    };

    private static CsrMatrix Dense(int n)
    {
        var rng = new Random(4);
        var ptr = new int[n + 1];
        var cols = new int[n * n];
        var vals = new float[n * n];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                cols[r * n + c] = (c * 7 + r) % n; // unsorted rows: storage order must be kept
                vals[r * n + c] = (float)(rng.NextDouble() - 0.5);
            }
            ptr[r + 1] = (r + 1) * n;
        }
        return new CsrMatrix(n, n, ptr, cols, vals);
    }

    private static int Equivalent(MpiComm comm, string scenario)
    {
        CsrMatrix a = Graph(scenario);
        var whole = new PropagationPlan(a, Options);
        DistributedPlan plan = DistributedPlan.Partition(comm, a, Options);
        int checks = 0;
        string? mismatch = null; // the first one; the rank goes on with every call so the others are not left waiting
        foreach (int d in new[] { 1, 7, 37 })
        {
            const int Layers = 3;
            float[] beta = StepwiseWeights.Forward(d, 0.3);
            float[] x = TestGraphs.Table(a.Rows, d, seed: 5 * d);
            float[] mine = x.AsSpan(plan.RowStart * d, plan.LocalRows * d).ToArray();
            var workspace = new PropagationWorkspace(a.Rows, d);
            foreach (string kernel in new[] { "spmm", "spmm-t", "fsc", "fsc-t" })
            {
                float[] expected = new float[a.Rows * d];
                float[] actual = TestGraphs.Poisoned(plan.LocalRows * d);
                switch (kernel)
                {
                    case "spmm":
                    case "spmm-t":
                        Stair.Kernels.Propagation.Spmm(whole, x, expected, d, transpose: kernel == "spmm-t");
                        DistributedPropagation.Spmm(plan, mine, actual, d, transpose: kernel == "spmm-t");
                        break;
                    case "fsc":
                        Stair.Kernels.Propagation.Fsc(whole, x, expected, d, Layers, beta, workspace);
                        DistributedPropagation.Fsc(plan, mine, actual, d, Layers, beta);
                        break;
                    default:
                        Stair.Kernels.Propagation.FscBackward(whole, x, expected, d, Layers, beta, workspace);
                        DistributedPropagation.FscBackward(plan, mine, actual, d, Layers, beta);
                        break;
                }
                ReadOnlySpan<float> want = expected.AsSpan(plan.RowStart * d, plan.LocalRows * d);
                for (int k = 0; k < want.Length && mismatch is null; k++)
                {
                    if (BitConverter.SingleToInt32Bits(want[k]) != BitConverter.SingleToInt32Bits(actual[k]))
                    {
                        mismatch = $"{kernel} d={d}: row {plan.RowStart + k / d} column {k % d} is {actual[k]:R}, one process gives {want[k]:R}";
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
        Console.WriteLine($"rank {comm.Rank}/{comm.Size}: {scenario} bitwise OK ({checks} products, rows [{plan.RowStart}, {plan.RowStart + plan.LocalRows}), " +
            $"halo {plan.HaloRows()} rows, interior {plan.InteriorRows()})");
        return 0;
    }

    private static int ExpectError(MpiComm comm, Action action, params string[] anyOf)
    {
        try
        {
            action();
        }
        catch (MpiException e)
        {
            bool clear = anyOf.Any(s => e.Message.Contains(s, StringComparison.Ordinal));
            Console.WriteLine($"rank {comm.Rank}/{comm.Size}: {(clear ? "expected error" : "UNCLEAR error")}: {e.Message}");
            return clear ? 0 : 1;
        }
        Console.WriteLine($"rank {comm.Rank}/{comm.Size}: NO ERROR");
        return 1;
    }

    // The last rank passes a table one row short: every rank must refuse the call, none may start sending.
    private static int BadArguments(MpiComm comm)
    {
        CsrMatrix a = Graph("powerlaw");
        DistributedPlan plan = DistributedPlan.Partition(comm, a, Options);
        const int D = 5;
        bool bad = comm.Rank == comm.Size - 1;
        float[] input = new float[Math.Max(0, plan.LocalRows - (bad ? 1 : 0)) * D + (bad && plan.LocalRows == 0 ? 1 : 0)];
        float[] output = new float[plan.LocalRows * D];
        int result = ExpectError(comm, () => DistributedPropagation.Spmm(plan, input, output, D), "input", "rejected the call");
        // The plan still works afterwards.
        DistributedPropagation.Spmm(plan, new float[plan.LocalRows * D], output, D);
        return result;
    }

    // Rank 1 throws before the collective call the others are already in: its handler aborts the job.
    private static int Throws(MpiComm comm)
    {
        DistributedPlan plan = DistributedPlan.Partition(comm, Graph("powerlaw"), Options);
        if (comm.Rank == 1)
        {
            throw new InvalidOperationException("rank 1 fails on purpose before its product");
        }
        DistributedPropagation.Spmm(plan, new float[plan.LocalRows * 3], new float[plan.LocalRows * 3], 3);
        Console.WriteLine($"rank {comm.Rank}/{comm.Size}: NOT STOPPED");
        return 1;
    }
}
