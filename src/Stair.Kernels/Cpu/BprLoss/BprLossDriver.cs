// The CPU BPR loss (kernels.md, BprLoss) over one batch, in two parallel phases:
//   1. per triple b: x_b = e_u·e_i⁺ − e_u·e_i⁻ (two tier-identical 16-lane dots), the loss term
//      softplus(−x_b) and s_b = σ(−x_b)/B, both evaluated in float64 in their stable forms;
//   2. per gradient row (a group of BprBatchPlan): the sum of its contributions in batch order,
//      acc = fma(coef, src, acc) element by element, then stored (overwrite) or added (accumulate).
// Each element of phase 2 is one FMA chain whatever the vector width, so every SIMD tier and
// thread count gives the same bits. The loss is summed over b in order, in float64.
using System.Runtime.CompilerServices;
using Stair.Kernels.Cpu.Simd;

namespace Stair.Kernels.Cpu.BprLoss;

[SkipLocalsInit]
internal sealed unsafe class BprLossDriver : ParallelJob, ISimdParts
{
    // Below this many triples per part the pool's wake-up costs more than the work.
    private const int TriplesPerPart = 1024;

    [ThreadStatic]
    private static BprLossDriver? t_cached;

    public readonly BprBatchPlan Plan = new();
    private float[] _s = [];
    private double[] _terms = [];

    private SimdTier _tier;
    private int _width;
    private int _phase;
    private float* _userTable, _itemTable, _userGradient, _itemGradient;
    private int* _users, _positives, _negatives;
    private bool _accumulate;
    private int _divisor;

    /// <summary>A driver for the calling thread's host API calls (reused: allocation-free after warm-up).</summary>
    public static BprLossDriver ForCurrentThread() => t_cached ??= new BprLossDriver();

    /// <summary>Runs one batch; arguments are validated by the caller. Returns the mean loss.</summary>
    /// <remarks>
    /// <paramref name="batchSize"/> (0: the triples given) is the B of s = σ(−x)/B and of the mean: a rank of a
    /// distributed step passes the whole batch's B with only the triples that touch its rows, and gets each of
    /// their loss terms in <paramref name="terms"/> (when not empty), so it computes every row it owns bit for bit.
    /// </remarks>
    public double Run(SimdTier tier, int threads, float* userTable, float* itemTable, int userRows, int itemRows, int width,
        ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives,
        float* userGradient, float* itemGradient, bool accumulate, int batchSize = 0, Span<double> terms = default)
    {
        int b = users.Length;
        int divisor = batchSize > 0 ? batchSize : b;
        if (!accumulate)
        {
            // Overwrite: rows the batch does not touch are zero. This pass is the cost floor of
            // the mode (N·d·4 bytes written); accumulate mode skips it.
            new Span<float>(userGradient, checked(userRows * width)).Clear();
            new Span<float>(itemGradient, checked(itemRows * width)).Clear();
        }
        if (b == 0)
        {
            return 0;
        }
        Plan.Build(users, positives, negatives, userRows, itemRows);
        if (_s.Length < b)
        {
            _s = new float[b];
            _terms = new double[b];
        }
        _tier = tier;
        _width = width;
        _userTable = userTable;
        _itemTable = itemTable;
        _userGradient = userGradient;
        _itemGradient = itemGradient;
        _accumulate = accumulate;
        _divisor = divisor;
        fixed (int* u = users)
        fixed (int* p = positives)
        fixed (int* n = negatives)
        {
            _users = u;
            _positives = p;
            _negatives = n;
            _phase = 0;
            PartCount = (b + TriplesPerPart - 1) / TriplesPerPart;
            CpuWorkerPool.Shared.Run(this, threads);
            _phase = 1;
            PartCount = (b + TriplesPerPart - 1) / TriplesPerPart;
            CpuWorkerPool.Shared.Run(this, threads);
            _users = _positives = _negatives = null;
        }
        double loss = 0;
        for (int t = 0; t < b; t++)
        {
            loss += _terms[t];
        }
        if (!terms.IsEmpty)
        {
            _terms.AsSpan(0, b).CopyTo(terms);
        }
        return loss / divisor;
    }

    public override void Execute(int part) => SimdDispatch.RunPart(_tier, this, part);

    public void ExecutePart<TVec, TDouble>(int part)
        where TVec : struct, IFloatVector<TVec>
        where TDouble : struct, IDoubleVector<TDouble>
    {
        if (_phase == 0)
        {
            int b = Plan.Count;
            int end = Math.Min(b, (part + 1) * TriplesPerPart);
            for (int t = part * TriplesPerPart; t < end; t++)
            {
                Score<TVec>(t, _divisor);
            }
        }
        else
        {
            // Groups split evenly among the parts (a group's cost is its contribution count,
            // which is ~3 on average; hubs are rare and still cheap at B ≤ 4,096).
            int groups = Plan.Groups;
            int begin = (int)((long)groups * part / PartCount), end = (int)((long)groups * (part + 1) / PartCount);
            for (int g = begin; g < end; g++)
            {
                Scatter<TVec>(g);
            }
        }
    }

    private void Score<TVec>(int t, int batch)
        where TVec : struct, IFloatVector<TVec>
    {
        int d = _width;
        DotPair<TVec>(_userTable + (long)_users[t] * d, _itemTable + (long)_positives[t] * d, _itemTable + (long)_negatives[t] * d, d,
            out float dp, out float dn);
        double x = (double)dp - dn;
        // z = −x; with e = exp(−|z|) ≤ 1: softplus(z) = max(z, 0) + log(1 + e), σ(z) = 1/(1 + e) or e/(1 + e):
        // one exp and one log, neither can overflow.
        double z = -x, e = Math.Exp(-Math.Abs(z));
        _terms[t] = Math.Max(z, 0) + Math.Log(1 + e);
        _s[t] = (float)((z >= 0 ? 1 : e) / (1 + e) / batch);
    }

    /// <summary>
    /// e_u·e_i⁺ and e_u·e_i⁻ with sixteen partial sums each (a fixed lane tree, as in KnnExact.Dot): lane l
    /// accumulates elements l, l + 16, … by FMA, the tail element by element into its lane, then the
    /// lanes are added in the fixed tree (l += l + 8, + 4, + 2, + 1). The sixteen lanes are one
    /// 16-lane vector, two 8-lane ones or sixteen floats in memory; every tier performs exactly these
    /// operations, so the dots are the same bits on each.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void DotPair<TVec>(float* u, float* p, float* n, int d, out float dp, out float dn)
        where TVec : struct, IFloatVector<TVec>
    {
        int full = d & ~15;
        float* lp = stackalloc float[16];
        float* ln = stackalloc float[16];
        if (TVec.Count >= 8)
        {
            // Lanes 0–7 (or all sixteen) in *0, lanes 8–15 in *1.
            TVec p0 = TVec.Zero, p1 = p0, n0 = p0, n1 = p0;
            for (int c = 0; c < full; c += 16)
            {
                TVec u0 = TVec.Load(u + c);
                p0 = TVec.Fma(u0, TVec.Load(p + c), p0);
                n0 = TVec.Fma(u0, TVec.Load(n + c), n0);
                if (TVec.Count == 8)
                {
                    TVec u1 = TVec.Load(u + c + 8);
                    p1 = TVec.Fma(u1, TVec.Load(p + c + 8), p1);
                    n1 = TVec.Fma(u1, TVec.Load(n + c + 8), n1);
                }
            }
            if (full == d)
            {
                dp = FloatLanes16.Tree(p0, p1);
                dn = FloatLanes16.Tree(n0, n1);
                return;
            }
            TVec.Store(p0, lp);
            TVec.Store(n0, ln);
            if (TVec.Count == 8)
            {
                TVec.Store(p1, lp + 8);
                TVec.Store(n1, ln + 8);
            }
        }
        else
        {
            new Span<float>(lp, 16).Clear();
            new Span<float>(ln, 16).Clear();
            for (int c = 0; c < full; c += 16)
            {
                for (int l = 0; l < 16; l += TVec.Count)
                {
                    TVec ul = TVec.Load(u + c + l);
                    TVec.Store(TVec.Fma(ul, TVec.Load(p + c + l), TVec.Load(lp + l)), lp + l);
                    TVec.Store(TVec.Fma(ul, TVec.Load(n + c + l), TVec.Load(ln + l)), ln + l);
                }
            }
        }
        for (int c = full; c < d; c++)
        {
            lp[c - full] = MathF.FusedMultiplyAdd(u[c], p[c], lp[c - full]);
            ln[c - full] = MathF.FusedMultiplyAdd(u[c], n[c], ln[c - full]);
        }
        dp = FloatLanes16.Tree(lp);
        dn = FloatLanes16.Tree(ln);
    }

    // Each element of the group's row: acc = fma(coef, src, acc) over the contributions in batch order,
    // in chunks of the tier's width, then 8 lanes (wider tiers), then one by one.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Scatter<TVec>(int g)
        where TVec : struct, IFloatVector<TVec>
    {
        BprBatchPlan plan = Plan;
        int d = _width;
        bool userGroup = g < plan.UserGroups;
        float* target = (userGroup ? _userGradient : _itemGradient) + (long)plan.GroupRows[g] * d;
        int first = plan.GroupStart[g], last = plan.GroupStart[g + 1];
        int j = 0;
        for (; j + TVec.Count <= d; j += TVec.Count)
        {
            ScatterChunk<TVec>(plan, target, first, last, j);
        }
        if (TVec.Count > 8)
        {
            for (; j + 8 <= d; j += 8)
            {
                ScatterChunk<Float256>(plan, target, first, last, j);
            }
        }
        for (; j < d; j++)
        {
            ScatterChunk<Float1>(plan, target, first, last, j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ScatterChunk<TVec>(BprBatchPlan plan, float* target, int first, int last, int j)
        where TVec : struct, IFloatVector<TVec>
    {
        TVec acc = TVec.Zero;
        for (int k = first; k < last; k++)
        {
            float coef = Contribution(plan.Entries[k], j, out float* a, out float* b);
            TVec src = b == null ? TVec.Load(a) : TVec.Sub(TVec.Load(a), TVec.Load(b));
            acc = TVec.Fma(TVec.Splat(coef), src, acc);
        }
        TVec.Store(_accumulate ? TVec.Add(TVec.Load(target + j), acc) : acc, target + j);
    }

    // Contribution code c = 3t + kind (see BprBatchPlan) at column j: ∂e_u += −s·(e_i⁺ − e_i⁻),
    // ∂e_i⁺ += −s·e_u, ∂e_i⁻ += s·e_u. Returns the coefficient; the source is *a, or *a − *b when b is set.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Contribution(int code, int j, out float* a, out float* b)
    {
        int t = code / BprBatchPlan.KindCount, kind = code - t * BprBatchPlan.KindCount;
        int d = _width;
        float s = _s[t];
        if (kind == 0)
        {
            a = _itemTable + (long)_positives[t] * d + j;
            b = _itemTable + (long)_negatives[t] * d + j;
            return -s;
        }
        a = _userTable + (long)_users[t] * d + j;
        b = null;
        return kind == 1 ? -s : s;
    }
}
