// The CPU BPR loss (kernels.md, BprLoss) over one batch, in two parallel phases:
//   1. per triple b: x_b = e_u·e_i⁺ − e_u·e_i⁻ (two tier-identical 16-lane dots), the loss term
//      softplus(−x_b) and s_b = σ(−x_b)/B, both evaluated in float64 in their stable forms;
//   2. per gradient row (a group of BprBatchPlan): the sum of its contributions in batch order,
//      acc = fma(coef, src, acc) element by element, then stored (overwrite) or added (accumulate).
// Each element of phase 2 is one FMA chain whatever the vector width, so every SIMD tier and
// thread count gives the same bits. The loss is summed over b in order, in float64.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Stair.Kernels.Cpu.BprLoss;

[SkipLocalsInit]
internal sealed unsafe class BprLossDriver : ParallelJob
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

    /// <summary>A driver for the calling thread's host API calls (reused: allocation-free after warm-up).</summary>
    public static BprLossDriver ForCurrentThread() => t_cached ??= new BprLossDriver();

    /// <summary>Runs one batch; arguments are validated by the caller. Returns the mean loss.</summary>
    public double Run(SimdTier tier, int threads, float* userTable, float* itemTable, int userRows, int itemRows, int width,
        ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives,
        float* userGradient, float* itemGradient, bool accumulate)
    {
        int b = users.Length;
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
        return loss / b;
    }

    public override void Execute(int part)
    {
        if (_phase == 0)
        {
            int b = Plan.Count;
            int end = Math.Min(b, (part + 1) * TriplesPerPart);
            for (int t = part * TriplesPerPart; t < end; t++)
            {
                Score(t, b);
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
                Scatter(g);
            }
        }
    }

    private void Score(int t, int batch)
    {
        int d = _width;
        DotPair(_tier, _userTable + (long)_users[t] * d, _itemTable + (long)_positives[t] * d, _itemTable + (long)_negatives[t] * d, d,
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
    /// lanes are added in the fixed tree (l += l + 8, + 4, + 2, + 1). Every tier performs exactly
    /// these operations, so the dots are the same bits on each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void DotPair(SimdTier tier, float* u, float* p, float* n, int d, out float dp, out float dn)
    {
        int full = d & ~15;
        if (tier == SimdTier.Avx512 && full == d)
        {
            Vector512<float> ap = Vector512<float>.Zero, an = ap;
            for (int c = 0; c < d; c += 16)
            {
                Vector512<float> vu = Vector512.Load(u + c);
                ap = Vector512.FusedMultiplyAdd(vu, Vector512.Load(p + c), ap);
                an = Vector512.FusedMultiplyAdd(vu, Vector512.Load(n + c), an);
            }
            dp = Tree(ap);
            dn = Tree(an);
            return;
        }
        float* lp = stackalloc float[16];
        float* ln = stackalloc float[16];
        if (tier == SimdTier.Avx512)
        {
            Vector512<float> ap = Vector512<float>.Zero, an = ap;
            for (int c = 0; c < full; c += 16)
            {
                Vector512<float> vu = Vector512.Load(u + c);
                ap = Vector512.FusedMultiplyAdd(vu, Vector512.Load(p + c), ap);
                an = Vector512.FusedMultiplyAdd(vu, Vector512.Load(n + c), an);
            }
            ap.Store(lp);
            an.Store(ln);
        }
        else if (tier == SimdTier.Avx2)
        {
            Vector256<float> pLo = Vector256<float>.Zero, pHi = pLo, nLo = pLo, nHi = pLo;
            for (int c = 0; c < full; c += 16)
            {
                Vector256<float> uLo = Vector256.Load(u + c), uHi = Vector256.Load(u + c + 8);
                pLo = Vector256.FusedMultiplyAdd(uLo, Vector256.Load(p + c), pLo);
                pHi = Vector256.FusedMultiplyAdd(uHi, Vector256.Load(p + c + 8), pHi);
                nLo = Vector256.FusedMultiplyAdd(uLo, Vector256.Load(n + c), nLo);
                nHi = Vector256.FusedMultiplyAdd(uHi, Vector256.Load(n + c + 8), nHi);
            }
            pLo.Store(lp);
            pHi.Store(lp + 8);
            nLo.Store(ln);
            nHi.Store(ln + 8);
        }
        else
        {
            for (int l = 0; l < 16; l++)
            {
                lp[l] = 0f;
                ln[l] = 0f;
            }
            for (int c = 0; c < full; c += 16)
            {
                for (int l = 0; l < 16; l++)
                {
                    lp[l] = MathF.FusedMultiplyAdd(u[c + l], p[c + l], lp[l]);
                    ln[l] = MathF.FusedMultiplyAdd(u[c + l], n[c + l], ln[l]);
                }
            }
        }
        for (int c = full; c < d; c++)
        {
            lp[c - full] = MathF.FusedMultiplyAdd(u[c], p[c], lp[c - full]);
            ln[c - full] = MathF.FusedMultiplyAdd(u[c], n[c], ln[c - full]);
        }
        for (int half = 8; half >= 1; half /= 2)
        {
            for (int l = 0; l < half; l++)
            {
                lp[l] += lp[l + half];
                ln[l] += ln[l + half];
            }
        }
        dp = lp[0];
        dn = ln[0];
    }

    // The lane tree l += l + 8, l += l + 4, l += l + 2, l += l + 1 on a register.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tree(Vector512<float> v)
    {
        Vector256<float> a = v.GetLower() + v.GetUpper();
        Vector128<float> b = a.GetLower() + a.GetUpper();
        float c0 = b.GetElement(0) + b.GetElement(2), c1 = b.GetElement(1) + b.GetElement(3);
        return c0 + c1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Scatter(int g)
    {
        BprBatchPlan plan = Plan;
        int d = _width;
        bool userGroup = g < plan.UserGroups;
        float* target = (userGroup ? _userGradient : _itemGradient) + (long)plan.GroupRows[g] * d;
        int first = plan.GroupStart[g], last = plan.GroupStart[g + 1];
        int j = 0;
        if (_tier == SimdTier.Avx512)
        {
            for (; j + 16 <= d; j += 16)
            {
                Vector512<float> acc = Vector512<float>.Zero;
                for (int k = first; k < last; k++)
                {
                    float coef = Contribution(plan.Entries[k], j, out float* a, out float* b);
                    Vector512<float> src = b == null ? Vector512.Load(a) : Vector512.Load(a) - Vector512.Load(b);
                    acc = Vector512.FusedMultiplyAdd(Vector512.Create(coef), src, acc);
                }
                Vector512.Store(_accumulate ? Vector512.Load(target + j) + acc : acc, target + j);
            }
        }
        if (_tier != SimdTier.Scalar)
        {
            for (; j + 8 <= d; j += 8)
            {
                Vector256<float> acc = Vector256<float>.Zero;
                for (int k = first; k < last; k++)
                {
                    float coef = Contribution(plan.Entries[k], j, out float* a, out float* b);
                    Vector256<float> src = b == null ? Vector256.Load(a) : Vector256.Load(a) - Vector256.Load(b);
                    acc = Vector256.FusedMultiplyAdd(Vector256.Create(coef), src, acc);
                }
                Vector256.Store(_accumulate ? Vector256.Load(target + j) + acc : acc, target + j);
            }
        }
        for (; j < d; j++)
        {
            float acc = 0f;
            for (int k = first; k < last; k++)
            {
                float coef = Contribution(plan.Entries[k], j, out float* a, out float* b);
                float src = b == null ? *a : *a - *b;
                acc = MathF.FusedMultiplyAdd(coef, src, acc);
            }
            target[j] = _accumulate ? target[j] + acc : acc;
        }
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
