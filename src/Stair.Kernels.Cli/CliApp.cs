// The command tree (System.CommandLine) and the one place where errors become exit codes:
// 0 success, 1 validation failure (set by the command), 2 bad usage or bad input, as one line on stderr.
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Stair.Kernels.Cli.Commands;

namespace Stair.Kernels.Cli;

internal static class CliApp
{
    public const string Name = "stair-kernels";

    // Values are taken verbatim: no @response-file expansion of arguments that start with '@'.
    private static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        RootCommand root = CreateRoot();
        ParseResult parse = Parse(root, args);
        if (parse.Action is ParseErrorAction)
        {
            stderr.WriteLine($"error: {Describe(parse, root)}");
            return 2;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (Exception ex) when (ex is UsageException or ArgumentException or IOException or InvalidDataException or FormatException
            or NotSupportedException or UnauthorizedAccessException or OverflowException or BackendUnavailableException)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 2;
        }
    }

    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/> as <see cref="Run"/> does (no response files); runs nothing.</summary>
    internal static ParseResult Parse(RootCommand root, string[] args) => root.Parse(args, Parsing);

    /// <summary>Every command, its options and the generated help.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("""
            stair-kernels — native-speed kernels for multimodal graph recommenders (STAIR)

            'stair-kernels <command> --help' (or 'stair-kernels help <command>') describes one command.
            Exit codes: 0 success, 1 validation failure, 2 bad input or usage.
            """)
        {
            HelpName = Name,
        };
        foreach (Command command in new[]
        {
            ValidateCommand.Create(), DevicesCommand.Create(), PropagateCommand.Create(), AdjacencyCommand.Create(), KnnCommand.Create(),
            TrainCommand.Create(), FeaturesCommand.Create(), PrepareCommand.Create(), WhitenCommand.Create(),
        })
        {
            root.Subcommands.Add(command);
        }
        root.Subcommands.Add(HelpCommand(root));
        // A bare `stair-kernels` prints the help but is still a usage error.
        root.SetAction(parse =>
        {
            new HelpAction().Invoke(parse);
            return 2;
        });
        return root;
    }

    // `stair-kernels help [command]`: the same generated help as `--help`.
    private static Command HelpCommand(RootCommand root)
    {
        var topic = new Argument<string?>("command") { Arity = ArgumentArity.ZeroOrOne, Description = "the command to describe (default: all of them)" };
        topic.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is string name && !root.Subcommands.Any(c => c.Name == name))
            {
                result.AddError($"unknown command '{name}' (try: {CommandNames(root)}).");
            }
        });
        var help = new Command("help", "Shows this help, or one command's (the same as 'stair-kernels <command> --help').") { topic };
        help.SetAction(parse =>
            root.Parse(parse.GetValue(topic) is string name ? [name, "--help"] : ["--help"], Parsing).Invoke(parse.InvocationConfiguration));
        return help;
    }

    // One line for every parse error: an unknown command names the commands, anything else points at the command's help.
    internal static string Describe(ParseResult parse, RootCommand root)
    {
        Command command = parse.CommandResult.Command;
        if (command == root && parse.UnmatchedTokens is [string first, ..] && !first.StartsWith('-'))
        {
            return $"unknown command '{first}' (try: {CommandNames(root)}).";
        }
        string messages = string.Join(" ", parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Trim()).Distinct());
        string helpFor = command == root ? "" : " " + command.Name;
        return messages.Contains("(try: ", StringComparison.Ordinal) ? messages : $"{messages} (see '{Name}{helpFor} --help')";
    }

    private static string CommandNames(RootCommand root) => string.Join(", ", root.Subcommands.Select(c => c.Name));
}
