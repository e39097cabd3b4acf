// Command dispatch and the one place where errors become exit codes.
using Stair.Kernels.Cli.Commands;

namespace Stair.Kernels.Cli;

internal static class CliApp
{
    private static readonly string Help = $"""
        stair-kernels — native-speed kernels for multimodal graph recommenders (STAIR)

        {ValidateCommand.Usage}

        {DevicesCommand.Usage}

        {PropagateCommand.Usage}

        {AdjacencyCommand.Usage}

        {KnnCommand.Usage}

        {TrainCommand.Usage}

        {FeaturesCommand.Usage}

        {PrepareCommand.Usage}

        {WhitenCommand.Usage}

        Exit codes: 0 success, 1 validation failure, 2 bad input or usage.
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            stdout.WriteLine(Help);
            return args.Length == 0 ? 2 : 0;
        }
        string[] rest = args[1..];
        try
        {
            return args[0] switch
            {
                "validate" => ValidateCommand.Run(rest, stdout),
                "propagate" => PropagateCommand.Run(rest, stdout),
                "adjacency" => AdjacencyCommand.Run(rest, stdout),
                "devices" => DevicesCommand.Run(rest, stdout),
                "knn" => KnnCommand.Run(rest, stdout),
                "train" => TrainCommand.Run(rest, stdout),
                "features" => FeaturesCommand.Run(rest, stdout),
                "prepare" => PrepareCommand.Run(rest, stdout),
                "whiten" => WhitenCommand.Run(rest, stdout),
                _ => throw new UsageException($"unknown command '{args[0]}' (try: validate, devices, propagate, adjacency, knn, whiten, train, features, prepare, help)."),
            };
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 2;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or FormatException
            or NotSupportedException or UnauthorizedAccessException or OverflowException or BackendUnavailableException)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 2;
        }
    }
}
