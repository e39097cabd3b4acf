// The kNN graph's rows of `stair-kernels validate`: neighbour lists on every SIMD tier and
// every ILGPU backend present, against the float64 brute force and against each other.
namespace Stair.Kernels.Validation;

public static partial class KernelValidator
{
    // The kNN neighbour lists are discrete: the "error" is the number of items whose list differs
    // from the float64 brute force or from the CPU scalar run, and it must be 0 (the design makes
    // every backend identical; see kernels.md, KnnGraph). Gaussian features keep near-ties (which
    // the float32-rounded unit rows and the raw float64 cosine could order differently) far below
    // the gaps, so the brute force on the raw features is a fair reference here.
    private static void ValidateKnn(ValidationOptions options, List<ValidationResult> results, Action<ValidationResult>? progress)
    {
        foreach ((int items, int columns, int k) in new[] { (600, 48, 5), (150, 24, 3) })
        {
            bool small = items < 600;
            var rng = new SplitMix64(options.Seed + 20 + (ulong)items);
            var features = new float[items * columns];
            for (int e = 0; e < features.Length; e++)
            {
                features[e] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
            }
            features.AsSpan(0, columns).Clear(); // a zero row
            features.AsSpan(5 * columns, columns).CopyTo(features.AsSpan(9 * columns, columns)); // exact twins
            var modality = new KnnModality(features, columns, k);
            int[] expected = Float64Reference.KnnTopK(features, items, columns, k);
            int[] scalar = KnnGraph.TopK(items, modality, new CpuOptions(SimdTier.Scalar));
            string size = $"{items} items, F={columns}, k={k} (rows differing)";

            void Report(string backend, Func<int[]> run)
            {
                int[] got = run();
                int differing = 0;
                for (int i = 0; i < items; i++)
                {
                    if (!got.AsSpan(i * k, k).SequenceEqual(expected.AsSpan(i * k, k)) || !got.AsSpan(i * k, k).SequenceEqual(scalar.AsSpan(i * k, k)))
                    {
                        differing++;
                    }
                }
                var result = new ValidationResult("knn-topk", backend, size, differing, 0, MedianMilliseconds(() => run(), options.Repeats));
                results.Add(result);
                progress?.Invoke(result);
            }

            if (options.EffectiveBackends.Contains(Backend.Cpu) && !small)
            {
                foreach (SimdTier tier in SimdTiers.Supported)
                {
                    Report("cpu/" + tier.ToString().ToLowerInvariant(), () => KnnGraph.TopK(items, modality, new CpuOptions(tier)));
                }
            }
            foreach (Backend backend in new[] { Backend.IlgpuCpu, Backend.OpenCL, Backend.Cuda })
            {
                // The simulator runs every thread: only the small case.
                if (!options.EffectiveBackends.Contains(backend) || !BackendDiscovery.IsAvailable(backend) || (backend == Backend.IlgpuCpu) != small)
                {
                    continue;
                }
                KernelValidator.Guard("knn-topk", backend, size, results, progress, () =>
                {
                    using ComputeContext context = ComputeContext.Create(backend);
                    string name = backend switch
                    {
                        Backend.Cuda => "cuda",
                        Backend.OpenCL => "opencl",
                        _ => "ilgpu-cpu",
                    };
                    Report(name, () => KnnGraph.TopK(context, items, modality));
                });
            }
        }
    }
}
