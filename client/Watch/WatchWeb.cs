using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Interfaces.Runs;

namespace SparOrleans.Client.Watch;

/// <summary>
/// The read-only run page on the silo's loopback web side (<c>spar run --web-port</c>): <c>GET /</c> redirects to the
/// run, <c>GET /runs/{run}?prompt=ID&amp;iteration=T</c> is the HTML view of <see cref="WatchHtml"/>, and
/// <c>GET /api/runs/{run}</c> the JSON frame of <c>spar watch --format json</c>.
/// </summary>
public static class WatchWeb
{
    public static void Map(IEndpointRouteBuilder app, string runId)
    {
        app.MapGet("/", () => Results.Redirect(RunPath(runId)));
        app.MapGet("/runs/{run}", async (string run, string? prompt, int? iteration, IGrainFactory grains, IResponseVerifier verifier, CancellationToken ct) =>
        {
            var (frame, problem) = await ReadAsync(grains, verifier, run, prompt, iteration, ct);
            return frame is null
                ? Results.NotFound(problem)
                : Results.Content(WatchHtml.Render(frame, id => PromptPath(run, id, iteration)), "text/html; charset=utf-8");
        });
        app.MapGet("/api/runs/{run}", async (string run, string? prompt, int? iteration, IGrainFactory grains, IResponseVerifier verifier, CancellationToken ct) =>
        {
            var (frame, problem) = await ReadAsync(grains, verifier, run, prompt, iteration, ct);
            return frame is null ? Results.NotFound(problem) : Results.Json(WatchJson.From(frame), CliOutput.Json);
        });
    }

    public static string RunPath(string runId) => $"/runs/{Uri.EscapeDataString(runId)}";

    private static string PromptPath(string runId, string promptId, int? iteration) =>
        $"{RunPath(runId)}?prompt={Uri.EscapeDataString(promptId)}{(iteration is { } t ? $"&iteration={t}" : "")}";

    private static async Task<(WatchFrame? Frame, string? Problem)> ReadAsync(IGrainFactory grains, IResponseVerifier verifier, string run, string? prompt, int? iteration, CancellationToken ct)
    {
        var source = new LiveWatchSource(grains, run);
        if ((await source.StatusAsync(ct)).Spec is null)
        {
            return (null, $"No run '{run}' on this silo.");
        }
        try
        {
            return (await WatchFrames.ReadAsync(source, iteration, prompt, "live: served by the run's silo", live: true, verifier, ct), null);
        }
        catch (UserInputException e)
        {
            return (null, e.Message);
        }
    }
}
