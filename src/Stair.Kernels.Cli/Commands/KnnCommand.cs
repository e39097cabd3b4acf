// `stair-kernels knn`: the modality kNN graph S̃ from feature matrices, as a scipy CSR .npz.
using System.Globalization;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class KnnCommand
{
    public const string Usage = """
        stair-kernels knn --features text.npy,image.npy --k 5,1 --output S.npz
                          [--backend cpu|cuda|opencl|ilgpu-cpu|auto] [--tier auto|avx512|avx2|scalar] [--threads N]
          The item–item graph S̃ of STAIR: per modality (one items × F .npy each, rows in item order)
          cosine top-k neighbours, united by summed weight, symmetrized by max, normalized
          D^-1/2 W D^-1/2; written as a scipy CSR .npz. --backend picks where the similarity blocks
          are computed (default cpu); every backend writes the same graph.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["features", "k", "output", "tier", "threads", "backend"], []);
        string[] paths = a.Required("features").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string[] ks = a.Required("k").Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (paths.Length != ks.Length)
        {
            throw new UsageException($"--features names {paths.Length} file(s) but --k gives {ks.Length} value(s).");
        }
        var modalities = new List<KnnModality>();
        int items = -1;
        for (int m = 0; m < paths.Length; m++)
        {
            if (!int.TryParse(ks[m], NumberStyles.Integer, CultureInfo.InvariantCulture, out int k))
            {
                throw new UsageException($"--k value '{ks[m]}' is not an integer.");
            }
            float[] features = Npy.ReadMatrix(paths[m], out int rows, out int columns);
            if (items >= 0 && rows != items)
            {
                throw new InvalidDataException($"{Path.GetFileName(paths[m])} has {rows} rows but {Path.GetFileName(paths[0])} has {items}: every modality needs one row per item.");
            }
            items = rows;
            modalities.Add(new KnnModality(features, columns, k));
        }
        using ComputeContext context = ComputeContext.Create(a.Backend(), new CpuOptions(a.Tier(), a.Int("threads", 0, min: 0)));
        var started = System.Diagnostics.Stopwatch.StartNew();
        CsrMatrix s = KnnGraph.Build(context, items, modalities);
        ScipyNpz.WriteCsr(a.Required("output"), s);
        stdout.WriteLine($"{items:N0} items, {modalities.Count} modalit{(modalities.Count == 1 ? "y" : "ies")} → S̃ with {s.NonZeros:N0} entries in {started.Elapsed.TotalSeconds:F2} s on {context.Backend} ({context.Device}); wrote {a.Required("output")}");
        return 0;
    }
}
