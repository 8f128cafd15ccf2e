using System.Text.Json;
using SparOrleans.Core.Datasets;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Judging;
using SparOrleans.Integration.Tests.Faults;
using SparOrleans.Interfaces.Prompts;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Simulator.Runs;

namespace SparOrleans.Integration.Tests.Runs;

/// <summary>
/// <c>SimulatorOptions.RftVotes</c> reaches the prompt grains: a whole run on a gpu + cpu cluster with scripted
/// generation, whose refiner RFT judgments are checked against the votes the prompt grains stored.
/// </summary>
public sealed class RftVotesRunTests(FaultFixture fixture) : IClassFixture<FaultFixture>
{
    [Theory]
    [InlineData(RftVotes.Unanimous)]
    [InlineData(RftVotes.NonUnanimous)]
    public async Task Run_RftVotesOption_EveryRftJudgmentComesFromAVoteOfThatKind(RftVotes votes)
    {
        var paper = FaultCluster.Spec(fixture.NewOutput());
        var spec = paper with
        {
            RunId = $"rft-votes-{votes}",
            SimulatorOptionsJson = RunOptions.ToJson(RunOptions.Of(paper) with { RftVotes = votes }),
        };
        await using var cluster = await FaultCluster.StartAsync(fixture.Azurite.ConnectionString, cpuSilos: 1);
        await cluster.StartRunAsync(spec);
        var record = await cluster.FinishAsync(spec);
        Assert.True(record.Final.Status == RunStatusKind.Completed, record.Final.Error);

        var format = RoleFormats.ByName("compact");
        var judged = new List<(string Key, Vote Vote)>();
        foreach (var key in record.PromptKeys[0])
        {
            var snapshot = await cluster.Client.GetGrain<IPromptGrain>(key).GetSnapshotAsync();
            var instruction = snapshot.Prompt!.Instruction;
            judged.AddRange(snapshot.Samples.Select(s => (format.JudgePrompt(instruction, s.Response)[0].Content, s.Vote)));
            judged.AddRange((snapshot.Search?.Nodes ?? []).Where(n => n.Vote is not null && n.Response is not null)
                .Select(n => (format.JudgePrompt(instruction, n.Response!)[0].Content, n.Vote!)));
        }
        var examples = record.Examples["refiner-1"].Select(e => JsonSerializer.Deserialize<SftExample>(e)!)
            .Where(e => e.IsYesJudgment || e.IsNoJudgment).ToList();

        Assert.NotEmpty(examples);
        Assert.All(examples, e =>
        {
            var kinds = judged.Where(j => j.Key == e.Key).Select(j => j.Vote.IsNonUnanimous).ToList();
            Assert.NotEmpty(kinds);
            Assert.Contains(votes == RftVotes.NonUnanimous, kinds);
        });
    }
}
