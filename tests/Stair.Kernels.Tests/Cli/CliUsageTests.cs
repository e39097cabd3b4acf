// How arguments reach the stair-kernels commands: generated help for the tool and every command,
// every option each command has always had, and one-line usage errors with exit code 2.
using Stair.Kernels.IO;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Kernels.Tests.Cli;

public sealed class CliUsageTests() : CliTestBase("stair-cli-usage-")
{
    // Every command and every option it takes, written out here independently of the command tree.
    public static TheoryData<string, string[]> Commands => new()
    {
        { "validate", ["--quick", "--repeat", "--seed", "--backend", "--report"] },
        { "devices", ["--require"] },
        { "propagate", ["--adjacency", "--input", "--output", "--layers", "--gamma", "--beta", "--spmm", "--transpose", "--backend", "--tier", "--threads", "--repeat"] },
        { "adjacency", ["--interactions", "--output", "--users", "--items", "--uncompressed"] },
        { "knn", ["--features", "--k", "--output", "--backend", "--tier", "--threads"] },
        { "train", ["--data", "--backend", "--epochs", "--batch-size", "--lr", "--weight-decay", "--gamma", "--layers", "--dim", "--knn", "--eval-every",
            "--patience", "--seed", "--metrics-out", "--plot", "--checkpoints", "--no-modality-init", "--no-fsc", "--no-bsc", "--lightgcn"] },
        { "features", ["--text", "--output"] },
        { "prepare", ["--data", "--cache"] },
        { "whiten", ["--features", "--weights", "--dim", "--output", "--method", "--oversampling", "--power-iterations", "--seed", "--interactions",
            "--users-output", "--users", "--backend", "--tier", "--threads"] },
        { "help", [] },
    };

    private static void AssertOneErrorLine(int code, string stdout, string stderr, params string[] mentions)
    {
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        string[] lines = stderr.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        foreach (string mention in mentions)
        {
            Assert.Contains(mention, lines[0]);
        }
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void Help_lists_every_command_and_exits_0(string request)
    {
        var (code, stdout, stderr) = Run(request);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("Usage:", stdout);
        Assert.Contains("stair-kernels [command] [options]", stdout);
        Assert.Contains("Exit codes: 0 success, 1 validation failure, 2 bad input or usage.", stdout);
        foreach (string command in Commands.Select(row => (string)row[0]))
        {
            Assert.Matches($"(?m)^  {command}\\b", stdout);
        }
    }

    [Fact]
    public void No_command_prints_the_help_and_exits_2()
    {
        var (code, stdout, _) = Run();
        Assert.Equal(2, code);
        Assert.Contains("stair-kernels [command] [options]", stdout);
        Assert.Contains("  propagate", stdout);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Each_command_help_lists_its_options_and_exits_0(string command, string[] options)
    {
        var (code, stdout, stderr) = Run(command, "--help");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        Assert.Contains($"stair-kernels {command} ", stdout);
        foreach (string option in options.Append("--help"))
        {
            Assert.Matches($"(?m)^  (-\\S+, )*{option}\\b", stdout);
        }
        if (command != "help")
        {
            var viaHelp = Run("help", command);
            Assert.Equal(0, viaHelp.Code);
            Assert.Equal(stdout, viaHelp.Out);
        }
    }

    [Fact]
    public void Help_shows_defaults_and_choices_by_their_command_line_names()
    {
        string propagate = Run("propagate", "--help").Out;
        Assert.Matches(@"--backend <cpu\|cuda\|opencl\|ilgpu-cpu\|auto> .*\[default: cpu\]", propagate);
        Assert.Matches(@"--tier <auto\|avx512\|avx2\|scalar> .*\[default: auto\]", propagate);
        Assert.Matches(@"--layers <L> .*\[default: 3\]", propagate);
        Assert.Matches(@"--gamma <γ> .*\[default: 0\.1\]", propagate);
        Assert.Matches(@"--adjacency <A\.npz> \(REQUIRED\)", propagate);
        string train = Run("train", "--help").Out;
        Assert.Matches(@"--lr <η> .*\[default: 0\.001\]", train);
        Assert.Matches(@"--epochs <N> .*\[default: 200\]", train);
        Assert.Matches(@"--data <\S+> .*\[default: movielens\]", train);
        Assert.DoesNotMatch(@"--backend <[^>]+> \(REQUIRED\)", Run("validate", "--help").Out);
        Assert.DoesNotContain("auto", Run("validate", "--help").Out.Split('\n').Single(l => l.TrimStart().StartsWith("--backend", StringComparison.Ordinal)));
    }

    [Fact]
    public void Help_for_an_unknown_command_is_a_usage_error()
    {
        var (code, stdout, stderr) = Run("help", "frobnicate");
        AssertOneErrorLine(code, stdout, stderr, "'frobnicate'", "propagate");
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void An_unknown_option_exits_2_and_names_it(string command, string[] options)
    {
        Assert.DoesNotContain("--no-such-option", options);
        var (code, stdout, stderr) = Run(command, "--no-such-option");
        AssertOneErrorLine(code, stdout, stderr, "'--no-such-option'");
    }

    [Theory]
    [InlineData("validate", "--repeat")]
    [InlineData("validate", "--backend")]
    [InlineData("devices", "--require")]
    [InlineData("propagate", "--layers")]
    [InlineData("adjacency", "--users")]
    [InlineData("knn", "--k")]
    [InlineData("train", "--epochs")]
    [InlineData("features", "--text")]
    [InlineData("prepare", "--cache")]
    [InlineData("whiten", "--method")]
    public void An_option_without_its_value_exits_2_and_names_it(string command, string option)
    {
        var (code, stdout, stderr) = Run(command, option);
        AssertOneErrorLine(code, stdout, stderr, $"'{option}'");
    }

    [Theory]
    [InlineData("adjacency", "--interactions")]
    [InlineData("knn", "--features")]
    [InlineData("propagate", "--adjacency")]
    [InlineData("features", "--text")]
    [InlineData("whiten", "--weights")]
    public void A_missing_required_option_exits_2_and_names_it(string command, string option)
    {
        var (code, stdout, stderr) = Run(command);
        AssertOneErrorLine(code, stdout, stderr, $"'{option}'", "is required");
    }

    [Theory]
    [InlineData("--layers", "three", "--layers must be an integer ≥ 0, got 'three'.")]
    [InlineData("--repeat", "0", "--repeat must be an integer ≥ 1, got '0'.")]
    [InlineData("--gamma", "NaN", "--gamma must be a finite number, got 'NaN'.")]
    [InlineData("--threads", "1.5", "--threads must be an integer ≥ 0, got '1.5'.")]
    [InlineData("--backend", "gpu", "--backend must be cpu, cuda, opencl, ilgpu-cpu or auto, got 'gpu'.")]
    public void A_bad_value_is_named_before_any_file_is_read(string option, string value, string message)
    {
        var (code, stdout, stderr) = Run("propagate", "--adjacency", PathOf("missing.npz"), "--input", PathOf("missing.npy"), "--output", PathOf("Z.npy"), option, value);
        AssertOneErrorLine(code, stdout, stderr, message);
        Assert.DoesNotContain("missing.npz", stderr);
    }

    [Fact]
    public void Flags_take_no_value_options_take_one_and_gamma_excludes_beta()
    {
        File.WriteAllText(PathOf("pairs.csv"), "user,item\n0,1\n1,0\n");
        var flagValue = Run("adjacency", "--interactions", PathOf("pairs.csv"), "--output", PathOf("A.npz"), "--uncompressed", "yes");
        AssertOneErrorLine(flagValue.Code, flagValue.Out, flagValue.Err, "'yes'");
        var twice = Run("validate", "--repeat", "1", "--repeat", "2");
        AssertOneErrorLine(twice.Code, twice.Out, twice.Err, "'--repeat'");
        var both = Run("propagate", "--adjacency", PathOf("A.npz"), "--input", PathOf("E.npy"), "--output", PathOf("Z.npy"), "--gamma", "0.2", "--beta", PathOf("b.npy"));
        AssertOneErrorLine(both.Code, both.Out, both.Err, "--gamma", "--beta");
        Assert.False(File.Exists(PathOf("A.npz")));

        var inline = Run("adjacency", "--interactions=" + PathOf("pairs.csv"), "--output=" + PathOf("A.npz"), "--uncompressed");
        Assert.True(inline.Code == 0, inline.Err);
        Bits.AssertBitsEqual(GraphBuilder.UserItemAdjacency(2, 2, [0, 1], [1, 0]).ToDense(), ScipyNpz.ReadCsr(PathOf("A.npz")).ToDense(), "adjacency written by the CLI");
    }

    [Fact]
    public void Arguments_are_taken_verbatim_not_as_response_files()
    {
        var (code, stdout, stderr) = Run("adjacency", "--interactions", "@" + PathOf("args.rsp"), "--output", PathOf("A.npz"));
        AssertOneErrorLine(code, stdout, stderr, "@" + PathOf("args.rsp"));
        Assert.DoesNotContain("esponse file", stderr);
    }

    [Fact]
    public void Adjacency_users_below_the_largest_id_is_a_usage_error()
    {
        File.WriteAllText(PathOf("pairs.csv"), "user,item\n0,1\n2,0\n");
        var (code, stdout, stderr) = Run("adjacency", "--interactions", PathOf("pairs.csv"), "--output", PathOf("A.npz"), "--users", "2");
        AssertOneErrorLine(code, stdout, stderr, "--users must be an integer ≥ 3, got '2'.");
        Assert.False(File.Exists(PathOf("A.npz")));
    }

    [Fact]
    public void Validate_quick_on_the_cpu_backend_only()
    {
        var (code, stdout, stderr) = Run("validate", "--quick", "--backend", "cpu", "--repeat", "1", "--seed", "7");
        Assert.True(code == 0, stdout + stderr);
        string[] rows = stdout.Split('\n').SkipWhile(l => !l.StartsWith("---", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.Contains(" passed, ", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(rows);
        Assert.All(rows, row => Assert.StartsWith("cpu/", row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
        Assert.Matches(@"\n\d+ passed, 0 failed", stdout);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("auto")]
    [InlineData("CPU")]
    public void Validate_rejects_a_backend_it_cannot_validate_by_name(string name)
    {
        var (code, stdout, stderr) = Run("validate", "--quick", "--backend", name);
        AssertOneErrorLine(code, stdout, stderr, "--backend", $"'{name}'", "cpu, cuda, opencl or ilgpu-cpu");
    }

    [Fact]
    public void Validate_on_a_missing_backend_exits_2_with_the_reason()
    {
        BackendReport[] missing = [.. BackendDiscovery.Probe().Where(r => !r.Available)];
        foreach (BackendReport report in missing)
        {
            string name = report.Backend == Backend.Cuda ? "cuda" : report.Backend == Backend.OpenCL ? "opencl" : "ilgpu-cpu";
            var (code, stdout, stderr) = Run("validate", "--quick", "--backend", name);
            AssertOneErrorLine(code, stdout, stderr, report.Reason ?? "");
        }
        Assert.Equal(2, Run("devices", "--require", "gpu").Code);
    }
}
