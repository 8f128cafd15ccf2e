using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Engine.Model;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator.Tests;

/// <summary>M_0 and R_0 bootstrapped once with the tiny options, shared by the tests that need real checkpoints.</summary>
public sealed class TinyBootstrapFixture : IAsyncLifetime
{
    public string Root { get; } = TestPaths.TempDir();

    public string ActorDir => Path.Combine(Root, "actor-0");

    public string RefinerDir => Path.Combine(Root, "refiner-0");

    public BootstrapResult Actor { get; private set; } = null!;

    public BootstrapResult Refiner { get; private set; } = null!;

    public List<StepProgress> Progress { get; } = [];

    public async Task InitializeAsync()
    {
        var progress = new SynchronousProgress<StepProgress>(p =>
        {
            lock (Progress)
            {
                Progress.Add(p);
            }
        });
        Actor = await Bootstrap.TrainActorAsync(SimulatorOptions.Tiny, ActorDir, progress);
        Refiner = await Bootstrap.TrainRefinerAsync(SimulatorOptions.Tiny, ActorDir, RefinerDir, progress);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }
}

public class TrainingAndEvaluationTests(TinyBootstrapFixture fixture) : IClassFixture<TinyBootstrapFixture>
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;
    private static readonly SimulatorOptions Tiny = SimulatorOptions.Tiny;

    private static float[] Weights(string dir, string name = "model.embed_tokens.weight")
    {
        using var model = ModelCheckpoint.Load(dir);
        return model.Network.state_dict()[name].data<float>().ToArray();
    }

    [Fact]
    public void Bootstrap_TinyOptions_SavesLoadableModelsWithCounts()
    {
        using var actor = ModelCheckpoint.Load(fixture.ActorDir);
        using var refiner = ModelCheckpoint.Load(fixture.RefinerDir);
        Assert.Equal(Tiny.HiddenSize, actor.Config.HiddenSize);
        Assert.Equal("M0", actor.Version);
        Assert.Equal("R0", refiner.Version);
        Assert.Equal(Tiny.ActorExamples, fixture.Actor.Counts["examples"]);
        Assert.Equal(Tiny.ActorSft.MaxSteps, fixture.Actor.Steps);
        var c = fixture.Refiner.Counts;
        Assert.Equal(Tiny.RefinerSamplePrompts, c["own_samples"]);
        var plan = BootstrapData.Plan(c["own_samples_following"], c["own_samples"] - c["own_samples_following"], Tiny.RefinerMix);
        Assert.Equal(plan.Total, fixture.Refiner.Examples);
        Assert.Equal((plan.OwnYes, plan.OwnNo, plan.TeacherYes, plan.TeacherNo), (c["own_yes"], c["own_no"], c["teacher_yes"], c["teacher_no"]));
        // The set is smaller than MaxSteps × BatchSize: the epochs are raised until MaxSteps is reached.
        Assert.Equal(Tiny.RefinerSft.MaxSteps, fixture.Refiner.Steps);
        Assert.Equal(Tiny.FrozenJudgeCases, c["frozen_judge_cases"]);
        Assert.True(fixture.Actor.FinalLoss > 0 && fixture.Refiner.FinalLoss > 0);
        Assert.False(Directory.EnumerateDirectories(fixture.Root, "*.tmp-*").Any());
    }

    [Fact]
    public void Bootstrap_TinyOptions_ReportsTrainingStepsForProgressBars()
    {
        List<StepProgress> steps;
        lock (fixture.Progress)
        {
            steps = [.. fixture.Progress];
        }
        var actor = steps.Where(p => p.Phase == "actor-sft").ToList();
        Assert.Equal(Enumerable.Range(1, Tiny.ActorSft.MaxSteps), actor.Select(p => p.Done));
        Assert.All(actor, p => Assert.Equal(Tiny.ActorSft.MaxSteps, p.Total));
        Assert.All(actor, p => Assert.NotNull(p.Loss));
        Assert.Contains(steps, p => p.Phase == "refiner-sampling" && p.Done == Tiny.RefinerSamplePrompts);
        Assert.Contains(steps, p => p.Phase == "refiner-sft" && p.Done == Tiny.RefinerSft.MaxSteps);
    }

    [Fact]
    public async Task Bootstrap_RefinerFromActor_StartsFromTheActorsWeights()
    {
        // With a learning rate of 0 the refiner keeps its starting weights: M_0's.
        var dir = Path.Combine(fixture.Root, "refiner-lr0");
        var options = Tiny with { RefinerSft = Tiny.RefinerSft with { LearningRate = 1e-12 } };
        await Bootstrap.TrainRefinerAsync(options, fixture.ActorDir, dir);
        var a = Weights(fixture.ActorDir);
        var r = Weights(dir);
        Assert.Equal(a.Length, r.Length);
        Assert.True(a.Zip(r).Max(p => Math.Abs(p.First - p.Second)) < 1e-6);
    }

    [Fact]
    public async Task Bootstrap_SubwordVocabulary_BothModelsSpeakItAndAreEvaluated()
    {
        // A fresh R_0 too: it must inherit M_0's vocabulary, not start byte-level.
        var options = Tiny with { SubwordMerges = 64, RefinerInit = RefinerInit.Fresh };
        var (actorDir, refinerDir) = (Path.Combine(fixture.Root, "actor-bpe"), Path.Combine(fixture.Root, "refiner-bpe"));
        await Bootstrap.TrainActorAsync(options, actorDir);
        await Bootstrap.TrainRefinerAsync(options, actorDir, refinerDir);
        using (var actor = ModelCheckpoint.Load(actorDir))
        using (var refiner = ModelCheckpoint.Load(refinerDir))
        {
            Assert.Equal("hf-bpe", actor.Tokenizer.Kind);
            Assert.Equal("compact", actor.Template.Name);
            Assert.True(actor.Tokenizer.VocabSize > 264, $"vocabulary {actor.Tokenizer.VocabSize}");
            Assert.Equal(File.ReadAllText(Path.Combine(actorDir, "tokenizer.json")), File.ReadAllText(Path.Combine(refinerDir, "tokenizer.json")));
            Assert.Equal(actor.Config.VocabSize, refiner.Config.VocabSize);
        }
        var (score, judge, teacher, frozen) = await Evaluation.EvaluateLoopAsync(actorDir, refinerDir, options);
        Assert.Equal(Tiny.HeldOutCount, score.Prompts);
        Assert.True(frozen);
        Assert.Equal(Tiny.FrozenJudgeCases, judge.Cases);
        Assert.Equal(Tiny.JudgeEvalCases, teacher.Cases);
        Assert.InRange(judge.Accuracy, 0, 1);
    }

    [Fact]
    public async Task TrainActorDpo_Pairs_WritesNewCheckpointAndTrlMetrics()
    {
        var prompts = BootstrapData.Prompts(6, 31, World.Composition.WorldSplit.Train, threads: 1);
        var pairs = prompts.Select((p, i) => new DpoPair(p.Text, Teacher.Answer(p, i), Teacher.Flawed(p, 1, i)?.Response ?? "x")).ToList();
        var dir = Path.Combine(fixture.Root, "actor-1");
        var result = await IterationTraining.TrainActorDpo(fixture.ActorDir, dir, pairs, Tiny);
        Assert.False(result.Copied);
        Assert.Equal(6, result.Examples);
        Assert.Equal(2, result.Steps);
        using var model = ModelCheckpoint.Load(dir);
        Assert.Equal("actor-1", model.Version);
        var lines = File.ReadAllLines(result.MetricsPath!);
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"rewards/margins\"", lines[^1]);
        Assert.Contains("nll_loss", result.LastMetrics.Keys);
        Assert.NotEqual(Weights(fixture.ActorDir), Weights(dir));
    }

    [Fact]
    public async Task TrainRefinerRft_Examples_WritesNewCheckpointAndMetrics()
    {
        var prompts = BootstrapData.Prompts(5, 32, World.Composition.WorldSplit.Train, threads: 1);
        var examples = prompts.Select((p, i) => BootstrapData.Judgment(p, Teacher.Answer(p, i))).ToList();
        var dir = Path.Combine(fixture.Root, "refiner-1");
        var result = await IterationTraining.TrainRefinerRft(fixture.RefinerDir, dir, examples, Tiny);
        Assert.False(result.Copied);
        Assert.Equal(2, result.Steps);
        Assert.Equal(2, File.ReadAllLines(result.MetricsPath!).Length);
        Assert.True(result.LastMetrics["loss"] > 0);
        Assert.NotEqual(Weights(fixture.RefinerDir), Weights(dir));
    }

    [Fact]
    public async Task Bootstrap_BootstrapSeedSet_TrainsTheSameM0WhateverTheLoopSeed()
    {
        var dir = Path.Combine(fixture.Root, "actor-bootstrap-seed");

        await Bootstrap.TrainActorAsync(Tiny with { Seed = Tiny.Seed + 40, BootstrapSeed = Tiny.Seed }, dir);

        Assert.Equal(Weights(fixture.ActorDir), Weights(dir));
    }

    [Fact]
    public async Task TrainActorSft_RefinedResponses_RaisesTheirLikelihoodAndIgnoresTheRejectedSide()
    {
        var prompts = BootstrapData.Prompts(6, 33, World.Composition.WorldSplit.Train, threads: 1);
        var refined = prompts.Select((p, i) => new DpoPair(p.Text, Teacher.Answer(p, i), "unused")).ToList();
        var dir = Path.Combine(fixture.Root, "actor-sft");

        var result = await IterationTraining.TrainActorSft(fixture.ActorDir, dir, refined, Tiny);
        var again = await IterationTraining.TrainActorSft(fixture.ActorDir, Path.Combine(fixture.Root, "actor-sft-other-rejected"),
            refined.Select(p => p with { Rejected = "something else entirely" }).ToList(), Tiny);

        Assert.False(result.Copied);
        Assert.Equal(6, result.Examples);
        Assert.Contains("sft:", result.Message);
        var losses = File.ReadAllLines(result.MetricsPath!).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToList();
        Assert.True(losses[^1] < losses[0], $"SFT loss did not fall: {string.Join(", ", losses)}");
        Assert.NotEqual(Weights(fixture.ActorDir), Weights(dir));
        Assert.Equal(Weights(dir), Weights(again.ModelDir));
    }

    [Fact]
    public async Task TrainRefinerJudgeDpo_JudgePairsInPlace_ReplacesTheCheckpointWithDpoMetrics()
    {
        var prompts = BootstrapData.Prompts(4, 34, World.Composition.WorldSplit.Train, threads: 1);
        var pairs = prompts.Select((p, i) =>
        {
            var answer = Teacher.Answer(p, i);
            return new DpoPair(Format.JudgePrompt(p.Text, answer)[^1].Content, BootstrapData.Judgment(p, answer).Messages[^1].Content, "=> no");
        }).ToList();
        var dir = Path.Combine(fixture.Root, "refiner-judge");
        CopyDirectory(fixture.RefinerDir, dir);

        var result = await IterationTraining.TrainRefinerJudgeDpo(dir, dir, pairs, Tiny);

        Assert.False(result.Copied);
        Assert.Contains("judge-dpo:", result.Message);
        Assert.Contains("\"rewards/accuracies\"", File.ReadAllLines(result.MetricsPath!)[^1]);
        Assert.NotEqual(Weights(fixture.RefinerDir), Weights(dir));
    }

    [Fact]
    public async Task EvaluateLoopAsync_TinyModels_EqualsTheFullEvaluationsActorAndGreedyJudge()
    {
        var full = await Evaluation.EvaluateAsync(fixture.ActorDir, fixture.RefinerDir, Tiny);

        var (actor, judge, teacher, frozen) = await Evaluation.EvaluateLoopAsync(fixture.ActorDir, fixture.RefinerDir, Tiny);

        Assert.True(frozen);
        Assert.Equal(full.Actor with { Seconds = 0 }, actor with { Seconds = 0 });
        Assert.Equal(full.Judgment.FrozenGreedy, judge);
        Assert.Equal(full.Judgment.TeacherCasesGreedy, teacher);
        Assert.Null(full.Judgment.ActorCasesGreedy);
        Assert.Equal(Tiny.FrozenJudgeCases, judge.Correct!.Length);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    [Fact]
    public async Task TrainSteps_EmptyData_CopyTheModelAndSaySo()
    {
        var dpo = await IterationTraining.TrainActorDpo(fixture.ActorDir, Path.Combine(fixture.Root, "actor-empty"), [], Tiny);
        var rft = await IterationTraining.TrainRefinerRft(fixture.RefinerDir, Path.Combine(fixture.Root, "refiner-empty"), [], Tiny);
        Assert.True(dpo.Copied && rft.Copied);
        Assert.Equal(0, dpo.Steps);
        Assert.Null(rft.MetricsPath);
        Assert.Contains("no dpo data", dpo.Message);
        Assert.Contains("no rft data", rft.Message);
        Assert.Equal(Weights(fixture.ActorDir), Weights(dpo.ModelDir));
        Assert.Equal(Weights(fixture.RefinerDir), Weights(rft.ModelDir));
        // R_0's frozen judge set travels with every refiner trained from it, and to no actor.
        Assert.Equal(File.ReadAllText(Path.Combine(fixture.RefinerDir, FrozenJudgeSet.FileName)), File.ReadAllText(Path.Combine(rft.ModelDir, FrozenJudgeSet.FileName)));
        Assert.False(File.Exists(Path.Combine(dpo.ModelDir, FrozenJudgeSet.FileName)));
    }

    [Fact]
    public async Task EvaluateAsync_TinyModels_ReportsEveryFigureInRange()
    {
        var report = await Evaluation.EvaluateAsync(fixture.ActorDir, fixture.RefinerDir, Tiny);
        Assert.Equal(Tiny.HeldOutCount, report.Actor.Prompts);
        Assert.InRange(report.Actor.PromptStrict, 0, report.Actor.PromptLoose);
        Assert.Equal(Tiny.JudgeEvalCases, report.Judgment.TeacherCasesGreedy.Cases);
        Assert.InRange(report.Judgment.Greedy.Accuracy, 0, 1);
        Assert.InRange(report.Judgment.Vote.Accuracy, 0, 1);
        Assert.Equal(Tiny.RefineEvalCases, report.Refinement.Cases);
        Assert.InRange(report.Refinement.Success, 0, report.Refinement.Parsed);
        // The grains store these records as JSON: every number must be finite.
        var json = System.Text.Json.JsonSerializer.Serialize(report);
        Assert.Contains("PromptStrict", json);
    }
}

public class ScoringTests
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    [Fact]
    public void ScoreActor_TeacherAnswersAndNearMisses_CountsThroughTheIfEvalScorer()
    {
        var prompts = Evaluation.HeldOutPrompts(12, 77);
        // Answers for the first 8 prompts, single-constraint near misses for the last 4.
        var responses = prompts.Select((p, i) => i < 8 ? Teacher.Answer(p, i) : Teacher.Flawed(p, 1, i)?.Response ?? "").ToList();
        var score = Evaluation.ScoreActor(prompts, responses);
        Assert.Equal(8 / 12.0, score.PromptStrict, 9);
        var instructions = prompts.Sum(p => p.Level);
        var followed = prompts.Select((p, i) => p.Check(responses[i]).Count(x => x)).Sum();
        Assert.Equal((double)followed / instructions, score.InstructionStrict, 9);
        Assert.True(score.InstructionStrict < 1 && score.InstructionStrict > 8 / 12.0);
        Assert.True(score.PromptLoose >= score.PromptStrict);
    }

    [Fact]
    public void ScoreJudgments_HandBuiltCase_MatchesHandComputedFigures()
    {
        bool[] truth = [true, true, true, true, false, false, false, false];
        Verdict[] verdicts = [Verdict.Yes, Verdict.Yes, Verdict.No, Verdict.Invalid, Verdict.No, Verdict.No, Verdict.No, Verdict.Yes];
        var s = JudgmentScoring.Score(truth, verdicts);
        // tp 2, fn 2 (one invalid), tn 3, fp 1.
        Assert.Equal(5 / 8.0, s.Accuracy, 9);
        Assert.Equal(2 / 3.0, s.Precision, 9);
        Assert.Equal(0.5, s.YesRecall, 9);
        Assert.Equal(0.75, s.NoRecall, 9);
        Assert.Equal(2 * (2 / 3.0) * 0.5 / (2 / 3.0 + 0.5), s.F1, 9);
        Assert.Equal(1, s.Invalid);
        // Operating point: 3 Yes verdicts of 8 cases, 4 of which follow; each case's correctness in order.
        Assert.Equal(3 / 8.0, s.YesRate, 9);
        Assert.Equal(0.5, s.FollowingRate, 9);
        Assert.Equal("11001110", s.Correct);
        Assert.Equal([true, true, false, false, true, true, true, false], s.CorrectCases());
    }

    [Fact]
    public void ScoreRefinements_TeacherFixesAndBrokenOutputs_CountsSuccessAndParses()
    {
        var cases = Evaluation.RefineCases(6, 5);
        var outputs = cases.Select((c, i) => i switch
        {
            < 3 => Format.RenderRefinement("fix", Teacher.Refine(c.Prompt, c.Response).Response),
            3 => Format.RenderRefinement("no change", c.Response),
            _ => "no markers here",
        }).ToList();
        var score = Evaluation.ScoreRefinements(cases, outputs);
        Assert.Equal(0.5, score.Success, 9);
        Assert.Equal(4 / 6.0, score.Parsed, 9);
        Assert.InRange(score.MeanSimilarity, 0.5, 1);
    }

    [Fact]
    public void TeacherJudgeCases_Count_BalancedAndLabelledByTheVerifier()
    {
        var cases = Evaluation.TeacherJudgeCases(10, 2025);
        Assert.Equal(10, cases.Count);
        Assert.Equal(5, cases.Count(c => c.Follows));
        Assert.All(cases, c => Assert.Equal(c.Follows, c.Prompt.Follows(c.Response)));
        Assert.All(cases, c => Assert.Equal(World.Composition.WorldSplit.HeldOut, c.Prompt.Split));
    }

    [Fact]
    public void Options_Presets_AreValidAndBadValuesAreNamed()
    {
        SimulatorOptions.Default.Validated();
        SimulatorOptions.Quick.Validated();
        SimulatorOptions.Tiny.Validated();
        var bad = SimulatorOptions.Default with { JudgeEvalCases = 3, RefineShare = 2, Dpo = SimulatorOptions.Default.Dpo with { Beta = 0 } };
        var e = Assert.Throws<InvalidOptionsException>(() => bad.Validated());
        Assert.Contains(e.ProblemList, p => p.Contains("JudgeEvalCases"));
        Assert.Contains(e.ProblemList, p => p.Contains("RefineShare"));
        Assert.Contains(e.ProblemList, p => p.StartsWith("Dpo.beta"));
    }
}
