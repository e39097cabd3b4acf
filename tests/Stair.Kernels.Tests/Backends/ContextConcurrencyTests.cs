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

    // Serialization itself, not only its effect on the bits: while the test holds the context's gate,
    // every kind of call (on the context and on its tables, graphs, filters and optimizer states) must
    // wait for it. Each call is first made once un-contended, so compiling kernels cannot pass for waiting,
    // then made from another thread while the gate is held: it must still be running 150 ms later,
    // and finish once the gate is released. Since every call holds the gate while it runs, two calls never overlap.
    // The gate belongs to ComputeContext, not to a backend: the CPU backend and the ILGPU simulator
    // cover both kinds of backend object (OpenCL would only add 10 s of kernel compiles).
    [Theory]
    [InlineData(Backend.Cpu)]
    [InlineData(Backend.IlgpuCpu)]
    public void Every_call_waits_for_the_context_gate(Backend backend)
    {
        CsrMatrix graph = TestGraphs.SmallAdjacency(Users, Items, seed: 3);
        int n = graph.Rows;
        float[] x = TestGraphs.Table(n, D, seed: 5);
        int[] u = [0, 1, 2, 5], p = [0, 3, 4, 9], q = [1, 2, 7, 8];
        var targets = new RankingTargets(new CsrMatrix(Users, Items, new int[Users + 1], [], []),
            new CsrMatrix(Users, Items, [.. Enumerable.Range(0, Users + 1).Select(r => Math.Min(r, 4))], [0, 1, 2, 3], [1f, 1f, 1f, 1f]));
        float[] features = TestGraphs.Table(Items, 6, seed: 8);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceGraph g = context.Upload(graph);
        using StepwiseFilter filter = context.CreateFilter(StepwiseWeights.Forward(D, 0.3), 2);
        using DeviceTable input = context.Upload(x, n, D);
        using DeviceTable output = context.CreateTable(n, D);
        using DeviceTable product = context.CreateTable(n, n);
        using DeviceAdamState state = context.CreateAdamState(n, D);
        var adam = new AdamWOptions(0.01f);
        var calls = new (string Name, Func<object?> Call)[]
        {
            ("CreateTable", () => context.CreateTable(n, D)),
            ("Upload(table)", () => context.Upload(x, n, D)),
            ("Upload(graph)", () => context.Upload(graph)),
            ("CreateFilter", () => context.CreateFilter(StepwiseWeights.Forward(D, 0.3), 2)),
            ("CreateAdamState", () => context.CreateAdamState(n, D)),
            ("Spmm", () => { context.Spmm(g, input, output); return null; }),
            ("Spmm transpose", () => { context.Spmm(g, input, output, transpose: true); return null; }),
            ("Fsc", () => { context.Fsc(g, input, output, filter); return null; }),
            ("FscBackward", () => { context.FscBackward(g, input, output, filter); return null; }),
            ("MultiplyTransposed", () => { context.MultiplyTransposed(input, input, product); return null; }),
            ("ComputeBprLoss", () => context.ComputeBprLoss(input, Users, u, p, q, output)),
            ("AdamWStep", () => context.AdamWStep(output, input, state, adam)),
            ("BscAdamWStep", () => context.BscAdamWStep(output, input, state, g, filter, adam)),
            ("EvaluateRanking", () => context.EvaluateRanking(input, Users, targets, [2])),
            ("Whiten", () => context.Whiten([new WhiteningModality(features, 6, 1)], new WhiteningOptions { Dimension = 3 })),
            ("table.ToArray", () => input.ToArray()),
            ("table.Upload", () => { output.Upload(x); return null; }),
            ("Synchronize", () => { context.Synchronize(); return null; }),
            ("table.Dispose", () => { context.CreateTable(1, 1).Dispose(); return null; }),
        };
        foreach ((string name, Func<object?> call) in calls)
        {
            (call() as IDisposable)?.Dispose();   // un-contended: compiles whatever it needs
            Thread worker;
            var done = new ManualResetEventSlim();
            Exception? failure = null;
            object? made = null;
            lock (context.Gate)
            {
                worker = new Thread(() =>
                {
                    try
                    {
                        made = call();   // created objects are disposed later: Dispose takes the gate itself
                    }
                    catch (Exception ex)
                    {
                        failure = ex;
                    }
                    done.Set();
                });
                worker.Start();
                Assert.False(done.Wait(150), $"{backend}: {name} ran while another thread held the context's gate");
            }
            Assert.True(done.Wait(TimeSpan.FromSeconds(30)), $"{backend}: {name} did not finish after the gate was released");
            worker.Join();
            Assert.Null(failure);
            (made as IDisposable)?.Dispose();
        }
    }

    private static bool BitsEqual(float[] a, float[] b)
        => a.Length == b.Length && Enumerable.Range(0, a.Length).All(k => BitConverter.SingleToInt32Bits(a[k]) == BitConverter.SingleToInt32Bits(b[k]));
}
