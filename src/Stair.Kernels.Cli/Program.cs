// stair-kernels: the command-line face of Stair.Kernels. Thin by design: each command
// parses its options, calls the library and prints. Bad input is one line on stderr and a
// non-zero exit code, never a stack trace.
using Stair.Kernels.Cli;

return CliApp.Run(args, Console.Out, Console.Error);
