using System.Text.Json;
using SparOrleans.Client.Cli;
using SparOrleans.Tests.Shared;

namespace SparOrleans.Client.Tests;

public class BenchCommandTests
{
    [Fact]
    public async Task BenchEngine_QuickJson_ReportsEveryFigure()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SparCli.InvokeAsync(["bench", "engine", "--quick", "--threads", "1", "--format", "json"], stdout, stderr);
        Assert.Equal(ExitCodes.Success, code);
        using var json = JsonDocument.Parse(stdout.ToString());
        var root = json.RootElement;
        foreach (var key in new[] { "train_tokens_per_s", "train_fraction_of_mm", "decode_batch32_over_batch1", "continuous_over_static", "mm_gflops" })
        {
            Assert.True(root.GetProperty(key).GetDouble() > 0, $"{key} should be positive");
        }
        var decode = root.GetProperty("decode_tokens_per_s");
        Assert.Equal(["1", "8", "32", "64"], decode.EnumerateObject().Select(p => p.Name));
        var fractions = root.GetProperty("decode_fraction_of_ceiling");
        Assert.Equal(["1", "8", "32", "64"], fractions.EnumerateObject().Select(p => p.Name));
        Assert.All(fractions.EnumerateObject(), p => Assert.InRange(p.Value.GetDouble(), 1e-6, 1.0));
        var perCpu = root.GetProperty("decode_fraction_of_ceiling_cpu");
        Assert.Equal(["1", "8", "32", "64"], perCpu.EnumerateObject().Select(p => p.Name));
        Assert.All(perCpu.EnumerateObject(), p => Assert.True(p.Value.GetDouble() > 0, $"batch {p.Name}: {p.Value}"));
        foreach (var (name, batch) in new[] { ("step_profile", 8), ("step_profile_batch1", 1) })
        {
            var profile = root.GetProperty(name);
            Assert.Equal(batch, profile.GetProperty("batch").GetInt32());
            Assert.True(profile.GetProperty("step_ms").GetDouble() >= profile.GetProperty("forward_ms").GetDouble());
            Assert.True(profile.GetProperty("attention_ms").GetDouble() > 0);
        }
        var judging = root.GetProperty("judging");
        // 8 prompts x 5 votes admitted in one join: each prompt prefilled once, the other four votes share it.
        Assert.Equal(0.8, judging.GetProperty("hit_rate").GetDouble(), 6);
        Assert.True(judging.GetProperty("speedup").GetDouble() > 0);
        Assert.True(judging.GetProperty("cpu_speedup").GetDouble() > 0);
        Assert.Contains("engine benchmark", stderr.ToString());
    }

    [Fact]
    public async Task BenchEngine_BadThreads_UserError()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SparCli.InvokeAsync(["bench", "engine", "--quick", "--threads", "0"], stdout, stderr);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("threads", stderr.ToString());
    }

    [Fact]
    public async Task BenchCheckpoint_QuickJson_FiguresAreConsistent()
    {
        var dir = Path.Combine(Path.GetTempPath(), "spar-bench-tok-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), TinyTokenizerJson());
            // Llama-3.1's own chat template, so the saved model reloads with the template its files name.
            var template = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "SparOrleans.Engine.Tests", "ChatTemplates", "llama3.1.jinja"));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), new System.Text.Json.Nodes.JsonObject
            {
                ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>", ["chat_template"] = template,
            }.ToJsonString());
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = await SparCli.InvokeAsync(["bench", "checkpoint", "--quick", "--tokenizer", dir, "--threads", "1", "--format", "json"], stdout, stderr);
            Assert.True(code == ExitCodes.Success, stderr.ToString());
            using var json = JsonDocument.Parse(stdout.ToString());
            var r = json.RootElement;
            var a = r.GetProperty("accounting");
            var parameters = a.GetProperty("parameters").GetInt64();
            Assert.Equal(parameters, a.GetProperty("parameters_counted").GetInt64());
            Assert.Equal(2 * parameters, a.GetProperty("base_bytes").GetInt64());
            // bf16 on disk: two bytes per parameter (the tied head stored once) plus the safetensors JSON header.
            var weights = r.GetProperty("weights_file_bytes").GetInt64();
            Assert.InRange(weights - 2 * parameters, 8, 64 * 1024);
            Assert.True(r.GetProperty("bytes_on_disk").GetInt64() >= weights);

            // Quick: d=64, 4 heads of 16, 1 KV head, intermediate 256, 2 layers; r=16 on all seven projections.
            long d = 64, kv = 16, inter = 256, rank = 16;
            var perLayer = rank * ((d + d) + (d + kv) + (d + kv) + (d + d) + 3 * (d + inter));
            Assert.Equal(2 * perLayer, a.GetProperty("adapter_parameters").GetInt64());
            Assert.Equal(2 * perLayer, a.GetProperty("adapter_parameters_counted").GetInt64());
            Assert.Equal(4 * 2 * perLayer, a.GetProperty("adapter_bytes").GetInt64());
            Assert.Equal(2 * 4 * 2 * perLayer, a.GetProperty("optimizer_state_bytes").GetInt64());
            Assert.Equal(4 * 2 * perLayer, a.GetProperty("gradient_bytes").GetInt64());

            Assert.Equal(16, r.GetProperty("generated_tokens").GetInt32());
            Assert.True(r.GetProperty("tokens_per_s").GetDouble() > 0);
            Assert.Equal(1, r.GetProperty("dpo_steps").GetInt32());
            Assert.Equal(4, r.GetProperty("dpo_pairs").GetInt32());
            Assert.True(double.IsFinite(r.GetProperty("dpo_loss").GetDouble()));
            foreach (var phase in new[] { "build", "save", "load", "generate", "dpo_reference", "dpo_step" })
            {
                var p = r.GetProperty(phase);
                Assert.True(p.GetProperty("seconds").GetDouble() >= 0, phase);
                Assert.True(p.GetProperty("peak_rss_bytes").GetInt64() > 0, phase);
                Assert.True(p.GetProperty("rss_after_bytes").GetInt64() > 0, phase);
            }
            Assert.True(r.GetProperty("peak_rss_bytes").GetInt64() >= r.GetProperty("dpo_step").GetProperty("peak_rss_bytes").GetInt64());
            Assert.Contains("DPO: LoRA r16", stderr.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task BenchCheckpoint_MissingTokenizer_SaysHowToGetIt()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var missing = Path.Combine(Path.GetTempPath(), "spar-no-tokenizer-" + Guid.NewGuid().ToString("N")[..8]);
        var code = await SparCli.InvokeAsync(["bench", "checkpoint", "--quick", "--tokenizer", missing], stdout, stderr);
        Assert.Equal(ExitCodes.UserError, code);
        Assert.Contains("tokenizer.json", stderr.ToString());
        Assert.Single(stderr.ToString().Trim().Split('\n'));
    }

    private static string TinyTokenizerJson() => TinyTokenizer.Json("h e", "t h", "Ġ t", "e r", "o r");
}
