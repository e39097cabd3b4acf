// Uses the four Stair.Kernels packages the way an outside program would (PackageReference only):
// builds graphs with GraphBuilder, runs FSC forward and backward on the host and on a CPU ComputeContext,
// checks them against Stair.Kernels.Validation's float64 reference, and round-trips a table through
// a .npy file with Stair.Kernels.IO, and runs FSC as a one-rank MPI job with Stair.Kernels.Distributed
// (where an MPI library is installed). Prints one line per check; exits 1 when any check fails.
using Stair.Kernels;
using Stair.Kernels.Distributed;
using Stair.Kernels.IO;
using Stair.Kernels.Validation;

const int Users = 40, Items = 25, Width = 8, Layers = 3;
int failures = 0;

// A user–item graph (symmetric Ã) and a directed item graph (A ≠ Aᵀ, so the backward pass differs from the forward one).
(int[] userIds, int[] itemIds) = SyntheticGraphs.PowerLawInteractions(Users, Items, 200, seed: 7);
CsrMatrix userItem = GraphBuilder.UserItemAdjacency(Users, Items, userIds, itemIds);
int[] sources = [0, 0, 1, 2, 3, 5, 7, 8, 11, 13, 17, 20, 24, 24];
int[] targets = [1, 4, 2, 9, 3, 0, 7, 6, 10, 12, 18, 21, 0, 23];
CsrMatrix directed = GraphBuilder.FromEdges(Items, Items, sources, targets, [], symmetrize: false, GraphNormalization.Left);
Check("graph builders", userItem.Rows == Users + Items && userItem.NonZeros == 400 && directed.NonZeros == sources.Length,
    $"user-item {userItem.Rows} rows, {userItem.NonZeros} entries; directed {directed.NonZeros} entries");

float[] beta = StepwiseWeights.Forward(Width, gamma: 0.1);
MpiSession? mpi = null;
foreach ((string name, CsrMatrix a) in new[] { ("user-item", userItem), ("directed", directed) })
{
    float[] input = SyntheticGraphs.UniformTable(a.Rows * Width, seed: 11);
    var forward = new float[input.Length];
    var backward = new float[input.Length];
    var plan = new PropagationPlan(a);
    var workspace = new PropagationWorkspace(a.Rows, Width);
    Propagation.Fsc(plan, input, forward, Width, Layers, beta, workspace);
    Propagation.FscBackward(plan, input, backward, Width, Layers, beta, workspace);

    double[] x = Float64Reference.ToDouble(input);
    int maxRow = Math.Max(MaxRowLength(a), MaxRowLength(a.Transpose()));
    double tolerance = Float64Reference.FscTolerance(maxRow, Layers);
    foreach ((string pass, bool transpose, float[] actual) in new[] { ("forward", false, forward), ("backward", true, backward) })
    {
        double[] expected = Float64Reference.Fsc(a, x, Width, Layers, beta, transpose);
        double[] bound = Float64Reference.Fsc(a, x, Width, Layers, beta, transpose, absolute: true);
        double error = Float64Reference.MaxScaledError(expected, bound, actual);
        Check($"host FSC {pass} ({name})", error <= tolerance, $"scaled error {error:G3} <= {tolerance:G3}");
    }

    // The same passes on a CPU ComputeContext give the host's bits.
    using ComputeContext context = ComputeContext.Create(Backend.Cpu);
    using DeviceGraph graph = context.Upload(a);
    using DeviceTable e = context.Upload(input, a.Rows, Width);
    using DeviceTable z = context.CreateTable(a.Rows, Width);
    using StepwiseFilter filter = context.CreateFilter(beta, Layers);
    context.Fsc(graph, e, z, filter);
    Check($"context FSC forward ({name})", SameBits(z.ToArray(), forward), "bitwise equal to Propagation.Fsc");
    context.FscBackward(graph, e, z, filter);
    Check($"context FSC backward ({name})", SameBits(z.ToArray(), backward), "bitwise equal to Propagation.FscBackward");

    if (name == "directed")
    {
        Check("backward differs from forward on A ≠ Aᵀ", !SameBits(forward, backward), "as it must");
    }

    // One rank of MPI (a singleton job) gives the host's bits; without an MPI library the package says what to install.
    MpiComm? world = null;
    try
    {
        mpi = MpiSession.Initialize();
        world = mpi.World;
    }
    catch (MpiUnavailableException missing)
    {
        Console.WriteLine($"skip distributed FSC ({name}): {missing.Message}");
    }
    if (world is not null)
    {
        var distributed = DistributedPlan.Partition(world, a);
        var output = new float[input.Length];
        DistributedPropagation.Fsc(distributed, input, output, Width, Layers, beta);
        Check($"distributed FSC forward, 1 rank ({name})", SameBits(output, forward), "bitwise equal to Propagation.Fsc");
        DistributedPropagation.FscBackward(distributed, input, output, Width, Layers, beta);
        Check($"distributed FSC backward, 1 rank ({name})", SameBits(output, backward), "bitwise equal to Propagation.FscBackward");
    }
}

// A table through a .npy file and back.
string directory = Path.Combine(Path.GetTempPath(), $"stair-consumer-{Environment.ProcessId}-{Guid.NewGuid():N}");
Directory.CreateDirectory(directory);
try
{
    float[] table = SyntheticGraphs.UniformTable(6 * Width, seed: 3);
    string path = Path.Combine(directory, "table.npy");
    Npy.Write(path, table, 6, Width);
    float[] read = Npy.ReadMatrix(path, out int rows, out int columns);
    Check("npy round trip", rows == 6 && columns == Width && SameBits(read, table), $"({rows}, {columns}) float32");
    NpyArray array = Npy.Read(path);
    Check("npy header", array.DataType == NpyDataType.Float32 && array.Rank == 2, array.ToString());
}
finally
{
    Directory.Delete(directory, recursive: true);
}

mpi?.Dispose();
Console.WriteLine(failures == 0 ? "package consumer: all checks passed" : $"package consumer: {failures} check(s) FAILED");
return failures == 0 ? 0 : 1;

void Check(string what, bool ok, string detail)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}: {detail}");
    if (!ok)
    {
        failures++;
    }
}

// Bitwise equality as IEEE bits (float.Equals, which SequenceEqual uses, takes −0 for +0 and any NaN for any other).
static bool SameBits(float[] a, float[] b)
    => a.Length == b.Length && a.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Select(BitConverter.SingleToInt32Bits));

static int MaxRowLength(CsrMatrix a)
{
    int max = 0;
    for (int r = 0; r < a.Rows; r++)
    {
        max = Math.Max(max, a.RowPointers[r + 1] - a.RowPointers[r]);
    }
    return max;
}
