// The gradient of one whole STAIR training step, checked against finite differences. The trainer
// computes ∂loss/∂E for the embedding table E with three kernels: Z = FSC(Ã, E) with the forward layer
// weights, loss and ∂Z from ComputeBprLoss (items at rows U + i), ∂E = FscBackward(Ã, ∂Z). Here the same
// three calls run on a tiny user–item graph and their ∂E is compared with central finite differences of
// a float64 re-implementation of the same loss, written from kernels.md ("Propagation": out =
// Σ_l (Ãˡ E) diag(c βˡ), c_j = 1/Σ_l β_jˡ; "BprLoss": loss = mean_b softplus(−(z_u·z_p − z_u·z_q))).
using Stair.Kernels;
using Stair.Recommender.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Stair.Recommender.Tests.Training;

public class TrainingStepGradientTests(ITestOutputHelper output)
{
    private const int Users = 4, Items = 5, N = Users + Items, D = 4, Layers = 3;
    private const double Gamma = 0.2; // StairOptions' default γ

    // Interactions (user, item) and a batch with repeats: user 0 twice, item 0 once as a positive and once as a
    // negative, item 4 likewise, so the gradient rows sum several contributions.
    private static readonly int[] PairUsers = [0, 0, 0, 1, 1, 2, 2, 2, 3, 3];
    private static readonly int[] PairItems = [0, 1, 2, 1, 3, 2, 3, 4, 0, 4];
    private static readonly int[] BatchUsers = [0, 1, 2, 0, 3];
    private static readonly int[] BatchPositives = [0, 3, 4, 1, 0];
    private static readonly int[] BatchNegatives = [3, 0, 1, 4, 2];

    // Tolerance of max_i |∂E_i − FD_i| / max_i |FD_i|. The kernels run in float32 (u = 2⁻²⁴ ≈ 6e-8): FSC forward
    // and backward are each within Float64Reference.FscTolerance(row length 4, L = 3) = 5·2·8·u ≈ 4.8e-6 of their
    // exact values relative to the |·|-propagated magnitudes, and BPR's dots and products add (2d + 8)u ≈ 1e-6, so
    // the step's error is ≈ 1.1e-5 of the gradient's scale; the 10× slack covers elements where positive and negative
    // contributions cancel (their error is relative to the uncancelled magnitudes). The finite differences
    // themselves (float64, h = 1e-5) are good to ~1e-10: truncation h²·|L'''|/6 and rounding ε·|L|/h. Any real
    // mistake (a sign, a missing layer or 1/B, the wrong layer weights) is an O(0.1–1) error: see the second check.
    private const double Tolerance = 1e-4;

    public static TheoryData<Backend> Backends() => new() { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL };

    [SkippableTheory]
    [MemberData(nameof(Backends))]
    public void The_kernels_gradient_of_a_training_step_matches_float64_finite_differences(Backend backend)
    {
        BackendRequirement.SkipIfMissing(backend);
        CsrMatrix adjacency = GraphBuilder.UserItemAdjacency(Users, Items, PairUsers, PairItems);
        float[] beta = StepwiseWeights.Forward(D, Gamma);
        var rng = new Random(5);
        float[] e = Enumerable.Range(0, N * D).Select(_ => (float)(0.5 * (rng.NextDouble() * 2 - 1))).ToArray();

        (double loss, float[] gradient) = KernelGradient(backend, adjacency, beta, beta, e);
        double[] fd = FiniteDifferences(adjacency, beta, e, h: 1e-5);
        double error = RelativeError(gradient, fd);
        double exactLoss = Loss(adjacency, beta, e.Select(v => (double)v).ToArray());
        output.WriteLine($"{backend}: loss {loss:R} (float64 {exactLoss:R}), max |∂E| {fd.Max(Math.Abs):G4}, max |∂E − FD| / max |FD| = {error:E2}");
        Assert.True(Math.Abs(loss - exactLoss) <= Tolerance * Math.Abs(exactLoss), $"loss {loss:R} vs float64 {exactLoss:R}");
        Assert.True(error <= Tolerance, $"{backend}: the training step's gradient is {error:E2} off the finite differences (tolerance {Tolerance:E0})");

        // The check has teeth: FSC backward with LightGCN's equal layer weights instead of the forward ones (a plausible
        // wiring mistake) is far outside the tolerance.
        (_, float[] wrong) = KernelGradient(backend, adjacency, beta, Enumerable.Repeat(1f, D).ToArray(), e);
        double wrongError = RelativeError(wrong, fd);
        output.WriteLine($"{backend}: with equal-weight FSC backward, max |∂E − FD| / max |FD| = {wrongError:E2}");
        Assert.True(wrongError > 100 * Tolerance, $"a wrong backward filter went unnoticed: {wrongError:E2}");
    }

    private static (double Loss, float[] Gradient) KernelGradient(Backend backend, CsrMatrix adjacency, float[] forwardBeta, float[] backwardBeta, float[] e)
    {
        using ComputeContext context = ComputeContext.Create(backend);
        using DeviceGraph graph = context.Upload(adjacency);
        using StepwiseFilter forward = context.CreateFilter(forwardBeta, Layers);
        using StepwiseFilter backward = context.CreateFilter(backwardBeta, Layers);
        using DeviceTable embeddings = context.Upload(e, N, D);
        using DeviceTable propagated = context.CreateTable(N, D);
        using DeviceTable propagatedGradient = context.CreateTable(N, D);
        using DeviceTable gradient = context.CreateTable(N, D);
        context.Fsc(graph, embeddings, propagated, forward);
        double loss = context.ComputeBprLoss(propagated, Users, BatchUsers, BatchPositives, BatchNegatives, propagatedGradient, GradientMode.Overwrite);
        context.FscBackward(graph, propagatedGradient, gradient, backward);
        return (loss, gradient.ToArray());
    }

    // FSC in float64: acc = Σ_l βˡ ⊙ Ãˡ E (Ã's float32 entries, β's float32 values, both exact in float64), out = c ⊙ acc.
    private static double[] Fsc(CsrMatrix a, float[] beta, double[] e)
    {
        double[] layer = (double[])e.Clone(), acc = (double[])e.Clone();
        double[] power = Enumerable.Repeat(1.0, D).ToArray(), scale = Enumerable.Repeat(1.0, D).ToArray();
        for (int l = 1; l <= Layers; l++)
        {
            var next = new double[N * D];
            for (int r = 0; r < N; r++)
            {
                ReadOnlySpan<int> columns = a.RowColumns(r);
                ReadOnlySpan<float> values = a.RowValues(r);
                for (int k = 0; k < columns.Length; k++)
                {
                    for (int j = 0; j < D; j++)
                    {
                        next[r * D + j] += values[k] * layer[columns[k] * D + j];
                    }
                }
            }
            layer = next;
            for (int j = 0; j < D; j++)
            {
                power[j] *= beta[j];
                scale[j] += power[j];
            }
            for (int i = 0; i < N * D; i++)
            {
                acc[i] += power[i % D] * layer[i];
            }
        }
        return acc.Select((v, i) => v / scale[i % D]).ToArray();
    }

    // The trainer's loss: the mean over the batch of softplus(−x), x = z_u·z_p − z_u·z_q, items at rows U + i.
    private static double Loss(CsrMatrix a, float[] beta, double[] e)
    {
        double[] z = Fsc(a, beta, e);
        double sum = 0;
        for (int b = 0; b < BatchUsers.Length; b++)
        {
            int u = BatchUsers[b], p = Users + BatchPositives[b], q = Users + BatchNegatives[b];
            double x = 0;
            for (int j = 0; j < D; j++)
            {
                x += z[u * D + j] * (z[p * D + j] - z[q * D + j]);
            }
            sum += Math.Max(-x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))); // softplus(−x), stable
        }
        return sum / BatchUsers.Length;
    }

    private static double[] FiniteDifferences(CsrMatrix a, float[] beta, float[] e, double h)
    {
        double[] point = e.Select(v => (double)v).ToArray();
        var fd = new double[point.Length];
        for (int i = 0; i < point.Length; i++)
        {
            double saved = point[i];
            point[i] = saved + h;
            double up = Loss(a, beta, point);
            point[i] = saved - h;
            double down = Loss(a, beta, point);
            point[i] = saved;
            fd[i] = (up - down) / (2 * h);
        }
        return fd;
    }

    private static double RelativeError(float[] gradient, double[] fd) =>
        fd.Select((v, i) => Math.Abs(gradient[i] - v)).Max() / fd.Max(Math.Abs);
}
