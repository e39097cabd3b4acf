// A test seam: deliberately broken variants of the training step, so the tests can show
// that their learning checks fail when learning is broken (not only that they pass when it
// works). Internal (the test project sees it through InternalsVisibleTo); None in every
// public use.
namespace Stair.Recommender.Training;

/// <summary>A deliberate fault in <see cref="StairTrainer"/>'s training step (tests only).</summary>
internal enum TrainerFault
{
    /// <summary>The real training step.</summary>
    None = 0,

    /// <summary>The BPR gradient ∂Z is negated before FSC backward (gradient ascent on the loss).</summary>
    FlipBprGradient,

    /// <summary>FSC backward is replaced by a zero gradient ∂E = 0 (AdamW then only decays the tables).</summary>
    ZeroFscBackward,

    /// <summary>Neither AdamW step (users, items, BSC or plain) is applied: the tables never change.</summary>
    SkipAdamW,
}
