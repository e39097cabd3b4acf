// `stair-kernels train`: trains the STAIR recommender (or one of its ablations) on a data
// set in the MMRec layout, synthetic data, or — with no arguments — the embedded MovieLens,
// with a live progress line, a metrics table at each evaluation and a final summary.
using System.CommandLine;
using Stair.Kernels.Cli.Training;
using Stair.Kernels.Distributed;
using Stair.Recommender;
using Stair.Recommender.Training;

namespace Stair.Kernels.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new StairOptions();
        var dataOption = CliOptions.Path("--data", "DIR|synthetic:baby|synthetic:electronics",
            "a data set in the MMRec layout, a synthetic one of Amazon Baby's or Electronics' shape, or movielens (the embedded MovieLens)");
        dataOption.DefaultValueFactory = _ => "movielens";
        var backend = CliOptions.Choice("--backend", "where the kernels run", CliOptions.Backends, "cpu");
        var epochs = CliOptions.Integer("--epochs", "N", "maximum training epochs (early stopping may end sooner)", defaults.Epochs, min: 1);
        var batchSize = CliOptions.Integer("--batch-size", "B", "positive interactions per batch (each gets one sampled negative)", defaults.BatchSize, min: 1);
        var lr = CliOptions.Real("--lr", "η", "AdamW learning rate", defaults.LearningRate);
        var weightDecay = CliOptions.Real("--weight-decay", "λ", "AdamW's decoupled weight decay", defaults.WeightDecay);
        var gamma = CliOptions.Real("--gamma", "γ", "γ of the per-dimension strengths b_j = 0.1 + 0.9 (j/d)^γ", defaults.Gamma);
        var layers = CliOptions.Integer("--layers", "L", "propagation layers (FSC and BSC)", defaults.Layers, min: 0);
        var dim = CliOptions.Integer("--dim", "d", "embedding width", defaults.Dim, min: 1);
        var knn = CliOptions.IntegerList("--knn", "5,1", "kNN k per modality, in the data set's modality order (default: each modality's own)", min: 1);
        var evalEvery = CliOptions.Integer("--eval-every", "E", "evaluate on the validation split every E epochs", defaults.EvalEvery, min: 1);
        var patience = CliOptions.Integer("--patience", "P", "stop after P evaluations without a better validation NDCG@20 (0: never)", defaults.Patience, min: 0);
        var seed = CliOptions.Integer("--seed", "S", "seed of the initialization, the shuffles and the negative samples", defaults.Seed, min: 0UL);
        var metricsOut = CliOptions.Path("--metrics-out", "run.json", "write the whole run as JSON");
        var plot = CliOptions.Path("--plot", "run.png", "write a PNG of validation Recall/NDCG@20 and the loss");
        var checkpoints = CliOptions.Path("--checkpoints", "DIR", "write the best epoch's embedding tables (users.npy, items.npy) here");
        var noModalityInit = CliOptions.Flag("--no-modality-init", "ablation: random N(0, 0.1²) initialization instead of the whitened features");
        var noFsc = CliOptions.Flag("--no-fsc", "ablation: LightGCN's equal layer weights instead of FSC");
        var noBsc = CliOptions.Flag("--no-bsc", "ablation: plain AdamW for items instead of BSC");
        var lightGcnOption = CliOptions.Flag("--lightgcn", "all three ablations: LightGCN");
        var distributed = CliOptions.Flag("--distributed",
            "run as one rank of an MPI job (mpiexec -n N stair-kernels train --distributed …): tables split by rows over the ranks, bitwise the one-process run on the CPU; rank 0 prints");
        var command = new Command("train", """
            Trains STAIR with BPR (one sampled negative per positive), AdamW for users and BSC-smoothed
            AdamW for items, evaluates by full ranking every E epochs, keeps the epoch with the best
            validation NDCG@20 and reports test Recall/NDCG there. Ablations: --no-modality-init (random
            init), --no-fsc (LightGCN's equal layer weights), --no-bsc (plain AdamW for items);
            --lightgcn sets all three. Without --data: the embedded MovieLens.
            """)
        {
            dataOption, backend, epochs, batchSize, lr, weightDecay, gamma, layers, dim, knn, evalEvery, patience, seed,
            metricsOut, plot, checkpoints, noModalityInit, noFsc, noBsc, lightGcnOption, distributed,
        };
        command.SetAction(parse =>
        {
            if (!parse.GetValue(distributed))
            {
                return Train(parse, null);
            }
            using MpiSession session = MpiSession.Initialize();
            try
            {
                return Train(parse, session.World);
            }
            catch (Exception e)
            {
                // The other ranks may be waiting on this one: report, give mpiexec a moment to forward the line, end the job.
                parse.InvocationConfiguration.Error.WriteLine($"error: rank {session.World.Rank}: {e.Message}");
                parse.InvocationConfiguration.Error.Flush();
                Thread.Sleep(1000);
                session.World.Abort(1);
                throw;
            }
        });
        return command;

        int Train(ParseResult parse, MpiComm? comm)
        {
            // Only rank 0 of a distributed run prints (every rank computes the same report).
            TextWriter stdout = comm is null || comm.Rank == 0 ? parse.InvocationConfiguration.Output : TextWriter.Null;
            bool lightGcn = parse.GetValue(lightGcnOption);
            var options = new StairOptions
            {
                Backend = parse.GetRequiredValue(backend)!.Value,
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(lr),
                WeightDecay = parse.GetValue(weightDecay),
                Gamma = parse.GetValue(gamma),
                Layers = parse.GetValue(layers),
                Dim = parse.GetValue(dim),
                Knn = parse.GetValue(knn) is { Length: > 0 } ks ? ks : null,
                EvalEvery = parse.GetValue(evalEvery),
                Patience = parse.GetValue(patience),
                Seed = parse.GetValue(seed),
                CheckpointDirectory = parse.GetValue(checkpoints),
                ModalityInit = !(lightGcn || parse.GetValue(noModalityInit)),
                Fsc = !(lightGcn || parse.GetValue(noFsc)),
                Bsc = !(lightGcn || parse.GetValue(noBsc)),
            };
            options.Validate();

            string data = parse.GetRequiredValue(dataOption);
            stdout.WriteLine($"loading {data} …");
            RecommendationDataset dataset = DatasetLoader.Open(data, log: stdout);
            stdout.WriteLine($"{dataset.Name}: {dataset.Users:N0} users, {dataset.Items:N0} items, {dataset.Train.NonZeros:N0} / {dataset.Validation.NonZeros:N0} / {dataset.Test.NonZeros:N0} train/validation/test interactions; modalities: {string.Join(", ", dataset.Modalities.Select(m => $"{m.Name} ({m.Columns})"))}");
            stdout.WriteLine($"variant: {Describe(options)}");

            bool interactive = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
            var progress = new ProgressBar(stdout, interactive);
            IStairTrainer trainer = comm is null ? new StairTrainer(dataset, options) : new DistributedStairTrainer(dataset, options, comm);
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
            if (comm is not null && comm.Rank != 0)
            {
                return 0; // files come from rank 0
            }
            if (parse.GetValue(metricsOut) is { } metricsPath)
            {
                File.WriteAllText(metricsPath, report.ToJson());
                stdout.WriteLine($"wrote {metricsPath}");
            }
            if (parse.GetValue(plot) is { } plotPath)
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
    }

    private static string Describe(StairOptions o) => (o.ModalityInit, o.Fsc, o.Bsc) switch
    {
        (true, true, true) => "STAIR",
        (false, false, false) => "LightGCN (random init, equal layer weights, plain AdamW)",
        _ => "STAIR without " + string.Join(", ", new[] { o.ModalityInit ? null : "modality init", o.Fsc ? null : "FSC", o.Bsc ? null : "BSC" }.OfType<string>()),
    };
}
