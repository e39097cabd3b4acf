// `stair-kernels train`: trains the STAIR recommender (or one of its ablations) on a data
// set in the MMRec layout, synthetic data, or — with no arguments — the embedded MovieLens,
// with a live progress line, a metrics table at each evaluation and a final summary.
using System.Globalization;
using Stair.Kernels.Cli.Training;
using Stair.Recommender;
using Stair.Recommender.Training;

namespace Stair.Kernels.Cli.Commands;

internal static class TrainCommand
{
    public const string Usage = """
        stair-kernels train [--data DIR | --data synthetic:baby|synthetic:electronics]  (default: the embedded MovieLens)
                            [--backend cpu|cuda|opencl|ilgpu-cpu|auto] [--epochs 200] [--batch-size 1024] [--lr 0.001]
                            [--weight-decay 0.1] [--gamma 0.2] [--layers 3] [--dim 64] [--knn 5,1] [--eval-every 5]
                            [--patience 10] [--seed 2025] [--metrics-out run.json] [--plot run.png] [--checkpoints DIR]
                            [--no-modality-init] [--no-fsc] [--no-bsc] [--lightgcn]
          Trains STAIR with BPR (one sampled negative per positive), AdamW for users and BSC-smoothed
          AdamW for items, evaluates by full ranking every E epochs, keeps the epoch with the best
          validation NDCG@20 and reports test Recall/NDCG there. Ablations: --no-modality-init (random
          init), --no-fsc (LightGCN's equal layer weights), --no-bsc (plain AdamW for items);
          --lightgcn sets all three.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args,
            ["data", "backend", "epochs", "batch-size", "lr", "weight-decay", "gamma", "layers", "dim", "knn", "eval-every",
             "patience", "seed", "metrics-out", "plot", "checkpoints"],
            ["no-modality-init", "no-fsc", "no-bsc", "lightgcn"]);
        var defaults = new StairOptions();
        bool lightGcn = a.Has("lightgcn");
        var options = new StairOptions
        {
            Backend = a.Backend("cpu"),
            Epochs = a.Int("epochs", defaults.Epochs, min: 1),
            BatchSize = a.Int("batch-size", defaults.BatchSize, min: 1),
            LearningRate = (float)a.Double("lr", defaults.LearningRate),
            WeightDecay = (float)a.Double("weight-decay", defaults.WeightDecay),
            Gamma = a.Double("gamma", defaults.Gamma),
            Layers = a.Int("layers", defaults.Layers, min: 0),
            Dim = a.Int("dim", defaults.Dim, min: 1),
            Knn = ParseList(a.Optional("knn"), "knn"),
            EvalEvery = a.Int("eval-every", defaults.EvalEvery, min: 1),
            Patience = a.Int("patience", defaults.Patience, min: 0),
            Seed = ParseSeed(a.Optional("seed"), defaults.Seed),
            CheckpointDirectory = a.Optional("checkpoints"),
            ModalityInit = !(lightGcn || a.Has("no-modality-init")),
            Fsc = !(lightGcn || a.Has("no-fsc")),
            Bsc = !(lightGcn || a.Has("no-bsc")),
        };
        options.Validate();

        string data = a.Optional("data") ?? "movielens";
        stdout.WriteLine($"loading {data} …");
        RecommendationDataset dataset = DatasetLoader.Open(data, log: stdout);
        stdout.WriteLine($"{dataset.Name}: {dataset.Users:N0} users, {dataset.Items:N0} items, {dataset.Train.NonZeros:N0} / {dataset.Validation.NonZeros:N0} / {dataset.Test.NonZeros:N0} train/validation/test interactions; modalities: {string.Join(", ", dataset.Modalities.Select(m => $"{m.Name} ({m.Columns})"))}");
        stdout.WriteLine($"variant: {Describe(options)}");

        bool interactive = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        var progress = new ProgressBar(stdout, interactive);
        var trainer = new StairTrainer(dataset, options);
        trainer.Prepared += (_, e) => stdout.WriteLine($"device: {e.Device}; setup {e.Seconds:F2} s ({e.Details})");
        trainer.BatchCompleted += (_, e) => progress.Update(e.Epoch, options.Epochs, e.Batch, e.Batches, e.MeanLoss, e.SamplesPerSecond, e.EpochEta);
        bool headerWritten = false;
        trainer.Evaluated += (_, p) =>
        {
            if (!headerWritten)
            {
                stdout.WriteLine(string.Join("  ", new[] { " epoch", "    loss" }.Concat(p.Validation.Ks.SelectMany(k => new[] { $"Recall@{k}", $"  NDCG@{k}" }))));
                headerWritten = true;
            }
            stdout.WriteLine(string.Join("  ", new[] { $"{p.Epoch,6}", $"{p.TrainLoss,8:F5}" }
                .Concat(p.Validation.Ks.SelectMany((k, i) => new[] { $"{p.Validation.Recall[i],9:F4}", $"{p.Validation.Ndcg[i],9:F4}" }))));
        };
        TrainingReport report = trainer.Train();

        stdout.WriteLine();
        stdout.WriteLine($"best epoch {report.BestEpoch} (validation NDCG@20 {report.Evaluations.FirstOrDefault(e => e.Epoch == report.BestEpoch)?.Validation.NdcgAt(20) ?? 0:F4}){(report.StoppedEarly ? ", stopped early" : "")}");
        stdout.WriteLine($"test ({report.Test.UsersEvaluated:N0} users): " + string.Join(", ",
            report.Test.Ks.Select((k, i) => $"Recall@{k} {report.Test.Recall[i]:F4} NDCG@{k} {report.Test.Ndcg[i]:F4}")));
        stdout.WriteLine($"{report.SecondsPerEpoch:F3} s per epoch (median {report.MedianEpochSeconds:F3} s) on {report.Device}; setup {report.SetupSeconds:F2} s");
        if (a.Optional("metrics-out") is { } metricsPath)
        {
            File.WriteAllText(metricsPath, report.ToJson());
            stdout.WriteLine($"wrote {metricsPath}");
        }
        if (a.Optional("plot") is { } plotPath)
        {
            TrainingPlot.Write(report, plotPath);
            stdout.WriteLine($"wrote {plotPath}");
        }
        if (options.CheckpointDirectory is not null)
        {
            stdout.WriteLine($"checkpoints of epoch {report.BestEpoch} in {options.CheckpointDirectory}");
        }
        return 0;
    }

    private static string Describe(StairOptions o) => (o.ModalityInit, o.Fsc, o.Bsc) switch
    {
        (true, true, true) => "STAIR",
        (false, false, false) => "LightGCN (random init, equal layer weights, plain AdamW)",
        _ => "STAIR without " + string.Join(", ", new[] { o.ModalityInit ? null : "modality init", o.Fsc ? null : "FSC", o.Bsc ? null : "BSC" }.OfType<string>()),
    };

    private static int[]? ParseList(string? value, string name)
    {
        if (value is null)
        {
            return null;
        }
        string[] parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1)
            {
                throw new UsageException($"--{name} takes positive integers separated by commas, got '{value}'.");
            }
        }
        return result.Length > 0 ? result : throw new UsageException($"--{name} is empty.");
    }

    private static ulong ParseSeed(string? value, ulong fallback) =>
        value is null ? fallback
        : ulong.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong seed) ? seed
        : throw new UsageException($"--seed must be a non-negative integer, got '{value}'.");
}
