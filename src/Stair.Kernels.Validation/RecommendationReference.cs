// Float64 references for the BPR loss and full-ranking evaluation (kernels.md, BprLoss),
// written as plainly as the formulas and sharing no code with the kernels; the tests and
// `stair-kernels validate` measure the kernels against these.
namespace Stair.Kernels.Validation;

/// <summary>The BPR loss, its gradient and the forward-error bounds a float32 kernel must meet.</summary>
/// <param name="Loss">Mean softplus(−x).</param>
/// <param name="Gradient">∂loss/∂table, row-major like the table.</param>
/// <param name="LossBound">Bound on a float32 kernel's loss error.</param>
/// <param name="GradientBound">Per element: bound on a float32 kernel's gradient error.</param>
public sealed record BprReferenceResult(double Loss, double[] Gradient, double LossBound, double[] GradientBound);

/// <summary>Plain float64 implementations of the recommendation-side kernels.</summary>
public static class RecommendationReference
{
    private const double U = Float64Reference.UnitRoundoff;

    /// <summary>
    /// BPR on one table (users in rows [0, itemOffset), item i at row itemOffset + i), straight from the formulas.
    /// The bounds: each dot of d terms is off by at most γ_d·Σ|a_j b_j| (with 2× slack); x's error δx moves
    /// softplus by at most δx and s = σ(−x)/B by at most δx/(4B); each gradient element is a chain of m FMAs
    /// with coefficients off by δs, so its error is at most Σ (δs + 2(m + 3)·u·s)·|src|.
    /// </summary>
    public static BprReferenceResult Bpr(ReadOnlySpan<float> table, int width, int itemOffset, ReadOnlySpan<int> users,
        ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives)
    {
        int b = users.Length, d = width;
        var gradient = new double[table.Length];
        var bound = new double[table.Length];
        var count = new int[table.Length / d];
        for (int t = 0; t < b; t++)
        {
            count[users[t]]++;
            count[itemOffset + positives[t]]++;
            count[itemOffset + negatives[t]]++;
        }
        double loss = 0, lossBound = 0;
        for (int t = 0; t < b; t++)
        {
            long u = (long)users[t] * d, p = (long)(itemOffset + positives[t]) * d, n = (long)(itemOffset + negatives[t]) * d;
            double x = 0, xAbs = 0;
            for (int j = 0; j < d; j++)
            {
                x += (double)table[(int)(u + j)] * table[(int)(p + j)] - (double)table[(int)(u + j)] * table[(int)(n + j)];
                xAbs += Math.Abs((double)table[(int)(u + j)] * table[(int)(p + j)]) + Math.Abs((double)table[(int)(u + j)] * table[(int)(n + j)]);
            }
            double dx = 2 * (d + 2) * U * xAbs;
            loss += -x > 0 ? -x + Math.Log(1 + Math.Exp(x)) : Math.Log(1 + Math.Exp(-x)); // log(1 + e^−x), never overflowing
            lossBound += dx;
            double s = 1 / (1 + Math.Exp(x)) / b;
            double ds = dx / (4.0 * b) + 2 * U * s;
            for (int j = 0; j < d; j++)
            {
                double eu = table[(int)(u + j)], ep = table[(int)(p + j)], en = table[(int)(n + j)];
                gradient[u + j] += -s * (ep - en);
                gradient[p + j] += -s * eu;
                gradient[n + j] += s * eu;
                bound[u + j] += (ds + 2 * (count[users[t]] + 3) * U * s) * Math.Abs(ep - en);
                bound[p + j] += (ds + 2 * (count[itemOffset + positives[t]] + 3) * U * s) * Math.Abs(eu);
                bound[n + j] += (ds + 2 * (count[itemOffset + negatives[t]] + 3) * U * s) * Math.Abs(eu);
            }
        }
        return b == 0 ? new BprReferenceResult(0, gradient, 0, bound)
            : new BprReferenceResult(loss / b, gradient, lossBound / b + 4 * U * Math.Abs(loss / b), bound);
    }

    /// <summary>
    /// Each user's top-k items by the float64 score e_u·e_i, excluded items left out, best first, ties to the
    /// lower index; a user with fewer than k candidates is padded with −1. Users × k indices.
    /// </summary>
    public static int[] TopK(ReadOnlySpan<float> users, ReadOnlySpan<float> items, int width, CsrMatrix excluded, int k)
    {
        int userCount = users.Length / width, itemCount = items.Length / width;
        var result = new int[userCount * k];
        var scored = new List<(double Score, int Item)>(itemCount);
        for (int u = 0; u < userCount; u++)
        {
            var skip = new HashSet<int>(excluded.RowColumns(u).ToArray());
            scored.Clear();
            for (int i = 0; i < itemCount; i++)
            {
                if (skip.Contains(i))
                {
                    continue;
                }
                double s = 0;
                for (int j = 0; j < width; j++)
                {
                    s += (double)users[u * width + j] * items[i * width + j];
                }
                scored.Add((s, i));
            }
            scored.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
            for (int r = 0; r < k; r++)
            {
                result[u * k + r] = r < scored.Count ? scored[r].Item : -1;
            }
        }
        return result;
    }

    /// <summary>
    /// Recall@k and NDCG@k averaged over the users with at least one relevant item, from ranked lists
    /// (users × <paramref name="listLength"/>, best first, −1 = no item): Recall = hits / |relevant|,
    /// DCG = Σ_{r: hit} 1/log2(r + 2), IDCG over min(|relevant|, k) positions.
    /// </summary>
    public static (double Recall, double Ndcg, int Evaluated) Metrics(ReadOnlySpan<int> ranked, int listLength, CsrMatrix relevant, int k)
    {
        double recall = 0, ndcg = 0;
        int evaluated = 0;
        for (int u = 0; u < relevant.Rows; u++)
        {
            var rel = new HashSet<int>(relevant.RowColumns(u).ToArray());
            if (rel.Count == 0)
            {
                continue;
            }
            evaluated++;
            double hits = 0, dcg = 0, idcg = 0;
            for (int r = 0; r < k; r++)
            {
                if (rel.Contains(ranked[u * listLength + r]))
                {
                    hits++;
                    dcg += 1 / Math.Log2(r + 2);
                }
            }
            for (int r = 0; r < Math.Min(rel.Count, k); r++)
            {
                idcg += 1 / Math.Log2(r + 2);
            }
            recall += hits / rel.Count;
            ndcg += dcg / idcg;
        }
        return evaluated == 0 ? (0, 0, 0) : (recall / evaluated, ndcg / evaluated, evaluated);
    }
}
