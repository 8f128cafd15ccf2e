using System.CommandLine;
using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Options;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Generation;
using SparOrleans.Engine.Model;

namespace SparOrleans.Client.Commands;

/// <summary>
/// <c>spar generate</c>: one reply from a model directory, rendered by the model's own chat template (or raw text),
/// decoded by the engine's generator, so what it prints is what the loop's generation would produce.
/// </summary>
public static class GenerateCommand
{
    public const int MaxNewTokensLimit = 32768;

    /// <summary>What <c>--format json</c> prints: the ids let a caller check tokenization and decoding separately.</summary>
    public sealed record Output(string Text, IReadOnlyList<int> TokenIds, IReadOnlyList<int> PromptTokenIds, string FinishReason);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<DirectoryInfo?>("--model") { Description = "A model directory in HF layout (config.json, model.safetensors, tokenizer files)" };
        var prompt = new Option<string?>("--prompt") { Description = "The user message (with --raw: the text to continue, as is)" };
        var messages = new Option<FileInfo?>("--messages") { Description = "A JSON file holding an array of {\"role\", \"content\"} messages (system/user/assistant), ending with a user message" };
        var system = new Option<string?>("--system") { Description = "A system message before --prompt" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = $"Most tokens to generate (default 256, at most {MaxNewTokensLimit} and the model's positions left after the prompt)", DefaultValueFactory = _ => 256 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature, 0 to 10 (default 0: greedy, the same reply every time)", DefaultValueFactory = _ => 0.0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass in (0, 1] (default 1)", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<long>("--seed") { Description = "Sampling seed (default 0): the same seed gives the same reply", DefaultValueFactory = _ => 0 };
        var raw = new Option<bool>("--raw") { Description = "Tokenize --prompt as is: no chat template, no added tokens" };
        var device = new Option<string>("--device") { Description = "cpu (default) or cuda", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "Weights and compute: float32 (default), bfloat16 or float16", DefaultValueFactory = _ => "float32" };
        var adapter = new Option<DirectoryInfo?>("--adapter") { Description = "A PEFT LoRA adapter directory (adapter_config.json, adapter_model.safetensors) applied on top of --model" };
        var format = FormatOption.Create(OutputFormat.Text, OutputFormat.Text, OutputFormat.Json);
        var command = new Command("generate", """
            One reply from a model directory, through the model's chat template and the engine's generator.
            Text output is the reply alone on stdout (finish reason and token counts go to stderr).
            Examples:
              spar generate --model runs/run-1/models/actor-3 --prompt "Write a haiku about owls."
              spar generate --model DIR --system "Answer briefly." --prompt "Name a bird." --temperature 0.7 --seed 3
              spar generate --model DIR --messages chat.json --format json
              spar generate --model DIR --prompt "Once upon a time" --raw --max-new-tokens 32
              spar generate --model DIR --adapter DIR/adapter --dtype bfloat16 --prompt "Name a bird."
            """)
        {
            model, prompt, messages, system, maxNewTokens, temperature, topP, seed, raw, device, dtype, adapter, format,
        };
        command.SetAction((parse, ct) =>
        {
            var modelDir = parse.GetValue(model) ?? throw new UserInputException("give --model DIR.");
            var promptText = parse.GetValue(prompt);
            var messagesFile = parse.GetValue(messages);
            var systemText = parse.GetValue(system);
            var isRaw = parse.GetValue(raw);
            var maxNew = parse.GetValue(maxNewTokens);
            var temp = parse.GetValue(temperature);
            var p = parse.GetValue(topP);
            var deviceName = parse.GetValue(device)!;
            if (promptText is null == messagesFile is null)
            {
                throw new UserInputException("give exactly one of --prompt TEXT and --messages FILE.");
            }
            if (isRaw && (messagesFile is not null || systemText is not null))
            {
                throw new UserInputException("--raw continues --prompt as is: it cannot be combined with --messages or --system.");
            }
            if (messagesFile is not null && systemText is not null)
            {
                throw new UserInputException("--system goes with --prompt; with --messages put the system message in the file.");
            }
            if (promptText is not null && string.IsNullOrWhiteSpace(promptText))
            {
                throw new UserInputException("--prompt is empty.");
            }
            if (maxNew is < 1 or > MaxNewTokensLimit)
            {
                throw new UserInputException($"--max-new-tokens must be between 1 and {MaxNewTokensLimit} (got {maxNew}).");
            }
            // Negated so that NaN fails too.
            if (!(temp >= 0 && temp <= 10))
            {
                throw new UserInputException($"--temperature must be between 0 and 10 (got {temp}).");
            }
            if (!(p > 0 && p <= 1))
            {
                throw new UserInputException($"--top-p must be in (0, 1] (got {p}).");
            }
            if (!ProblemList.IsDevice(deviceName))
            {
                throw new UserInputException($"--device must be cpu, cuda or cuda:N (got '{deviceName}').");
            }
            // The file is read before the model so that a mistake in it costs no loading time.
            var chat = messagesFile is not null
                ? ReadMessages(messagesFile.FullName)
                : isRaw ? null : Chat(systemText, promptText!);
            if (!Directory.Exists(modelDir.FullName))
            {
                throw new UserInputException($"no model directory {modelDir.FullName}.");
            }

            var type = ModelCheckpoint.ParseDtype(parse.GetValue(dtype)!);
            var adapterDir = parse.GetValue(adapter);
            if (adapterDir is not null && !Directory.Exists(adapterDir.FullName))
            {
                throw new UserInputException($"no adapter directory {adapterDir.FullName}.");
            }
            using var lm = ModelCheckpoint.Load(modelDir.FullName, deviceName, dtype: type);
            if (adapterDir is not null)
            {
                LoraAdapters.Load(lm.Network, adapterDir.FullName);
            }
            int[] promptIds = chat is null ? [.. lm.Tokenizer.Encode(promptText!)] : lm.Template.Encode(chat).Tokens;
            var positions = lm.Config.MaxPositionEmbeddings;
            if (promptIds.Length >= positions)
            {
                throw new UserInputException($"the prompt is {promptIds.Length} tokens; the model holds {positions} positions in all.");
            }
            if (maxNew > positions - promptIds.Length)
            {
                throw new UserInputException(
                    $"--max-new-tokens {maxNew} does not fit: the model holds {positions} positions and the prompt takes {promptIds.Length}, leaving {positions - promptIds.Length}.");
            }
            var request = GenerationRequest.FromTokens(promptIds) with
            {
                MaxNewTokens = maxNew,
                Temperature = temp,
                TopP = p,
                Seed = parse.GetValue(seed),
            };
            var result = BatchGenerator.Generate(lm, [request], maxBatchSize: 1, ct)[0];
            var finish = result.FinishReason == FinishReason.Length ? "length" : "stop";
            if (parse.GetValue(format) == OutputFormat.Json)
            {
                CliOutput.WriteJson(stdout, new Output(result.Text, result.TokenIds, promptIds, finish));
            }
            else
            {
                stdout.WriteLine(result.Text);
                stderr.WriteLine($"finish: {finish}; {promptIds.Length} prompt tokens, {result.TokenIds.Count} new tokens.");
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static List<ChatMessage> Chat(string? system, string user) =>
        system is null
            ? [new ChatMessage(ChatMessage.User, user)]
            : [new ChatMessage(ChatMessage.System, system), new ChatMessage(ChatMessage.User, user)];

    /// <summary>
    /// An OpenAI-style message array. Checked element by element so that the error names the index a user must fix,
    /// rather than a deserializer's path.
    /// </summary>
    public static List<ChatMessage> ReadMessages(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"cannot read messages file {path}: {e.Message}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{path}: not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new UserInputException($"{path}: must be a JSON array of {{\"role\", \"content\"}} messages (got {root.ValueKind.ToString().ToLowerInvariant()}).");
            }
            var chat = new List<ChatMessage>();
            var index = 0;
            foreach (var element in root.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object)
                {
                    throw new UserInputException($"{path}: message {index} is not an object.");
                }
                var role = StringField(element, "role", path, index);
                if (role is not (ChatMessage.System or ChatMessage.User or ChatMessage.Assistant))
                {
                    throw new UserInputException($"{path}: message {index} has role \"{role}\" (expected system, user or assistant).");
                }
                chat.Add(new ChatMessage(role, StringField(element, "content", path, index)));
                index++;
            }
            if (chat.Count == 0)
            {
                throw new UserInputException($"{path}: holds no messages.");
            }
            if (chat[^1].Role != ChatMessage.User)
            {
                throw new UserInputException($"{path}: the last message (index {chat.Count - 1}) must be a user message (got {chat[^1].Role}).");
            }
            return chat;
        }
    }

    private static string StringField(JsonElement message, string name, string path, int index) =>
        message.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new UserInputException($"{path}: message {index} has no string \"{name}\".");
}
