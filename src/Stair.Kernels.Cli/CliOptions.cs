// The typed options every command is built from (System.CommandLine): files, bounded numbers,
// comma-separated lists, named choices such as --backend and --tier. A value that does not
// parse is one error line naming the option and the value; the help shows defaults as typed.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Stair.Kernels.Cli;

/// <summary>A command-line usage error found by a command itself: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A value chosen by name on the command line; help shows the name (e.g. "[default: cpu]"), not the enum member.</summary>
internal sealed record Named<T>(string Name, T Value)
{
    public override string ToString() => Name;
}

internal static class CliOptions
{
    public static readonly Named<Backend>[] Backends =
        [new("cpu", Backend.Cpu), new("cuda", Backend.Cuda), new("opencl", Backend.OpenCL), new("ilgpu-cpu", Backend.IlgpuCpu), new("auto", Backend.Auto)];

    public static readonly Named<SimdTier>[] Tiers =
        [new("auto", SimdTier.Auto), new("avx512", SimdTier.Avx512), new("avx2", SimdTier.Avx2), new("scalar", SimdTier.Scalar)];

    /// <summary>Whether the option was written on the command line (not merely defaulted).</summary>
    public static bool Given(this ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>A file or folder path (or any other free text).</summary>
    public static Option<string> Path(string name, string helpName, string description, bool required = false) =>
        new(name) { HelpName = helpName, Description = description, Required = required };

    /// <summary>An on/off switch that takes no value.</summary>
    public static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An integer ≥ <paramref name="min"/>, <paramref name="fallback"/> when absent.</summary>
    public static Option<T> Integer<T>(string name, string helpName, string description, T fallback, T min)
        where T : IBinaryInteger<T>, IMinMaxValue<T> =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = r => ParseScalar(r, name, min),
        };

    /// <summary>An integer ≥ <paramref name="min"/>, or null when absent (the command picks a default from its data).</summary>
    public static Option<int?> OptionalInteger(string name, string helpName, string description, int min) =>
        new(name) { HelpName = helpName, Description = description, CustomParser = r => ParseScalar(r, name, min) };

    /// <summary>
    /// An <see cref="OptionalInteger"/>'s value, <paramref name="min"/> (a bound that comes from the data) when absent;
    /// a given value below it is a usage error.
    /// </summary>
    public static int AtLeast(string name, int? value, int min) =>
        value is not int v ? min
        : v >= min ? v
        : throw new UsageException($"{name} must be an integer ≥ {min}, got '{v}'.");

    /// <summary>A finite floating-point number, <paramref name="fallback"/> when absent.</summary>
    public static Option<T> Real<T>(string name, string helpName, string description, T fallback)
        where T : IFloatingPoint<T>, IMinMaxValue<T> =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            DefaultValueFactory = _ => fallback,
            CustomParser = r => ParseScalar(r, name, T.MinValue),
        };

    // The lists below read as an empty array when absent (System.CommandLine's rule for arrays); the
    // parser rejects an empty list written out, so empty means "not given".

    /// <summary>Comma-separated integers, each ≥ <paramref name="min"/> (for example "--k 5,1").</summary>
    public static Option<int[]> IntegerList(string name, string helpName, string description, int min = int.MinValue, bool required = false) =>
        List(name, helpName, description, required, Expected(min, plural: true), (string s, out int v) => TryParse(s, min, out v));

    /// <summary>Comma-separated finite numbers (for example "--weights 5,1").</summary>
    public static Option<double[]> RealList(string name, string helpName, string description, bool required = false) =>
        List(name, helpName, description, required, Expected(double.MinValue, plural: true), (string s, out double v) => TryParse(s, double.MinValue, out v));

    /// <summary>Comma-separated paths (for example "--features text.npy,image.npy").</summary>
    public static Option<string[]> PathList(string name, string helpName, string description, bool required = false) =>
        List(name, helpName, description, required, "paths", (string s, out string v) => (v = s).Length > 0);

    /// <summary>One of a fixed set of names; <paramref name="fallback"/> (one of the names) when absent, or null without one.</summary>
    public static Option<Named<T>?> Choice<T>(string name, string description, IReadOnlyList<Named<T>> choices, string? fallback = null)
    {
        string names = string.Join(", ", choices.Take(choices.Count - 1).Select(c => c.Name)) + " or " + choices[^1].Name;
        var option = new Option<Named<T>?>(name)
        {
            HelpName = string.Join('|', choices.Select(c => c.Name)),
            Description = description,
            CustomParser = r =>
            {
                string s = Single(r);
                Named<T>? match = choices.FirstOrDefault(c => c.Name == s);
                if (match is null)
                {
                    r.AddError($"{name} must be {names}, got '{s}'.");
                }
                return match;
            },
        };
        if (fallback is not null)
        {
            Named<T> value = choices.Single(c => c.Name == fallback);
            option.DefaultValueFactory = _ => value;
        }
        option.CompletionSources.Add([.. choices.Select(c => c.Name)]);
        return option;
    }

    private delegate bool TryParseItem<T>(string s, out T value);

    private static Option<T[]> List<T>(string name, string helpName, string description, bool required, string expected, TryParseItem<T> parse) =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            Required = required,
            Arity = ArgumentArity.ExactlyOne,
            CustomParser = r =>
            {
                string s = Single(r);
                string[] parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries);
                var values = new T[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                {
                    if (!parse(parts[i], out values[i]))
                    {
                        r.AddError($"{name} takes {expected} separated by commas, got '{s}'.");
                        return [];
                    }
                }
                if (values.Length == 0)
                {
                    r.AddError($"{name} is empty.");
                }
                return values;
            },
        };

    // The option's one value; an option written without one is reported by the parser itself (arity).
    private static string Single(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[0].Value : "";

    private static T ParseScalar<T>(ArgumentResult r, string name, T min) where T : INumber<T>, IMinMaxValue<T>
    {
        string s = Single(r);
        if (TryParse(s, min, out T value))
        {
            return value;
        }
        r.AddError($"{name} must be {Article(Expected(min))}, got '{s}'.");
        return min;
    }

    private static bool TryParse<T>(string s, T min, out T value) where T : INumber<T>, IMinMaxValue<T>
    {
        NumberStyles style = IsIntegral<T>() ? NumberStyles.Integer : NumberStyles.Float;
        if (T.TryParse(s, style, CultureInfo.InvariantCulture, out T? parsed) && T.IsFinite(parsed) && parsed >= min)
        {
            value = parsed;
            return true;
        }
        value = min;
        return false;
    }

    private static bool IsIntegral<T>() where T : INumber<T> => T.IsInteger(T.One / (T.One + T.One));

    // "integer ≥ 0", "integers", "finite number": what a value of type T, at least min, must look like.
    private static string Expected<T>(T min, bool plural = false) where T : INumber<T>, IMinMaxValue<T>
    {
        string noun = (IsIntegral<T>() ? "integer" : "finite number") + (plural ? "s" : "");
        return min == T.MinValue && T.IsNegative(min) ? noun : string.Create(CultureInfo.InvariantCulture, $"{noun} ≥ {min}");
    }

    private static string Article(string noun) => (noun[0] is 'a' or 'e' or 'i' or 'o' or 'u' ? "an " : "a ") + noun;
}

/// <summary>--backend, --tier and --threads: where a kernel command runs.</summary>
internal sealed class ComputeOptions(string backendDescription)
{
    public Option<Named<Backend>?> Backend { get; } = CliOptions.Choice("--backend", backendDescription, CliOptions.Backends, "cpu");

    public Option<Named<SimdTier>?> Tier { get; } = CliOptions.Choice("--tier", "the widest SIMD tier the cpu backend may use", CliOptions.Tiers, "auto");

    public Option<int> Threads { get; } = CliOptions.Integer("--threads", "N", "cpu backend worker threads (0: one per logical core)", 0, min: 0);

    public void AddTo(Command command)
    {
        command.Options.Add(Backend);
        command.Options.Add(Tier);
        command.Options.Add(Threads);
    }

    public CpuOptions Cpu(ParseResult parse) => new(parse.GetRequiredValue(Tier)!.Value, parse.GetValue(Threads));

    public Backend Target(ParseResult parse) => parse.GetRequiredValue(Backend)!.Value;
}
