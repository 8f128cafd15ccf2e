using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Runs;

/// <summary>
/// Phases in words, for every view a person reads (progress bars, <c>spar watch</c>, the web page): the enum names
/// are the code's (<c>ActorTraining</c>, <c>Searching</c>), not what a researcher calls the step. JSON keeps the enum
/// names, which scripts match on.
/// </summary>
public static class PhaseNames
{
    public static string Of(RunPhase phase) => phase switch
    {
        RunPhase.Starting => "starting",
        RunPhase.BootstrapActor => "bootstrap actor SFT (M_0)",
        RunPhase.BootstrapRefiner => "bootstrap refiner SFT (R_0)",
        RunPhase.Sampling => "sampling the actor's responses",
        RunPhase.Judging => "judging the samples (voting)",
        RunPhase.Search => "refining negatives (tree search)",
        RunPhase.ActorTraining => "training the actor (DPO)",
        RunPhase.RefinerTraining => "training the refiner (RFT)",
        RunPhase.Evaluation => "held-out evaluation",
        RunPhase.Done => "done",
        _ => phase.ToString(),
    };

    public static string Of(PromptPhase phase) => phase switch
    {
        PromptPhase.New => "not started",
        PromptPhase.Sampled => "sampled, waiting to be judged",
        PromptPhase.Judged => "judged, waiting for its search",
        PromptPhase.Searching => "refining (tree search)",
        PromptPhase.Done => "done",
        _ => phase.ToString(),
    };
}
