// `validate` rows for whitening: both methods on every SIMD tier and every backend against
// a float64 SVD (MathNet), as the sine of the largest principal angle between the computed
// and the reference top-d column spaces (sign- and rotation-free), plus the sign rule.
using System.Diagnostics;
using Stair.Kernels.WhiteningAlgebra;

namespace Stair.Kernels.Validation;

internal static class WhiteningValidation
{
    // sin θ_max: float32 features and a Gram matrix that squares the condition (σ_1/σ_d ≤ 25 here) leave ~1e-5;
    // 1e-3 still fails on any wrong or missing direction (sin ≈ 1).
    private const double Tolerance = 1e-3;

    public static void Run(ValidationOptions options, List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        foreach ((int items, int columns, int d) in new[] { (300, 70, 17), (900, 257, 64) })
        {
            float[] x = Features(items, columns, options.Seed + (ulong)columns);
            (double[] w, double[] sigma, int rank) = WhiteningReference.Whiten(x, items, columns, d);
            foreach (WhiteningMethod method in new[] { WhiteningMethod.Exact, WhiteningMethod.Randomized })
            {
                var wo = new WhiteningOptions { Dimension = d, Method = method };
                double tolerance = method == WhiteningMethod.Exact ? Tolerance : RandomizedTolerance(sigma, d, wo);
                string kernel = method == WhiteningMethod.Exact ? "whiten-exact" : "whiten-randomized";
                string size = $"{items}×{columns}, d={d} (sin of largest principal angle; sign rule)";
                WhiteningModality[] modality = [new(x, columns, 1)];
                foreach (Backend backend in new[] { Backend.Cpu, Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
                {
                    if (!options.EffectiveBackends.Contains(backend) || !BackendDiscovery.IsAvailable(backend)
                        || (backend == Backend.IlgpuCpu && items > 300))
                    {
                        continue;
                    }
                    KernelValidator.Guard(kernel, backend, size, results, progress, () =>
                    {
                        IEnumerable<SimdTier> tiers = backend == Backend.Cpu ? SimdTiers.Supported : [SimdTier.Auto];
                        foreach (SimdTier tier in tiers)
                        {
                            using ComputeContext context = ComputeContext.Create(backend, new CpuOptions(tier));
                            WhiteningResult? result = null;
                            var times = new double[backend == Backend.IlgpuCpu ? 1 : options.Repeats];
                            for (int r = 0; r < times.Length; r++)
                            {
                                long start = Stopwatch.GetTimestamp();
                                result = context.Whiten(modality, wo);
                                times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                            }
                            Array.Sort(times);
                            WhiteningModalityResult m = result!.Modalities[0];
                            double error = m.Rank != rank ? 1.0 : WhiteningReference.SubspaceSine(m.Embedding, w, items, d, rank);
                            if (!SignsHold(m, items, d))
                            {
                                error = Math.Max(error, 1.0);
                            }
                            string name = backend switch
                            {
                                Backend.Cpu => "cpu/" + tier.ToString().ToLowerInvariant(),
                                Backend.IlgpuCpu => "ilgpu-cpu",
                                Backend.OpenCL => "opencl",
                                _ => "cuda",
                            };
                            var row = new ValidationResult(kernel, name, size, error, tolerance, times[times.Length / 2]);
                            results.Add(row);
                            progress?.Invoke(row);
                        }
                    });
                }
            }
        }
    }

    // Subspace iteration with ℓ = d + p columns and q power passes converges like (σ_{ℓ+1}/σ_d)^(2q+1)
    // (Halko, Martinsson & Tropp 2011, §10): on a spectrum without a gap after d the randomized result
    // is that far from the exact subspace by design. Four times that rate (or the exact tolerance,
    // whichever is larger) still fails on a wrong or missing direction (sin ≈ 1).
    private static double RandomizedTolerance(double[] sigma, int d, WhiteningOptions o)
    {
        int l = d + o.Oversampling;
        double sd = sigma[Math.Min(d, sigma.Length) - 1], sl = l < sigma.Length ? sigma[l] : 0;
        return Math.Max(Tolerance, 4 * Math.Pow(sl / sd, 2 * o.PowerIterations + 1));
    }

    private static bool SignsHold(WhiteningModalityResult m, int items, int d)
    {
        var column = new double[items];
        for (int j = 0; j < m.Rank; j++)
        {
            for (int i = 0; i < items; i++)
            {
                column[i] = m.Embedding[i * d + j];
            }
            if (HostMatrixOps.SignOf(column) < 0)
            {
                return false;
            }
        }
        return true;
    }

    // Columns of decaying scale (σ_j roughly 0.95^j) on a non-zero mean. The gap after d makes the randomized error
    // (σ_{d+p+1}/σ_d)^(2q+1) = 0.95^(32·7) ≈ 1e-5 (Halko et al. 2011), inside the tolerance like the exact path.
    private static float[] Features(int items, int columns, ulong seed)
    {
        float[] g = HostMatrixOps.Gaussian(items, columns, seed);
        for (int i = 0; i < items; i++)
        {
            for (int c = 0; c < columns; c++)
            {
                g[i * columns + c] = (float)(g[i * columns + c] * Math.Pow(0.95, c) + 0.5 + 0.01 * c);
            }
        }
        return g;
    }
}
