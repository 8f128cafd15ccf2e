using System.Globalization;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Core.Options;
using SparOrleans.Core.Prompts;
using SparOrleans.Engine.Model;
using SparOrleans.Interfaces.Generation;
using SparOrleans.Interfaces.Runs;
using SparOrleans.Models.Evaluation;
using SparOrleans.Models.Runs;
using SparOrleans.OpenAi.Client;
using SparOrleans.Verifiers.IfEval.Scoring;

namespace SparOrleans.Client.Runs;

/// <summary>What <c>spar run --actor DIR --refiner DIR --prompts FILE ...</c> was given, before any check.</summary>
public sealed record ModelRunArguments(
    string Actor,
    string Refiner,
    string Prompts,
    string? IfEval,
    string? LlmBar,
    string RoleFormat,
    string? OptionsFile,
    string Generation,
    string? ServedActor,
    string? ServedRefiner,
    string GenerationUpdate,
    string? RestartCommand);

/// <summary>
/// Turns <see cref="ModelRunArguments"/> into a <see cref="ModelRunSpec"/>, checking every input a run on real models
/// reads before anything is stored: both checkpoints load (configs, weight headers, tokenizers; no weights read), the
/// prompt file and evaluation sets parse whole, the settings are valid, and an OpenAI-compatible server answers and
/// serves the named models. A problem is one <see cref="UserInputException"/> naming the input.
/// </summary>
public static class ModelRunInputs
{
    public const string Local = "local";

    public const string OpenAiPrefix = "openai=";

    public static async Task<(ModelRunSpec Spec, int PromptCount)> CheckAsync(ModelRunArguments arguments, CancellationToken cancellationToken)
    {
        var actor = Inspect("--actor", arguments.Actor);
        var refiner = Inspect("--refiner", arguments.Refiner);
        var prompts = Path.GetFullPath(arguments.Prompts);
        var entries = Read("--prompts", () => PromptFile.Read(prompts));
        var ifeval = arguments.IfEval is { } i ? Path.GetFullPath(i) : null;
        if (ifeval is not null)
        {
            Read("--eval-ifeval", () => IfEvalFiles.ReadInput(ifeval));
        }
        var llmbar = arguments.LlmBar is { } l ? Path.GetFullPath(l) : null;
        if (llmbar is not null)
        {
            Read("--eval-llmbar", () => LlmBar.ReadDirectory(llmbar, 1));
        }
        var format = RoleFormats.ByName(arguments.RoleFormat).Name;
        var settings = arguments.OptionsFile is { } file ? OptionsFile.Overlay(new ModelRunSettings(), file) : new ModelRunSettings();
        settings.Validated();
        var generation = await GenerationAsync(arguments, cancellationToken);
        return (new ModelRunSpec(actor, refiner, prompts, ifeval, llmbar, format, settings.ToJson(), generation), entries.Count);
    }

    private static string Inspect(string option, string directory)
    {
        var full = Path.GetFullPath(directory);
        Read(option, () => ModelCheckpoint.Inspect(full));
        return full;
    }

    private static T Read<T>(string option, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is UserInputException or IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{option}: {e.Message.TrimEnd('.')}.", e);
        }
    }

    private static async Task<GenerationSpec?> GenerationAsync(ModelRunArguments arguments, CancellationToken cancellationToken)
    {
        if (arguments.Generation == Local)
        {
            // The default update (lora) is no choice of the user's; restart is, and would be silently ignored.
            if (arguments.ServedActor is not null || arguments.ServedRefiner is not null || arguments.RestartCommand is not null || arguments.GenerationUpdate != "lora")
            {
                throw new UserInputException("--served-actor, --served-refiner, --generation-update and --restart-command apply to --generation openai=URL only.");
            }
            return null;
        }
        if (!arguments.Generation.StartsWith(OpenAiPrefix, StringComparison.Ordinal)
            || !Uri.TryCreate(arguments.Generation[OpenAiPrefix.Length..], UriKind.Absolute, out var url)
            || url.Scheme is not ("http" or "https"))
        {
            throw new UserInputException($"--generation must be local or openai=URL with an http(s) URL, e.g. openai=http://127.0.0.1:8000/v1 (got '{arguments.Generation}').");
        }
        var update = arguments.GenerationUpdate switch
        {
            "lora" => ServedUpdate.LoraAdapter,
            "restart" => ServedUpdate.Restart,
            _ => throw new UserInputException($"--generation-update must be lora or restart (got '{arguments.GenerationUpdate}')."),
        };
        if (update == ServedUpdate.Restart && string.IsNullOrWhiteSpace(arguments.RestartCommand))
        {
            throw new UserInputException("--generation-update restart needs --restart-command CMD (run with SPAR_MODEL_ROLE, SPAR_MODEL_DIR, SPAR_MODEL_NAME set).");
        }
        var actorName = arguments.ServedActor ?? "actor";
        var refinerName = arguments.ServedRefiner ?? "refiner";
        await OpenAiPreflight.CheckAsync(url, actorName == refinerName ? [actorName] : [actorName, refinerName],
            Environment.GetEnvironmentVariable(OpenAiPreflight.ApiKeyVariable), cancellationToken);
        return new GenerationSpec(url.ToString(), actorName, refinerName, update, update == ServedUpdate.Restart ? arguments.RestartCommand : null);
    }

    /// <summary>Prompts per iteration: as asked, and never more than the file holds.</summary>
    public static int PromptsPerIteration(int? asked, int available) => asked is { } n
        ? n >= 1 && n <= available ? n : throw new UserInputException(
            $"--prompts-per-iteration must be between 1 and the prompt file's {available.ToString(CultureInfo.InvariantCulture)} prompts (got {n.ToString(CultureInfo.InvariantCulture)}).")
        : Math.Min(64, available);
}
