using SparOrleans.Client.Cli;
using SparOrleans.Client.Runs;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Simulator;

using static SparOrleans.Client.Tests.SparInvocation;

namespace SparOrleans.Client.Tests;

public sealed class OptionsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spar-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string json)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Overlay_NestedObject_ChangesOnlyTheNamedSettings()
    {
        var preset = SimulatorOptions.Default;

        var options = OptionsFile.Overlay(preset, File("""{"IterationPrompts": 128, "dpo": {"LearningRate": 1e-4}}"""));

        Assert.Equal(128, options.IterationPrompts);
        Assert.Equal(1e-4, options.Dpo.LearningRate);
        Assert.Equal(preset.Dpo.Beta, options.Dpo.Beta);
        Assert.Equal(preset.Dpo.Epochs, options.Dpo.Epochs);
        Assert.Equal(preset.ActorSft, options.ActorSft);
    }

    [Theory]
    [InlineData("""{"Dpo": null}""", "option 'Dpo' cannot be null")]
    [InlineData("""{"Device": "tpu"}""", "Device must be cpu, cuda or cuda:N (got 'tpu')")]
    [InlineData("""{"Threads": 100000}""", "Threads must be between 0 and 1024")]
    public async Task Run_BadOptionValue_OneErrorLineBeforeAnythingStarts(string json, string expected)
    {
        var home = Path.Combine(_dir, "home");

        var (code, _, error) = await Spar("run", "--preset", "tiny", "--options", File(json), "--home", home);

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains(expected, Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.False(Directory.Exists(home));
    }

    [Fact]
    public void Overlay_EnumByName_Accepted()
    {
        var options = OptionsFile.Overlay(SimulatorOptions.Default, File("""{"Dpo": {"Schedule": "Cosine"}}"""));

        Assert.Equal(SparOrleans.Engine.Training.LearningRateSchedule.Cosine, options.Dpo.Schedule);
    }

    [Fact]
    public void Overlay_ComposerOverNullPreset_TakesTheFileValue()
    {
        var options = OptionsFile.Overlay(SimulatorOptions.Default, File("""{"Composer": {"LevelWeights": [1, 1, 1, 0, 0]}}"""));

        Assert.Equal([1.0, 1, 1, 0, 0], options.Composer!.Levels);
    }

    [Fact]
    public void Overlay_OptionsLeftOutOfThePresetsJson_AreStillKnown()
    {
        // RftCaps (null) and RftOracle (false) are not written in the preset's JSON, so that run names stay as they were.
        var options = OptionsFile.Overlay(SimulatorOptions.Default, File("""{"rftCaps": {"Refinements": 81, "TreeYes": 0, "TreeNo": 0, "InitialNo": 1000, "InitialYes": 1000}, "RftOracle": true}"""));

        Assert.Equal(new RftCaps(81, 0, 0, 1000, 1000), options.RftCaps);
        Assert.True(options.RftOracle);
        Assert.Contains("unknown option 'RftCaps.Nope'", Assert.Throws<UserInputException>(() =>
            OptionsFile.Overlay(options, File("""{"RftCaps": {"Nope": 1}}"""))).Message);
    }

    [Fact]
    public void Overlay_RftVotesByName_TakesTheNamedKind()
    {
        var options = OptionsFile.Overlay(SimulatorOptions.Default, File("""{"RftVotes": "Unanimous"}"""));

        Assert.Equal(RftVotes.Unanimous, options.RftVotes);
        Assert.Equal(RftVotes.Majority, SimulatorOptions.Default.RftVotes);
    }

    [Theory]
    [InlineData("""{"IterationPrompt": 3}""", "unknown option 'IterationPrompt'")]
    [InlineData("""{"Dpo": {"Rate": 3}}""", "unknown option 'Dpo.Rate'")]
    [InlineData("""{"IterationPrompts": "many"}""", "IterationPrompts")]
    [InlineData("""{"RftVotes": "Sure"}""", "RftVotes")]
    [InlineData("""[1, 2]""", "must hold one JSON object")]
    [InlineData("""{"IterationPrompts": 3""", "is not valid JSON")]
    public void Overlay_BadFile_ThrowsUserInputNamingTheProblem(string json, string expected)
    {
        var path = File(json);

        var error = Assert.Throws<UserInputException>(() => OptionsFile.Overlay(SimulatorOptions.Default, path));

        Assert.Contains(expected, error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public async Task Run_OptionsOutOfRange_ExitsWithTheValidationMessage()
    {
        var path = File("""{"Dpo": {"Beta": -1}}""");

        var (code, _, error) = await Spar("run", "--options", path, "--home", Path.Combine(_dir, "home"));

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("Dpo.", error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "home", ".state")));
    }

    [Fact]
    public async Task Run_MissingOptionsFile_ExitsWithUserError()
    {
        var (code, _, error) = await Spar("run", "--options", Path.Combine(_dir, "nope.json"), "--home", Path.Combine(_dir, "home"));

        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("nope.json' does not exist", error);
    }
}
