using System.Text.Json;
using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;

namespace SparOrleans.Core.Datasets;

/// <summary>
/// Reads supervised data in the layouts the Python ecosystem writes, so a bootstrap made elsewhere (the paper's
/// D_Actor, D_JSFT, D_RSFT from a strong model) can be brought in as files. Rows are told apart by their keys:
/// <list type="bullet">
/// <item>TRL conversational language modeling / OpenAI: <c>{"messages": [{"role","content"}, ...]}</c>;</item>
/// <item>TRL prompt-completion: <c>{"prompt": ..., "completion": ...}</c>, each a string or a message list;</item>
/// <item>LLaMA-Factory sharegpt: <c>{"conversations": [{"from": "human"|"gpt"|"system", "value"}], "system"?}</c>;</item>
/// <item>LLaMA-Factory alpaca: <c>{"instruction", "input"?, "output", "system"?, "history"?: [[q, a], ...]}</c>.</item>
/// </list>
/// Each row becomes a conversation ending with the assistant answer to learn (as <see cref="SftExample.Messages"/>);
/// multi-turn rows train their final answer. A file is JSONL, or one JSON
/// array (LLaMA-Factory's <c>.json</c>). Any bad row is refused with its line (or array index) before training.
/// </summary>
public static class SftDataFile
{
    public static IReadOnlyList<IReadOnlyList<ChatMessage>> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UserInputException($"{path}: file not found.");
        }
        var text = File.ReadAllText(path);
        var rows = new List<IReadOnlyList<ChatMessage>>();
        if (text.TrimStart().StartsWith('['))
        {
            JsonArray array;
            try
            {
                array = JsonNode.Parse(text) as JsonArray ?? throw new UserInputException($"{path}: expected a JSON array or JSON lines.");
            }
            catch (JsonException e)
            {
                throw new UserInputException($"{path}: not valid JSON ({e.Message}).", e);
            }
            for (var i = 0; i < array.Count; i++)
            {
                rows.Add(Row(array[i], $"{path}: item {i}"));
            }
        }
        else
        {
            var number = 0;
            foreach (var line in text.Split('\n'))
            {
                number++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }
                JsonNode? node;
                try
                {
                    node = JsonNode.Parse(line);
                }
                catch (JsonException e)
                {
                    throw new UserInputException($"{path}:{number}: not a valid JSON object ({e.Message}).", e);
                }
                rows.Add(Row(node, $"{path}:{number}"));
            }
        }
        return rows.Count > 0 ? rows : throw new UserInputException($"{path}: no examples.");
    }

    private static IReadOnlyList<ChatMessage> Row(JsonNode? node, string where)
    {
        if (node is not JsonObject o)
        {
            throw new UserInputException($"{where}: expected a JSON object.");
        }
        try
        {
            var messages = o switch
            {
                _ when o["messages"] is not null => Messages(o["messages"], "role", "content", where),
                _ when o["conversations"] is not null => ShareGpt(o, where),
                _ when o["prompt"] is not null && o["completion"] is not null => PromptCompletion(o, where),
                _ when o["instruction"] is not null && o["output"] is not null => Alpaca(o),
                _ => throw new UserInputException(
                    $"{where}: no known layout (expected messages, conversations, prompt+completion or instruction+output)."),
            };
            return Checked(messages, where);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new UserInputException($"{where}: a value has the wrong type ({e.Message}).", e);
        }
    }

    private static List<ChatMessage> Checked(List<ChatMessage> messages, string where)
    {
        if (messages.Count < 2 || messages[^1].Role != ChatMessage.Assistant)
        {
            throw new UserInputException($"{where}: the conversation must end with an assistant message after at least one other.");
        }
        if (messages[..^1].All(m => m.Role == ChatMessage.System))
        {
            throw new UserInputException($"{where}: no user message before the answer.");
        }
        return messages;
    }

    private static readonly HashSet<string> Roles = [ChatMessage.System, ChatMessage.User, ChatMessage.Assistant];

    private static List<ChatMessage> Messages(JsonNode? node, string roleKey, string contentKey, string where)
    {
        if (node is not JsonArray list)
        {
            throw new UserInputException($"{where}: expected a list of messages.");
        }
        var messages = new List<ChatMessage>();
        foreach (var item in list)
        {
            var role = item?[roleKey]?.GetValue<string>();
            var content = item?[contentKey]?.GetValue<string>();
            if (role is null || content is null)
            {
                throw new UserInputException($"{where}: every message needs '{roleKey}' and '{contentKey}' strings.");
            }
            if (!Roles.Contains(role))
            {
                throw new UserInputException($"{where}: unknown role '{role}' (expected system, user or assistant).");
            }
            messages.Add(new ChatMessage(role, content));
        }
        return messages;
    }

    private static List<ChatMessage> PromptCompletion(JsonObject o, string where)
    {
        List<ChatMessage> Part(JsonNode node, string role) =>
            node is JsonValue v ? [new ChatMessage(role, v.GetValue<string>())] : Messages(node, "role", "content", where);
        return [.. Part(o["prompt"]!, ChatMessage.User), .. Part(o["completion"]!, ChatMessage.Assistant)];
    }

    // LLaMA-Factory's default sharegpt tags (role_tag "from", content_tag "value", human/gpt/system).
    private static List<ChatMessage> ShareGpt(JsonObject o, string where)
    {
        var messages = new List<ChatMessage>();
        if (o["system"]?.GetValue<string>() is { Length: > 0 } system)
        {
            messages.Add(new ChatMessage(ChatMessage.System, system));
        }
        foreach (var turn in o["conversations"] as JsonArray ?? throw new UserInputException($"{where}: conversations must be a list."))
        {
            var from = turn?["from"]?.GetValue<string>();
            var value = turn?["value"]?.GetValue<string>()
                ?? throw new UserInputException($"{where}: every turn needs 'from' and 'value' strings.");
            var role = from switch
            {
                "human" or "user" => ChatMessage.User,
                "gpt" or "assistant" => ChatMessage.Assistant,
                "system" => ChatMessage.System,
                _ => throw new UserInputException($"{where}: turn role '{from}' is not supported (human, gpt, system)."),
            };
            messages.Add(new ChatMessage(role, value));
        }
        return messages;
    }

    // LLaMA-Factory's alpaca converter: the query is instruction + "\n" + input when there is an input.
    private static List<ChatMessage> Alpaca(JsonObject o)
    {
        var messages = new List<ChatMessage>();
        if (o["system"]?.GetValue<string>() is { Length: > 0 } system)
        {
            messages.Add(new ChatMessage(ChatMessage.System, system));
        }
        foreach (var pair in o["history"] as JsonArray ?? [])
        {
            messages.Add(new ChatMessage(ChatMessage.User, pair![0]!.GetValue<string>()));
            messages.Add(new ChatMessage(ChatMessage.Assistant, pair[1]!.GetValue<string>()));
        }
        var instruction = o["instruction"]!.GetValue<string>();
        var input = o["input"]?.GetValue<string>();
        messages.Add(new ChatMessage(ChatMessage.User, string.IsNullOrEmpty(input) ? instruction : instruction + "\n" + input));
        messages.Add(new ChatMessage(ChatMessage.Assistant, o["output"]!.GetValue<string>()));
        return messages;
    }
}
