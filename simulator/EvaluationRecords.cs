namespace SparOrleans.Simulator;

/// <summary>The actor's IFEval accuracies on the world's held-out benchmark (fractions in [0, 1]), greedy decoding.</summary>
public sealed record ActorHeldOutScore(double PromptStrict, double InstructionStrict, double PromptLoose, double InstructionLoose,
    int Prompts, double Seconds);

/// <summary>
/// The refiner as a judge, greedy and by majority vote, on the fixed teacher cases (held-out answers and near
/// misses, half each) plus R_0's frozen set (<see cref="FrozenJudgeSet"/>: M_0's samples on held-out prompts, the
/// loop's distribution) or, for a refiner without one, balanced cases from the actor's own held-out answers
/// (<see cref="ActorCasesGreedy"/>); the parts are also given alone. Each <see cref="JudgmentScore"/> carries the
/// operating point (Yes rate, precision of Yes, recall of each class) and each case's correctness.
/// </summary>
public sealed record RefinerJudgmentScore(JudgmentScore Greedy, JudgmentScore Vote, JudgmentScore TeacherCasesGreedy,
    JudgmentScore? ActorCasesGreedy, int Votes, double Seconds, JudgmentScore? TeacherCasesVote = null,
    JudgmentScore? FrozenGreedy = null, JudgmentScore? FrozenVote = null);

/// <summary>Refinement of held-out near misses given the teacher's judgment: success = the parsed refinement follows every constraint.</summary>
public sealed record RefinementScore(int Cases, double Success, double Parsed, double MeanSimilarity, double Seconds);

/// <summary>One evaluation point (M_t, R_t): what summary.json reports per iteration.</summary>
public sealed record EvaluationReport(ActorHeldOutScore Actor, RefinerJudgmentScore Judgment, RefinementScore Refinement)
{
    public double Seconds => Actor.Seconds + Judgment.Seconds + Refinement.Seconds;
}
