// A small, strict command-line option parser: `--name value` and `--flag`, every option
// declared by the command, anything else is a usage error with one clear line.
using System.Globalization;

namespace Stair.Kernels.Cli;

/// <summary>A command-line usage error: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

internal sealed class CliArguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public CliArguments(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{arg}'.");
            }
            string name = arg[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }
            if (flags.Contains(name))
            {
                if (inline is not null)
                {
                    throw new UsageException($"--{name} takes no value.");
                }
                _values[name] = null;
            }
            else if (valueOptions.Contains(name))
            {
                string? value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (value is null)
                {
                    throw new UsageException($"--{name} needs a value.");
                }
                _values[name] = value;
            }
            else
            {
                throw new UsageException($"unknown option --{name}.");
            }
        }
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string Required(string name) =>
        _values.TryGetValue(name, out string? v) && v is not null ? v : throw new UsageException($"--{name} is required.");

    public string? Optional(string name) => _values.TryGetValue(name, out string? v) ? v : null;

    public int Int(string name, int fallback, int min = int.MinValue)
    {
        string? s = Optional(name);
        if (s is null)
        {
            return fallback;
        }
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min)
        {
            throw new UsageException($"--{name} must be an integer ≥ {min}, got '{s}'.");
        }
        return v;
    }

    public double Double(string name, double fallback)
    {
        string? s = Optional(name);
        if (s is null)
        {
            return fallback;
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
        {
            throw new UsageException($"--{name} must be a finite number, got '{s}'.");
        }
        return v;
    }

    public Backend Backend(string fallback = "cpu")
    {
        string s = Optional("backend") ?? fallback;
        return s switch
        {
            "auto" => Kernels.Backend.Auto,
            "cpu" => Kernels.Backend.Cpu,
            "cuda" => Kernels.Backend.Cuda,
            "opencl" => Kernels.Backend.OpenCL,
            "ilgpu-cpu" => Kernels.Backend.IlgpuCpu,
            _ => throw new UsageException($"--backend must be cpu, cuda, opencl, ilgpu-cpu or auto, got '{s}'."),
        };
    }

    public SimdTier Tier()
    {
        string s = Optional("tier") ?? "auto";
        return s switch
        {
            "auto" => SimdTier.Auto,
            "avx512" => SimdTier.Avx512,
            "avx2" => SimdTier.Avx2,
            "scalar" => SimdTier.Scalar,
            _ => throw new UsageException($"--tier must be auto, avx512, avx2 or scalar, got '{s}'."),
        };
    }
}
