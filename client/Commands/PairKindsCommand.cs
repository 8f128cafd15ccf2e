using System.CommandLine;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Options;
using SparOrleans.Core.Simulation;
using SparOrleans.Experiments;
using SparOrleans.Experiments.Statistics;
using static SparOrleans.Client.Commands.ExperimentCommand;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar experiment pairs</c>: Figure 4's two synthetic tasks (character sequences, start/end stories), refinement
/// pairs against interfering pairs; writes <c>docs/results/pairs/</c> (table.md, results.json, one plot per task) and
/// its section of <c>docs/results.md</c>.
/// </summary>
public static class PairKindsCommand
{
    public const string Name = PairKindsReport.ExperimentName;

    public const string Letters = PairKindsReport.Letters, Story = PairKindsReport.Story, Both = PairKindsReport.Both;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new PairKindsOptions();
        var task = new Option<string>("--task") { Description = "letters, story or both (default both)", DefaultValueFactory = _ => Both };
        task.AcceptOnlyFromAmong(Letters, Story, Both);
        var seeds = new Option<int>("--seeds") { Description = $"Seeds 0..S-1 (default {defaults.Seeds}; claims need at least {PairedTests.MinimumSeeds})", DefaultValueFactory = _ => defaults.Seeds };
        var steps = new Option<int>("--steps") { Description = $"DPO steps per pair kind (default {defaults.DpoSteps})", DefaultValueFactory = _ => defaults.DpoSteps };
        var every = new Option<int>("--eval-every") { Description = $"Measure every this many DPO steps (default {defaults.EvalEvery})", DefaultValueFactory = _ => defaults.EvalEvery };
        var sft = new Option<int?>("--sft-steps") { Description = "SFT steps of the shared start (default: the task's, letters 200, story 800)" };
        var lr = new Option<double?>("--lr") { Description = "DPO learning rate (default: the task's, letters 3e-4, story 3e-5)" };
        var (output, results) = Destinations(Name, "table.md, results.json and one plot per task");
        var fromResults = FromResultsOption();
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command(Name, """
            Figure 4: a tiny actor SFT'd on one synthetic task, then DPO on refinement pairs (only the key difference
            fixed) or interfering pairs (also an irrelevant factor changed) against the same negatives; held-out accuracy
            per step, mean ± std over seeds. Character sequences ("Write N letters x", interfering factor: uppercase)
            and start/end stories (interfering factor: the story told between the fixed first and last sentences).
            Example: spar experiment pairs --seeds 5
            """)
        {
            task, seeds, steps, every, sft, lr, output, results, fromResults, format,
        };
        command.SetAction(async (parse, ct) =>
        {
            var (dir, resultsPath) = ExperimentCommand.WritableDestinations(parse, output, results);
            var options = (defaults with
            {
                Seeds = parse.GetValue(seeds), DpoSteps = parse.GetValue(steps), EvalEvery = parse.GetValue(every),
                SftSteps = parse.GetValue(sft), DpoLearningRate = parse.GetValue(lr),
            }).Validated();
            var json = parse.GetValue(format) == OutputFormat.Json;
            var human = json ? stderr : stdout;
            var progress = new Progress<string>(line => human.WriteLine(line));
            var which = parse.GetValue(task)!;
            var runs = new List<PairKindsResult>();
            if (parse.GetValue(fromResults) is { } file)
            {
                runs.AddRange(ResultsPart<List<PairKindsResult>>(ReadResults(file), "results", file));
            }
            else
            {
                if (which is Letters or Both)
                {
                    runs.Add(await PairKindsExperiment.RunAsync(options, new LetterPairTask(options.MaxCount), progress, ct));
                }
                if (which is Story or Both)
                {
                    runs.Add(await PairKindsExperiment.RunAsync(options, new StoryPairTask(), progress, ct));
                }
            }
            return await Publish(PairKindsReport.Instance, runs, dir, resultsPath, stdout, stderr, json);
        });
        return command;
    }
}
