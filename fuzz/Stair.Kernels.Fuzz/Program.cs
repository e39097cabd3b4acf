// The fuzzing binary (scripts/fuzz.sh builds it, instruments the libraries with sharpfuzz and runs it under afl-fuzz):
//   Stair.Kernels.Fuzz TARGET                 run TARGET under afl-fuzz (input on the AFL channel; one run without AFL)
//   Stair.Kernels.Fuzz TARGET replay PATH...  run files (or every file in folders) through TARGET without AFL;
//                                             exit 1 if any throws an exception the target does not document
//   Stair.Kernels.Fuzz seeds DIR              write small valid seed inputs to DIR/TARGET/ for every target
using SharpFuzz;
using Stair.Kernels.Fuzzing;

if (args.Length >= 2 && args[0] == "seeds")
{
    FuzzSeeds.WriteAll(args[1]);
    return 0;
}
if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: Stair.Kernels.Fuzz TARGET [replay PATH...] | seeds DIR   (targets: {string.Join(", ", FuzzTargets.Names)})");
    return 2;
}
string target = args[0];
if (args.Length >= 2 && args[1] == "replay")
{
    int failures = 0, files = 0;
    foreach (string file in args[2..].SelectMany<string, string>(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : [p]))
    {
        files++;
        try
        {
            FuzzTargets.Run(target, File.ReadAllBytes(file));
        }
        catch (Exception e)
        {
            failures++;
            Console.Error.WriteLine($"{file}: {e}");
        }
    }
    Console.WriteLine($"{target}: {files} file(s) replayed, {failures} undocumented exception(s)");
    return failures == 0 ? 0 : 1;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    FuzzTargets.Run(target, buffer.ToArray());
});
return 0;
