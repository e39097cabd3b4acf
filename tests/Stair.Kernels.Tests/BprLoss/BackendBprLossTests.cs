// ComputeContext.BprLoss on every backend (Cpu, the ILGPU simulator, OpenCL and CUDA where
// present) against the float64 reference, repeatable bit for bit, in both gradient modes and
// both table layouts; bad input rejected before the device is touched.
using Stair.Kernels.Tests.Backends;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.BprLoss;

public class BackendBprLossTests
{
    public static TheoryData<Backend, int, int> BackendWidthBatch()
    {
        var data = new TheoryData<Backend, int, int>();
        foreach (Backend backend in new[] { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
        {
            foreach ((int d, int b) in new[] { (1, 3), (7, 40), (33, 200), (64, 0) })
            {
                data.Add(backend, d, b);
            }
        }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(BackendWidthBatch))]
    public void Matches_float64_and_repeats_bit_for_bit(Backend backend, int d, int b)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int users = 13, items = 11;
        float[] table = TestGraphs.Table(users + items, d, seed: 5 * d + b);
        (int[] u, int[] p, int[] n) = BprLossTests.Batch(b, users, items, seed: d);
        BprReferenceResult expected = RecommendationReference.Bpr(table, d, users, u, p, n);
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceTable e = context.Upload(table, users + items, d);
        using DeviceTable g = context.CreateTable(users + items, d);
        g.Upload(TestGraphs.Poisoned((int)g.Length)); // overwrite must write every element
        double loss = context.ComputeBprLoss(e, users, u, p, n, g);
        float[] gradient = g.ToArray();
        // The GPU kernels work in float (x, softplus, σ): allow float32 rounding of the loss terms on top of the reference bound.
        double lossTol = expected.LossBound + 8 * Reference.U * Math.Max(1, Math.Abs(expected.Loss));
        Assert.True(Math.Abs(loss - expected.Loss) <= lossTol, $"loss {loss} vs {expected.Loss}");
        for (int k = 0; k < gradient.Length; k++)
        {
            // The GPU's s is σ evaluated in float: up to ~4 more roundings of s than the CPU's (float64 then rounded).
            double bound = expected.GradientBound[k] * 3;
            Assert.True(Math.Abs(gradient[k] - expected.Gradient[k]) <= bound, $"element {k} is {gradient[k]}, expected {expected.Gradient[k]} (bound {bound:E2})");
        }

        // Again, and in accumulate mode onto the first result: bitwise repeatable, untouched rows untouched.
        Bits.AssertBitsEqual(loss, context.ComputeBprLoss(e, users, u, p, n, g), "second run: loss");
        BprLossTests.AssertBitwise(gradient, g.ToArray(), "second run");
        context.ComputeBprLoss(e, users, u, p, n, g, GradientMode.Accumulate);
        float[] twice = g.ToArray();
        for (int k = 0; k < twice.Length; k++)
        {
            Bits.AssertBitsEqual(gradient[k] + gradient[k], twice[k], "accumulate mode: twice the gradient");
        }

        // Separate tables: the same bits as one table.
        using DeviceTable eu = context.Upload(table.AsSpan(0, users * d), users, d);
        using DeviceTable ei = context.Upload(table.AsSpan(users * d), items, d);
        using DeviceTable gu = context.CreateTable(users, d);
        using DeviceTable gi = context.CreateTable(items, d);
        Bits.AssertBitsEqual(loss, context.ComputeBprLoss(eu, ei, u, p, n, gu, gi), "separate tables: loss");
        BprLossTests.AssertBitwise(gradient, [.. gu.ToArray(), .. gi.ToArray()], "separate tables");
    }

    [SkippableTheory]
    [MemberData(nameof(BackendPropagationTests.GpuBackends), MemberType = typeof(BackendPropagationTests))]
    public void Agrees_with_the_cpu_backend_on_a_large_batch_with_hub_rows(Backend backend)
    {
        BackendPropagationTests.SkipIfMissing(backend);
        const int users = 50, items = 40, d = 17, b = 1500;
        float[] table = TestGraphs.Table(users + items, d, seed: 99);
        (int[] u, int[] p, int[] n) = BprLossTests.Batch(b, users, items, seed: 98);
        for (int t = 0; t < b; t += 3)
        {
            u[t] = 7; // a user row with 500 contributions
        }
        using ComputeContext gpu = ComputeContext.Create(backend);
        using DeviceTable e = gpu.Upload(table, users + items, d);
        using DeviceTable g = gpu.CreateTable(users + items, d);
        double loss = gpu.ComputeBprLoss(e, users, u, p, n, g);
        BprReferenceResult expected = RecommendationReference.Bpr(table, d, users, u, p, n);
        float[] gradient = g.ToArray();
        Assert.True(Math.Abs(loss - expected.Loss) <= expected.LossBound + 8 * Reference.U * Math.Abs(expected.Loss));
        for (int k = 0; k < gradient.Length; k++)
        {
            Assert.True(Math.Abs(gradient[k] - expected.Gradient[k]) <= 3 * expected.GradientBound[k], $"element {k}");
        }
    }

    [Fact]
    public void Bad_input_is_rejected_before_anything_is_written()
    {
        using ComputeContext context = ComputeContext.Create(Backend.Cpu);
        using ComputeContext other = ComputeContext.Create(Backend.Cpu);
        const int users = 4, items = 3, d = 2;
        using DeviceTable e = context.Upload(TestGraphs.Table(users + items, d, 1), users + items, d);
        using DeviceTable g = context.Upload(ArgumentAssert.Poisoned((users + items) * d), users + items, d);
        using DeviceTable small = context.CreateTable(users, d);
        using DeviceTable foreign = other.CreateTable(users + items, d);
        int[] u = [0, 3], p = [1, 2], n = [2, 0];
        ArgumentAssert.NamesIndex(ArgumentAssert.Throws("users", () => context.ComputeBprLoss(e, users, [0, 4], p, n, g)), 1);
        ArgumentAssert.NamesIndex(ArgumentAssert.Throws("negatives", () => context.ComputeBprLoss(e, users, u, p, [3, 0], g)), 0);
        ArgumentAssert.Throws("positives", () => context.ComputeBprLoss(e, users, u, [1], n, g));
        ArgumentAssert.Throws("gradient", () => context.ComputeBprLoss(e, users, u, p, n, small));
        ArgumentAssert.Throws("gradient", () => context.ComputeBprLoss(e, users, u, p, n, e));
        ArgumentAssert.Throws("gradient", () => context.ComputeBprLoss(e, users, u, p, n, foreign));
        ArgumentAssert.Throws("itemOffset", () => context.ComputeBprLoss(e, -1, u, p, n, g));
        using DeviceTable itemTable = context.CreateTable(items, d);
        using DeviceTable userGradient = context.CreateTable(users, d);
        using DeviceTable itemGradient = context.CreateTable(items, d);
        ArgumentAssert.Throws("itemGradient", () => context.ComputeBprLoss(small, itemTable, u, p, n, userGradient, itemTable));
        ArgumentAssert.Throws("userGradient", () => context.ComputeBprLoss(small, itemTable, u, p, n, small, itemGradient));
        ArgumentAssert.Untouched(ArgumentAssert.Poisoned((users + items) * d), g.ToArray(), "gradient");
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => context.ComputeBprLoss(e, users, u, p, n, g));
    }
}
