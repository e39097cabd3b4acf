// `stair-kernels knn`: the modality kNN graph S̃ from feature matrices, as a scipy CSR .npz.
using System.CommandLine;
using Stair.Kernels.IO;

namespace Stair.Kernels.Cli.Commands;

internal static class KnnCommand
{
    public static Command Create()
    {
        var featuresOption = CliOptions.PathList("--features", "text.npy,image.npy", "one items × F .npy per modality, rows in item order", required: true);
        var kOption = CliOptions.IntegerList("--k", "5,1", "neighbours per item, one per modality", required: true);
        var output = CliOptions.Path("--output", "S.npz", "the scipy CSR .npz to write", required: true);
        var compute = new ComputeOptions("where the similarity blocks are computed; every backend writes the same graph");
        var command = new Command("knn", """
            The item–item graph S̃ of STAIR: per modality (one items × F .npy each, rows in item order)
            cosine top-k neighbours, united by summed weight, symmetrized by max, normalized
            D^-1/2 W D^-1/2; written as a scipy CSR .npz. --backend picks where the similarity blocks
            are computed (default cpu); every backend writes the same graph.
            """)
        {
            featuresOption, kOption, output,
        };
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string[] paths = parse.GetRequiredValue(featuresOption);
            int[] ks = parse.GetRequiredValue(kOption);
            if (paths.Length != ks.Length)
            {
                throw new UsageException($"--features names {paths.Length} file(s) but --k gives {ks.Length} value(s).");
            }
            var modalities = new List<KnnModality>();
            int items = -1;
            for (int m = 0; m < paths.Length; m++)
            {
                float[] features = Npy.ReadMatrix(paths[m], out int rows, out int columns);
                if (items >= 0 && rows != items)
                {
                    throw new InvalidDataException($"{Path.GetFileName(paths[m])} has {rows} rows but {Path.GetFileName(paths[0])} has {items}: every modality needs one row per item.");
                }
                items = rows;
                modalities.Add(new KnnModality(features, columns, ks[m]));
            }
            string outputPath = parse.GetRequiredValue(output);
            using ComputeContext context = ComputeContext.Create(compute.Target(parse), compute.Cpu(parse));
            var started = System.Diagnostics.Stopwatch.StartNew();
            CsrMatrix s = context.BuildKnnGraph(items, modalities);
            ScipyNpz.WriteCsr(outputPath, s);
            stdout.WriteLine($"{items:N0} items, {modalities.Count} modalit{(modalities.Count == 1 ? "y" : "ies")} → S̃ with {s.NonZeros:N0} entries in {started.Elapsed.TotalSeconds:F2} s on {context.Backend} ({context.Device}); wrote {outputPath}");
            return 0;
        });
        return command;
    }
}
