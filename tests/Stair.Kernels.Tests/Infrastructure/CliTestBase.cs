// What every command-line test needs: a scratch directory removed afterwards, and the CLI run
// in-process with its exit code and both streams captured.
using Stair.Kernels.Cli;

namespace Stair.Kernels.Tests.Infrastructure;

public abstract class CliTestBase : IDisposable
{
    private readonly string _dir;

    protected CliTestBase(string prefix) => _dir = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected string PathOf(string name) => Path.Combine(_dir, name);

    protected static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
