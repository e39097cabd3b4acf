// One context shared by 8 threads on every backend present: every call runs in full and gives the
// bits a serial call gives (the context serializes its calls), and a disposal racing with launches
// ends in ObjectDisposedException, never in a native crash or a half-written table.
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Backends;

public class ContextConcurrencyTests
{
    private const int Threads = 8, Calls = 20, D = 19, Users = 23, Items = 17;

    public static TheoryData<Backend> AllBackends() => [Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda];

    [SkippableTheory]
    [MemberData(nameof(AllBackends))]
    public void Eight_threads_on_one_context_get_the_bits_of_serial_calls(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        CsrMatrix graph = TestGraphs.SmallAdjacency(Users, Items, seed: 3);
        int n = graph.Rows;
        float[] x = TestGraphs.Table(n, D, seed: 5);
        float[] beta = StepwiseWeights.Forward(D, 0.3);
        var rng = new Random(7);
        int[] u = [.. Enumerable.Range(0, 60).Select(_ => rng.Next(Users))];
        int[] p = [.. Enumerable.Range(0, 60).Select(_ => rng.Next(Items))];
        int[] q = [.. Enumerable.Range(0, 60).Select(_ => rng.Next(Items))];
        var adam = new AdamWOptions(0.01f, WeightDecay: 0.01f);

        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceGraph g = context.Upload(graph);
        using StepwiseFilter filter = context.CreateFilter(beta, 3);
        using DeviceTable input = context.Upload(x, n, D);

        // Serial results first.
        (float[] Fsc, float[] Bpr, double Loss, float[] Adam, float[] Dense) Serial()
        {
            using DeviceTable y = context.CreateTable(n, D);
            context.Fsc(g, input, y, filter);
            using DeviceTable grad = context.CreateTable(n, D);
            double loss = context.ComputeBprLoss(y, Users, u, p, q, grad);
            using DeviceTable table = context.Upload(x, n, D);
            using DeviceAdamState state = context.CreateAdamState(n, D);
            context.AdamWStep(table, grad, state, adam);
            using DeviceTable c = context.CreateTable(n, n);
            context.MultiplyTransposed(input, y, c);
            return (y.ToArray(), grad.ToArray(), loss, table.ToArray(), c.ToArray());
        }
        var expected = Serial();

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var start = new Barrier(Threads);
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (int call = 0; call < Calls; call++)
                {
                    var got = Serial();
                    if (!BitsEqual(got.Fsc, expected.Fsc) || !BitsEqual(got.Bpr, expected.Bpr) || !BitsEqual(got.Adam, expected.Adam)
                        || !BitsEqual(got.Dense, expected.Dense) || BitConverter.DoubleToInt64Bits(got.Loss) != BitConverter.DoubleToInt64Bits(expected.Loss))
                    {
                        failures.Enqueue($"thread {t}, call {call}: bits differ from the serial call");
                    }
                }
            }
            catch (Exception ex)
            {
                failures.Enqueue($"thread {t}: {ex.GetType().Name}: {ex.Message}");
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
    }

    [SkippableTheory]
    [MemberData(nameof(AllBackends))]
    public void Disposals_racing_with_launches_throw_ObjectDisposedException_and_nothing_else(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        CsrMatrix graph = TestGraphs.SmallAdjacency(Users, Items, seed: 9);
        int n = graph.Rows;
        float[] x = TestGraphs.Table(n, D, seed: 11);
        for (int round = 0; round < 3; round++)
        {
            ComputeContext context = ComputeContext.Create(backend);
            DeviceGraph g = context.Upload(graph);
            StepwiseFilter filter = context.CreateFilter(StepwiseWeights.Forward(D, 0.3), 2);
            var tables = Enumerable.Range(0, Threads).Select(_ => context.Upload(x, n, D)).ToArray();
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var start = new Barrier(Threads + 1);
            var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                for (int call = 0; call < Calls; call++)
                {
                    try
                    {
                        using DeviceTable y = context.CreateTable(n, D);
                        context.Fsc(g, tables[t], y, filter);
                        tables[t].Upload(x);
                        _ = y.ToArray();
                    }
                    catch (ObjectDisposedException)
                    {
                        // The documented outcome once the table, graph or context is gone.
                    }
                    catch (Exception ex)
                    {
                        failures.Enqueue($"thread {t}, call {call}: {ex.GetType().Name}: {ex.Message}");
                    }
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            start.SignalAndWait();
            Thread.Sleep(round); // round 0 disposes at once, later rounds after some launches
            tables[round].Dispose();
            if (round == 1)
            {
                g.Dispose();
            }
            context.Dispose();
            workers.ForEach(w => w.Join());
            Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
            Assert.Throws<ObjectDisposedException>(() => context.CreateTable(1, 1));
            filter.Dispose(); // after the context: no-op, no crash
        }
    }

    private static bool BitsEqual(float[] a, float[] b)
        => a.Length == b.Length && Enumerable.Range(0, a.Length).All(k => BitConverter.SingleToInt32Bits(a[k]) == BitConverter.SingleToInt32Bits(b[k]));
}
