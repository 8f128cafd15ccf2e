using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using SparOrleans.Client.Cli;

namespace SparOrleans.Client.Tests;

/// <summary>
/// The error contract, walked over every verb: bad values (out of range, wrong type, empty, huge, negative), bad files
/// (missing, a directory, empty, malformed, truncated, binary, corrupt weights, corrupt stored state), unreachable
/// services, ports in use and unwritable outputs each give exit 2, exactly one stderr line starting with
/// <c>error: </c>, no stack trace, nothing on stdout, and nothing written: the case's folder and the shared inputs are
/// byte for byte as before. Cases run in-process; those marked <see cref="BadCase.Process"/> also as real `spar`
/// processes, where a crash on a background thread or a native abort (exit 134) shows.
/// </summary>
public sealed class BadInputWalkTests(BadInputFiles files) : IClassFixture<BadInputFiles>
{
    /// <summary>A bad command line; placeholders in <see cref="Args"/> are resolved by <see cref="Resolve"/>.</summary>
    public sealed record BadCase(string Verb, string Args, bool Process = false, string? Expect = null)
    {
        public string Name => $"{Verb}: {Args}";
    }

    private const string Secret = "s3cret-pw";

    // Placeholders: {home} {out} {missing} (paths in the case's own folder, absent), {f:NAME} (a shared input),
    // {copy:NAME} (a private copy of a shared input, e.g. a home with corrupt state), {closed} / {busy} (ports).
    internal static readonly BadCase[] Cases =
    [
        // run: values
        new("run", "--iterations abc --home {home}"),
        new("run", "--iterations -1 --home {home}"),
        new("run", "--iterations 2147483647 --home {home}"),
        new("run", "--iterations 99999999999 --home {home}"),
        new("run", "--prompts 0 --home {home}"),
        new("run", "--prompts -5 --home {home}"),
        new("run", "--prompts 2147483647 --home {home}"),
        new("run", "--samples 0 --home {home}"),
        new("run", "--samples 65 --home {home}"),
        new("run", "--prompts-per-iteration 0 --home {home}"),
        new("run", "--seed abc --home {home}"),
        new("run", "--generation-workers 0 --home {home}", Expect: "--generation-workers"),
        new("run", "--generation-workers 257 --home {home}"),
        new("run", "--generation-workers 2 --cluster 127.0.0.1:1 --home {home}", Expect: "spar silo --generation-workers"),
        new("run", "--policy bogus --home {home}"),
        new("run", "--pairs bogus --home {home}"),
        new("run", "--preset bogus --home {home}"),
        new("run", "--format yaml --home {home}"),
        new("run", "--foo --home {home}"),
        new("run", "--run-id ../escape --home {home}"),
        new("run", "--run-id .hidden --home {home}"),
        new("run", "--run-id a/b --home {home}"),
        new("run", "--run-id \"\" --home {home}"),
        new("run", "--quick --preset tiny --actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --home {home}"),
        new("run", "--actor {f:model} --home {home}"),
        new("run", "--role-format paper --home {home}"),
        new("run", "--generation openai=http://127.0.0.1:1/v1 --home {home}"),
        // run: options files
        new("run", "--preset tiny --options {missing} --home {home}"),
        new("run", "--preset tiny --options {f:a-directory} --home {home}"),
        new("run", "--preset tiny --options {f:empty.jsonl} --home {home}"),
        new("run", "--preset tiny --options {f:malformed.json} --home {home}"),
        new("run", "--preset tiny --options {f:binary.bin} --home {home}"),
        new("run", "--preset tiny --options {f:wrong-shape.json} --home {home}"),
        new("run", "--preset tiny --options {f:opt-dpo-null.json} --home {home}", Process: true, Expect: "option 'Dpo' cannot be null"),
        new("run", "--preset tiny --options {f:opt-device-tpu.json} --home {home}", Process: true, Expect: "Device must be cpu, cuda or cuda:N (got 'tpu')"),
        new("run", "--preset tiny --options {f:opt-threads-huge.json} --home {home}", Expect: "Threads must be between 0 and 1024"),
        new("run", "--preset tiny --options {f:opt-threads-negative.json} --home {home}"),
        new("run", "--preset tiny --options {f:opt-seed-string.json} --home {home}"),
        new("run", "--preset tiny --options {f:opt-unknown.json} --home {home}"),
        new("run", "--preset tiny --options {f:opt-lr-negative.json} --home {home}"),
        new("run", "--preset tiny --options {f:opt-nested-null.json} --home {home}"),
        new("run", "--preset tiny --options {f:opt-huge-number.json} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --options {f:opt-device-tpu.json} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --options {f:opt-dpo-null.json} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --options {f:opt-threads-huge.json} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --options {f:malformed.json} --home {home}"),
        // run: model runs' files
        new("run", "--actor {missing} --refiner {f:model} --prompts {f:prompts.jsonl} --home {home}"),
        new("run", "--actor {f:empty-model} --refiner {f:model} --prompts {f:prompts.jsonl} --home {home}"),
        new("run", "--actor {f:model-truncated} --refiner {f:model} --prompts {f:prompts.jsonl} --home {home}", Process: true),
        new("run", "--actor {f:model} --refiner {f:model-bad-header-length} --prompts {f:prompts.jsonl} --home {home}"),
        new("run", "--actor {f:model-bad-config} --refiner {f:model} --prompts {f:prompts.jsonl} --home {home}"),
        new("run", "--actor {f:model-binary} --refiner {f:model} --prompts {f:prompts.jsonl} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {missing} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:empty.jsonl} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:malformed.jsonl} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:binary.bin} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:a-directory} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --prompts-per-iteration 0 --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --prompts-per-iteration 2147483647 --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --eval-ifeval {f:malformed.jsonl} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --eval-ifeval {f:binary.bin} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --eval-llmbar {f:llmbar-malformed} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --eval-llmbar {missing} --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --generation bogus --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --generation openai=not-a-url --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --generation openai=http://127.0.0.1:{closed}/v1 --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --generation openai=http://user:" + Secret + "@127.0.0.1:{closed}/v1 --home {home}"),
        new("run", "--actor {f:model} --refiner {f:model} --prompts {f:prompts.jsonl} --generation-update restart --home {home}"),
        // run: where it writes, what it reaches
        new("run", "--preset tiny --out /proc/spar-x --home {home}", Process: true, Expect: "--out /proc/spar-x cannot be written"),
        new("run", "--preset tiny --out {f:binary.bin} --home {home}"),
        new("run", "--preset tiny --home {f:binary.bin}"),
        new("run", "--preset tiny --home /proc/spar-home"),
        new("run", "--preset tiny --web-port {busy} --home {home}", Process: true),
        new("run", "--preset tiny --web-port -1 --home {home}"),
        new("run", "--preset tiny --web-port 70000 --home {home}"),
        new("run", "--preset tiny --cluster 127.0.0.1:{closed} --home {home}"),
        new("run", "--preset tiny --cluster \"not a host:xx\" --home {home}", Process: true, Expect: "names no Redis endpoint"),
        new("run", "--preset tiny --cluster \"\" --home {home}"),
        new("run", "--preset tiny --cluster 127.0.0.1:{closed},password=" + Secret + " --home {home}", Process: true, Expect: "Cannot reach the cluster (Redis at 127.0.0.1:"),
        new("run", "--preset tiny --cluster redis://default:" + Secret + "@127.0.0.1:{closed} --home {home}"),
        new("run", "--preset tiny --cluster 127.0.0.1:{closed} --format json --home {home}"),

        // resume
        new("resume", "--home {home}"),
        new("resume", "nosuch --home {home}"),
        new("resume", "../x --home {home}"),
        new("resume", "broken --home {copy:home-corrupt-run}"),
        new("resume", "broken --home {copy:home-binary-run}", Process: true),
        new("resume", "broken --home {copy:home-corrupt-run} --format json"),
        new("resume", "r1 --home {copy:home-corrupt-prompt} --out /proc/spar-x"),
        new("resume", "r1 --home {copy:home-corrupt-prompt} --web-port {busy}", Process: true),
        new("resume", "r1 --home {copy:home-corrupt-prompt} --web-port abc"),
        new("resume", "r1 --cluster 127.0.0.1:{closed} --home {home}"),
        new("resume", "r1 --cluster \"not a host:xx\" --home {home}"),
        new("resume", "r1 --cluster 127.0.0.1:{closed},password=" + Secret + " --home {home}"),
        new("resume", "r1 --home {f:binary.bin}"),

        // status
        new("status", "--home {home}"),
        new("status", "nosuch --home {home}"),
        new("status", "../x --home {home}"),
        new("status", "broken --home {copy:home-corrupt-run}"),
        new("status", "--home {copy:home-corrupt-run}"),
        new("status", "broken --home {copy:home-binary-run} --format json"),
        new("status", "r1 --cluster 127.0.0.1:{closed}"),
        new("status", "--cluster 127.0.0.1:{closed}"),
        new("status", "r1 --cluster \"not a host:xx\"", Process: true),
        new("status", "r1 --cluster 127.0.0.1:{closed},password=" + Secret),
        new("status", "r1 --cluster rediss://user:" + Secret + "@127.0.0.1:{closed}"),
        new("status", "r1 --format xml --home {home}"),
        new("status", "r1 --home {f:binary.bin}"),

        // list
        new("list", "--home {copy:home-corrupt-run}"),
        new("list", "--home {copy:home-binary-run}"),
        new("list", "--home {copy:home-corrupt-run} --format json"),
        new("list", "--home {f:binary.bin}"),
        new("list", "--home {f:binary.bin} --format json"),
        new("list", "--format bogus"),
        new("list", "extra-argument"),

        // export
        new("export", "r1 --what dpo --to {out}/x.jsonl --home {copy:home-corrupt-prompt} --iteration 1", Process: true, Expect: "Stored prompt state"),
        new("export", "r1 --what judgments --to {out}/x.jsonl --home {copy:home-binary-prompt} --iteration 1"),
        new("export", "r1 --what trees --to {out}/x.json --home {copy:home-corrupt-prompt} --iteration 1 --format json"),
        new("export", "broken --what dpo --to {out}/x.jsonl --home {copy:home-corrupt-run}"),
        new("export", "nosuch --what dpo --to {out}/x.jsonl --home {home}"),
        new("export", "r1 --what bogus --to {out}/x.jsonl --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {out}/x.jsonl --iteration 0 --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {out}/x.jsonl --iteration -1 --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {out}/x.jsonl --iteration 2147483647 --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {out}/x.jsonl --iteration abc --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {out}/x.jsonl --style bogus --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {out}/x.jsonl --role-format bogus --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to /proc/spar-x.jsonl --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {f:a-directory} --home {copy:home-corrupt-prompt}"),
        new("export", "r1 --what dpo --to {out}/x.jsonl --home {f:binary.bin}"),

        // report
        new("report", "r1 --home {copy:home-corrupt-prompt} --out {out}", Process: true, Expect: "Stored prompt state"),
        new("report", "r1 --home {copy:home-binary-prompt} --out {out}"),
        new("report", "broken --home {copy:home-corrupt-run} --out {out}"),
        new("report", "broken --home {copy:home-binary-run} --out {out} --format json"),
        new("report", "nosuch --home {home} --out {out}"),
        new("report", "--home {home}"),
        new("report", "r1 --home {copy:home-corrupt-prompt} --out /proc/spar-report"),
        new("report", "r1 --home {copy:home-corrupt-prompt} --out {f:binary.bin}"),
        new("report", "r1 --home {f:binary.bin}"),

        // watch
        new("watch", "r1 --once --home {copy:home-corrupt-prompt}", Process: true, Expect: "Stored prompt state"),
        new("watch", "r1 --once --home {copy:home-binary-prompt} --format json"),
        new("watch", "r1 --home {copy:home-corrupt-prompt}"),
        new("watch", "broken --once --home {copy:home-corrupt-run}"),
        new("watch", "broken --home {copy:home-binary-run}"),
        new("watch", "nosuch --once --home {home}"),
        new("watch", "r1 --once --context 0 --home {copy:home-corrupt-prompt}"),
        new("watch", "r1 --once --context 1001 --home {copy:home-corrupt-prompt}"),
        new("watch", "r1 --once --context abc --home {copy:home-corrupt-prompt}"),
        new("watch", "r1 --once --iteration 0 --home {copy:home-corrupt-prompt}"),
        new("watch", "r1 --once --iteration 2147483647 --home {copy:home-corrupt-prompt}"),
        new("watch", "r1 --once --prompt nosuch --home {copy:home-corrupt-prompt}"),
        new("watch", "r1 --once --home {f:binary.bin}"),

        // eval ifeval
        new("eval ifeval", "--input {missing} --responses {f:responses.jsonl}"),
        new("eval ifeval", "--input {f:a-directory} --responses {f:responses.jsonl}"),
        new("eval ifeval", "--input {f:empty.jsonl} --responses {f:responses.jsonl}"),
        new("eval ifeval", "--input {f:malformed.jsonl} --responses {f:responses.jsonl}"),
        new("eval ifeval", "--input {f:truncated.jsonl} --responses {f:responses.jsonl}"),
        new("eval ifeval", "--input {f:binary.bin} --responses {f:responses.jsonl}"),
        new("eval ifeval", "--input {f:wrong-shape.jsonl} --responses {f:responses.jsonl}"),
        new("eval ifeval", "--input {f:ifeval-input.jsonl} --responses {missing}"),
        new("eval ifeval", "--input {f:ifeval-input.jsonl} --responses {f:malformed.jsonl}"),
        new("eval ifeval", "--input {f:ifeval-input.jsonl} --responses {f:binary.bin}"),
        new("eval ifeval", "--input {f:ifeval-input.jsonl} --responses {f:wrong-shape.jsonl}"),
        new("eval ifeval", "--input {f:ifeval-input.jsonl} --responses {f:a-directory} --format json"),
        new("eval ifeval", "--input {f:ifeval-input.jsonl} --responses {f:responses.jsonl} --output /proc/spar-x"),
        new("eval ifeval", "--input {f:ifeval-input.jsonl} --responses {f:responses.jsonl} --output {f:binary.bin}"),

        // eval sim
        new("eval sim", "--model {f:model-truncated} --n 2", Process: true, Expect: "truncated or corrupt"),
        new("eval sim", "--model {f:model-bad-header-length} --n 2"),
        new("eval sim", "--model {f:model-bad-header-json} --n 2"),
        new("eval sim", "--model {f:model-binary} --n 2"),
        new("eval sim", "--model {f:model-empty-weights} --n 2"),
        new("eval sim", "--model {f:model-bad-config} --n 2"),
        new("eval sim", "--model {f:empty-model} --n 2"),
        new("eval sim", "--model {missing} --n 2"),
        new("eval sim", "--responses {missing}"),
        new("eval sim", "--responses {f:malformed.jsonl}"),
        new("eval sim", "--responses {f:binary.bin}"),
        new("eval sim", "--responses {f:empty.jsonl}"),
        new("eval sim", "--responses {f:a-directory}"),
        new("eval sim", "--responses {f:responses.jsonl} --model {f:model}"),
        new("eval sim", "--model {f:model} --n 0"),
        new("eval sim", "--model {f:model} --n -3"),
        new("eval sim", "--model {f:model} --n 2147483647"),
        new("eval sim", "--model {f:model} --n abc"),
        new("eval sim", "--model {f:model} --n 2 --output /proc/spar-x"),
        new("eval sim", ""),

        // eval llmbar
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model}"),
        new("eval llmbar", "--data {f:llmbar-binary} --model {f:model}"),
        new("eval llmbar", "--data {f:llmbar-empty} --model {f:model}"),
        new("eval llmbar", "--data {missing} --model {f:model}"),
        new("eval llmbar", "--data {f:binary.bin} --model {f:model}"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model-truncated}", Process: true),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model-bad-header-length}"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {missing}"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model} --votes 0"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model} --votes 2147483647"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model} --limit -1"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model} --max-new-tokens 0"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model} --max-new-tokens 8193"),
        new("eval llmbar", "--data {f:llmbar-malformed} --model {f:model} --role-format bogus"),

        // world
        new("world sample", "--n 0"),
        new("world sample", "--n -1"),
        new("world sample", "--n 2147483647"),
        new("world sample", "--n abc"),
        new("world sample", "--level 0"),
        new("world sample", "--level 6"),
        new("world sample", "--task bogus"),
        new("world sample", "--split bogus"),
        new("world sample", "--format json"),
        new("world stats", "--n 0"),
        new("world stats", "--n 2147483647"),
        new("world stats", "--level 9"),
        new("world stats", "--task bogus --format json"),
        new("world stats", "--split x"),
        new("world benchmark", "--output {out}/b.jsonl --n 0"),
        new("world benchmark", "--output {out}/b.jsonl --n 2147483647"),
        new("world benchmark", "--output {out}/b.jsonl --n -5"),
        new("world benchmark", "--output /proc/spar-b.jsonl --n 2"),
        new("world benchmark", "--output {f:a-directory} --n 2"),
        new("world benchmark", "--n 2"),

        // search simulate
        new("search simulate", "--refiner-accuracy 1.5"),
        new("search simulate", "--refiner-accuracy -0.1"),
        new("search simulate", "--refiner-accuracy NaN"),
        new("search simulate", "--judge-accuracy 2"),
        new("search simulate", "--invalid-rate 1.1"),
        new("search simulate", "--n 0"),
        new("search simulate", "--n 2147483647", Expect: "between 1 and 100000"),
        new("search simulate", "--n -1"),
        new("search simulate", "--budget -1"),
        new("search simulate", "--budget 2147483647"),
        new("search simulate", "--branch 0"),
        new("search simulate", "--keep 0"),
        new("search simulate", "--depth 0"),
        new("search simulate", "--depth 2147483647"),
        new("search simulate", "--k 0"),
        new("search simulate", "--k 2147483647"),
        new("search simulate", "--tie-rejudges -1"),
        new("search simulate", "--policy bogus"),
        new("search simulate", "--seed x --format json"),

        // bench
        new("bench engine", "--quick --device tpu", Process: true, Expect: "device must be cpu, cuda or cuda:N"),
        new("bench engine", "--quick --threads 0"),
        new("bench engine", "--quick --threads -2"),
        new("bench engine", "--quick --threads 100000"),
        new("bench engine", "--quick --format json --device tpu"),
        new("bench checkpoint", "--quick --tokenizer {missing}"),
        new("bench checkpoint", "--quick --tokenizer {f:a-directory}"),
        new("bench checkpoint", "--quick --tokenizer {f:model-bad-tokenizer}"),
        new("bench checkpoint", "--quick --micro-batch 0"),
        new("bench checkpoint", "--quick --micro-batch 5"),
        new("bench checkpoint", "--quick --threads 100000"),
        new("bench checkpoint", "--quick --keep /proc/spar-keep"),
        new("bench search", "--refiner {f:model-truncated}", Process: true),
        new("bench search", "--refiner {f:model-bad-header-json}"),
        new("bench search", "--refiner {f:model-binary}"),
        new("bench search", "--refiner {missing}"),
        new("bench search", "--roots 0"),
        new("bench search", "--roots -1"),
        new("bench search", "--roots 2147483647"),
        new("bench search", "--generation-workers 0"),
        new("bench search", "--generation-workers 300"),

        // generate
        new("generate", "--model {missing} --prompt hi"),
        new("generate", "--model {f:empty-model} --prompt hi"),
        new("generate", "--model {f:model-truncated} --prompt hi", Process: true),
        new("generate", "--model {f:model-bad-header-length} --prompt hi"),
        new("generate", "--model {f:model-bad-header-json} --prompt hi"),
        new("generate", "--model {f:model-binary} --prompt hi"),
        new("generate", "--model {f:model-bad-config} --prompt hi"),
        new("generate", "--model {f:model-bad-tokenizer} --prompt hi"),
        new("generate", "--prompt hi"),
        new("generate", "--model {f:model}"),
        new("generate", "--model {f:model} --prompt hi --max-new-tokens 0"),
        new("generate", "--model {f:model} --prompt hi --max-new-tokens -1"),
        new("generate", "--model {f:model} --prompt hi --max-new-tokens 2147483647"),
        new("generate", "--model {f:model} --prompt hi --temperature -1"),
        new("generate", "--model {f:model} --prompt hi --temperature 11"),
        new("generate", "--model {f:model} --prompt hi --temperature NaN"),
        new("generate", "--model {f:model} --prompt hi --top-p 0"),
        new("generate", "--model {f:model} --prompt hi --top-p 1.5"),
        new("generate", "--model {f:model} --prompt hi --device tpu"),
        new("generate", "--model {f:model} --prompt hi --dtype int4"),
        new("generate", "--model {f:model} --messages {missing}"),
        new("generate", "--model {f:model} --messages {f:malformed.json}"),
        new("generate", "--model {f:model} --messages {f:empty.jsonl}"),
        new("generate", "--model {f:model} --messages {f:binary.bin}"),
        new("generate", "--model {f:model} --messages {f:wrong-shape.json}"),
        new("generate", "--model {f:model} --messages {f:a-directory} --format json"),
        new("generate", "--model {f:model} --prompt hi --adapter {missing}"),
        new("generate", "--model {f:model} --prompt hi --adapter {f:adapter-bad}"),

        // merge
        new("merge", "--model {f:model} --adapter {missing} --out {out}"),
        new("merge", "--model {f:model} --adapter {f:adapter-bad} --out {out}"),
        new("merge", "--model {f:model} --adapter {f:model} --out {out}"),
        new("merge", "--model {missing} --adapter {f:adapter-bad} --out {out}"),
        new("merge", "--model {f:model-truncated} --adapter {f:adapter-bad} --out {out}"),
        new("merge", "--model {f:model} --adapter {f:adapter-bad} --out /proc/spar-merged"),
        new("merge", "--model {f:model} --adapter {f:adapter-bad} --out {f:model}"),
        new("merge", "--model {f:model} --adapter {f:adapter-bad} --out {out} --dtype int8"),
        new("merge", "--adapter {f:adapter-bad} --out {out}"),

        // serve
        new("serve", "--model {f:model} --port 0 --device tpu"),
        new("serve", "--model nameless --port 0"),
        new("serve", "--model m={missing} --port 0"),
        new("serve", "--model m={f:model-truncated} --port 0", Process: true),
        new("serve", "--model m={f:model-bad-header-json} --port 0"),
        new("serve", "--model m={f:model-bad-config} --port 0"),
        new("serve", "--model m={f:model} --port {busy}", Process: true),
        new("serve", "--model m={f:model} --port -1"),
        new("serve", "--model m={f:model} --port 70000"),
        new("serve", "--model m={f:model} --port abc"),
        new("serve", "--model m={f:model} --port 0 --dtype int4"),
        new("serve", "--model m={f:model} --port 0 --max-batch 0"),
        new("serve", "--model m={f:model} --port 0 --max-batch 2147483647"),
        new("serve", "--model m={f:model} --model m={f:model} --port 0"),
        new("serve", "--model m={f:model} --adapter a=m:{missing} --port 0"),
        new("serve", "--model m={f:model} --adapter a=nosuch:{f:adapter-bad} --port 0"),
        new("serve", "--model m={f:model} --adapter bogus --port 0"),
        new("serve", "--port 0"),

        // train sft
        new("train sft", "--model {f:model} --data {missing} --out {out}"),
        new("train sft", "--model {f:model} --data {f:empty.jsonl} --out {out}"),
        new("train sft", "--model {f:model} --data {f:malformed.jsonl} --out {out}"),
        new("train sft", "--model {f:model} --data {f:truncated.jsonl} --out {out}"),
        new("train sft", "--model {f:model} --data {f:binary.bin} --out {out}"),
        new("train sft", "--model {f:model} --data {f:wrong-shape.jsonl} --out {out}"),
        new("train sft", "--model {f:model} --data {f:a-directory} --out {out}"),
        new("train sft", "--model {f:model-truncated} --data {f:responses.jsonl} --out {out}", Process: true),
        new("train sft", "--model {f:model-binary} --data {f:responses.jsonl} --out {out}"),
        new("train sft", "--model {missing} --data {f:responses.jsonl} --out {out}"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out /proc/spar-sft"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {f:binary.bin}"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --lora-rank -1"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --lora-rank 2147483647"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --lora-rank 4 --lora-dropout 1.5"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --lora-rank 4 --lora-targets bogus_proj"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --merge"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --epochs 0"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --epochs 2147483647"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --lr -1"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --lr NaN"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --batch-size 0"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --micro-batch-size 9"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --max-length 0"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --warmup-steps -1"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --max-steps -1"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --device tpu"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --dtype int4"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --threads 0"),
        new("train sft", "--model {f:model} --data {f:responses.jsonl} --out {out} --threads 100000"),

        // silo
        new("silo", "--storage {out}/state --role bogus"),
        new("silo", "--storage {out}/state --role \"\""),
        new("silo", "--storage \"\""),
        new("silo", "--role cpu"),
        new("silo", "--storage azurite:99999"),
        new("silo", "--storage azurite:abc"),
        new("silo", "--storage /proc/spar-state --redis 127.0.0.1:{closed}"),
        new("silo", "--storage {f:binary.bin} --redis 127.0.0.1:{closed}"),
        new("silo", "--storage {out}/state --redis 127.0.0.1:{closed}", Process: true),
        new("silo", "--storage {out}/state --redis \"not a host:xx\"", Process: true),
        new("silo", "--storage {out}/state --redis 127.0.0.1:{closed},password=" + Secret),
        new("silo", "--storage {out}/state --redis \"\""),
        new("silo", "--storage {out}/state --port {busy} --redis 127.0.0.1:{closed}", Process: true, Expect: "in use"),
        new("silo", "--storage {out}/state --gateway {busy} --redis 127.0.0.1:{closed}", Process: true),
        new("silo", "--storage {out}/state --port -1"),
        new("silo", "--storage {out}/state --generation-workers 0 --redis 127.0.0.1:{closed}", Expect: "Workers must be between 1 and 256"),
        new("silo", "--storage {out}/state --resident-models 0 --redis 127.0.0.1:{closed}", Expect: "ResidentModels"),
        new("silo", "--storage {out}/state --device tpu --redis 127.0.0.1:{closed}", Expect: "device must be cpu, cuda or cuda:N"),
        new("silo", "--storage {out}/state --port 70000"),
        new("silo", "--storage {out}/state --gateway 0"),
        new("silo", "--storage {out}/state --port abc"),
        new("silo", "--storage {out}/state --address not-an-ip"),
        new("silo", "--storage {out}/state --container \"Bad_Container!\" --redis 127.0.0.1:{closed}"),
        new("silo", "--storage \"DefaultEndpointsProtocol=http;AccountName=x;AccountKey=" + Secret + ";BlobEndpoint=http://127.0.0.1:{closed}/x\" --redis 127.0.0.1:{closed}"),

        // experiment pairs
        new("experiment pairs", "--seeds 0 --output {out} --results {out}/results.md"),
        new("experiment pairs", "--seeds -1 --output {out} --results {out}/results.md"),
        new("experiment pairs", "--steps 0 --output {out} --results {out}/results.md"),
        new("experiment pairs", "--eval-every 0 --output {out} --results {out}/results.md"),
        new("experiment pairs", "--lr -1 --output {out} --results {out}/results.md"),
        new("experiment pairs", "--task bogus --output {out} --results {out}/results.md"),
        new("experiment pairs", "--from-results {missing} --output {out} --results {out}/results.md"),
        new("experiment pairs", "--from-results {f:malformed.json} --output {out} --results {out}/results.md"),
        new("experiment pairs", "--from-results {f:binary.bin} --output {out} --results {out}/results.md"),
        new("experiment pairs", "--from-results {f:empty.jsonl} --output {out} --results {out}/results.md"),
        new("experiment pairs", "--from-results {f:wrong-shape.json} --output {out} --results {out}/results.md"),

        // experiment baselines / ablations
        new("experiment baselines", "--seeds 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment baselines", "--iterations -1 --home {home} --output {out} --results {out}/results.md"),
        new("experiment baselines", "--iterations 2147483647 --home {home} --output {out} --results {out}/results.md"),
        new("experiment baselines", "--prompts 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment baselines", "--variants bogus --home {home} --output {out} --results {out}/results.md"),
        new("experiment baselines", "--preset quick --home {home} --output {out} --results {out}/results.md"),
        new("experiment baselines", "--from-results {f:malformed.json} --home {home} --output {out} --results {out}/results.md"),
        new("experiment baselines", "--from-results {f:binary.bin} --home {home} --output {out} --results {out}/results.md"),
        new("experiment ablations", "--seeds 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment ablations", "--prompts -1 --home {home} --output {out} --results {out}/results.md"),
        new("experiment ablations", "--variants spar,bogus --home {home} --output {out} --results {out}/results.md"),
        new("experiment ablations", "--from-results {missing} --home {home} --output {out} --results {out}/results.md"),
        new("experiment ablations", "--from-results {f:wrong-shape.json} --home {home} --output {out} --results {out}/results.md"),
        new("experiment ablations", "--from-results {f:a-directory} --home {home} --output {out} --results {out}/results.md"),

        // experiment strategies
        new("experiment strategies", "--n 0 --output {out} --results {out}/results.md"),
        new("experiment strategies", "--n 2147483647 --output {out} --results {out}/results.md"),
        new("experiment strategies", "--seeds 0 --output {out} --results {out}/results.md"),
        new("experiment strategies", "--refiner-accuracy 2 --output {out} --results {out}/results.md"),
        new("experiment strategies", "--judge-accuracy -1 --output {out} --results {out}/results.md"),
        new("experiment strategies", "--budget 0 --output {out} --results {out}/results.md"),
        new("experiment strategies", "--votes 0 --output {out} --results {out}/results.md"),
        new("experiment strategies", "--n 2 --output /proc/spar-x --results {out}/results.md"),

        // experiment judgment
        new("experiment judgment", "--run {missing} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--run {f:a-directory} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--cases 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--teacher-cases 7 --home {home} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--max-votes 4 --home {home} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--max-votes 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--seeds 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--from-results {f:malformed.json} --output {out} --results {out}/results.md"),
        new("experiment judgment", "--from-results {f:binary.bin} --output {out} --results {out}/results.md"),

        // experiment scaling
        new("experiment scaling", "--actor {f:model} --home {home} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--actor {missing} --refiner {f:model} --home {home} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--actor {f:model-truncated} --refiner {f:model} --home {home} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--prompts 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--generations 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--votes 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--seeds 2147483647 --prompts 0 --home {home} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--from-results {f:malformed.json} --output {out} --results {out}/results.md"),
        new("experiment scaling", "--from-results {f:empty.jsonl} --output {out} --results {out}/results.md"),
    ];

    /// <summary>Cases that wait on a closed port (seconds each): they run in their own class, beside the others.</summary>
    internal static bool Waits(BadCase c) => c.Args.Contains("{closed}", StringComparison.Ordinal) && !c.Args.Contains("--generation", StringComparison.Ordinal);

    public static TheoryData<string> InProcessCases() => [.. Cases.Where(c => !Waits(c)).Select(c => c.Name)];

    public static TheoryData<string> WaitingCases() => [.. Cases.Where(Waits).Select(c => c.Name)];

    public static TheoryData<string> ProcessCases() =>
        [.. Cases.Where(c => c.Process || Environment.GetEnvironmentVariable("SPAR_WALK_ALL_AS_PROCESSES") == "1").Select(c => c.Name)];

    [Fact]
    public void Table_CoversEveryVerb()
    {
        var verbs = Leaves(SparCli.BuildRoot(TextWriter.Null, TextWriter.Null), "").ToList();
        var counts = Cases.GroupBy(c => c.Verb).ToDictionary(g => g.Key, g => g.Count());

        // A new verb joins the table with its own bad inputs; a verb that is gone leaves it.
        Assert.All(verbs, v => Assert.True(counts.GetValueOrDefault(v) >= 5, $"`spar {v}` has {counts.GetValueOrDefault(v)} bad-input cases; give it at least 5."));
        Assert.Empty(counts.Keys.Except(verbs));
        Assert.True(Cases.Length >= 200, $"{Cases.Length} cases");
        Assert.Equal(Cases.Length, Cases.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(InProcessCases))]
    public Task InProcess_OneErrorLineExit2NothingWritten(string name) => InProcessAsync(files, name);

    internal static async Task InProcessAsync(BadInputFiles files, string name)
    {
        var c = Cases.Single(x => x.Name == name);
        await AssertContractAsync(files, c, async args =>
        {
            var run = SparInvocation.Spar(args);
            var done = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.True(done == run, $"`spar {string.Join(' ', args)}` did not end within 30 s");
            return await run;
        });
    }

    internal static async Task AsProcessAsync(BadInputFiles files, string name)
    {
        var c = Cases.Single(x => x.Name == name);
        await AssertContractAsync(files, c, async args =>
        {
            await using var spar = SparProcess.Start(args);
            int code;
            try
            {
                code = await spar.WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"`spar {string.Join(' ', args)}` did not end within 60 s");
            }
            // The asynchronous readers may still hold the last lines.
            await Task.Delay(100);
            return (code, spar.Out, spar.Err);
        });
    }

    private static async Task AssertContractAsync(BadInputFiles files, BadCase c, Func<string[], Task<(int Code, string Out, string Err)>> invoke)
    {
        var caseDir = Path.Combine(files.Root, "cases", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(caseDir);
        var args = Resolve(files, c, caseDir);
        var before = (Snapshot(caseDir), Snapshot(files.Files));

        var (code, output, error) = await invoke(args);

        var line = $"`spar {string.Join(' ', args)}`";
        Assert.True(code == ExitCodes.UserError, $"{line}: exit {code}, stderr:\n{error}");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), $"{line}: stderr is not one error line:\n{error}");
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception:", error);
        Assert.DoesNotContain(Secret, error);
        if (c.Args.Contains("--format json", StringComparison.Ordinal))
        {
            Assert.All(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => JsonDocument.Parse(l).Dispose());
        }
        else
        {
            Assert.True(output.Length == 0, $"{line}: stdout is not empty:\n{output}");
        }
        if (c.Expect is { } expected)
        {
            Assert.Contains(expected, lines[0]);
        }
        Assert.True(before == (Snapshot(caseDir), Snapshot(files.Files)), $"{line}: it wrote something (partial state)");
    }

    private static string[] Resolve(BadInputFiles files, BadCase c, string caseDir)
    {
        var args = new List<string>(c.Verb.Split(' '));
        // Arguments split at spaces outside quotes; "" is an empty argument.
        foreach (var raw in System.Text.RegularExpressions.Regex.Matches(c.Args, "\"[^\"]*\"|\\S+").Select(m => m.Value))
        {
            var value = raw.StartsWith('"') ? raw[1..^1] : raw;
            value = value
                .Replace("{home}", Path.Combine(caseDir, "home"))
                .Replace("{out}", Path.Combine(caseDir, "out"))
                .Replace("{missing}", Path.Combine(caseDir, "missing.jsonl"))
                .Replace("{closed}", files.ClosedPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Replace("{busy}", files.BusyPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            value = System.Text.RegularExpressions.Regex.Replace(value, "\\{f:([^}]+)\\}", m => Path.Combine(files.Files, m.Groups[1].Value));
            value = System.Text.RegularExpressions.Regex.Replace(value, "\\{copy:([^}]+)\\}", m => Copy(Path.Combine(files.Files, m.Groups[1].Value), Path.Combine(caseDir, m.Groups[1].Value)));
            args.Add(value);
        }
        return [.. args];
    }

    private static string Copy(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return to;
    }

    /// <summary>Every file and folder under <paramref name="root"/> with a hash of its bytes.</summary>
    private static string Snapshot(string root) => string.Join('\n',
        Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? $"{Path.GetRelativePath(root, p)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}" : $"{Path.GetRelativePath(root, p)}/"));

    private static IEnumerable<string> Leaves(Command command, string path)
    {
        var name = path.Length == 0 ? "" : path;
        if (command.Subcommands.Count == 0)
        {
            yield return name;
            yield break;
        }
        foreach (var sub in command.Subcommands)
        {
            foreach (var leaf in Leaves(sub, name.Length == 0 ? sub.Name : $"{name} {sub.Name}"))
            {
                yield return leaf;
            }
        }
    }
}

/// <summary>The cases of <see cref="BadInputWalkTests"/> that wait on a closed port, in-process, in parallel with the rest.</summary>
public sealed class BadInputWalkWaitingTests(BadInputFiles files) : IClassFixture<BadInputFiles>
{
    [Theory]
    [MemberData(nameof(BadInputWalkTests.WaitingCases), MemberType = typeof(BadInputWalkTests))]
    public Task InProcess_OneErrorLineExit2NothingWritten(string name) => BadInputWalkTests.InProcessAsync(files, name);
}

/// <summary>
/// The cases of <see cref="BadInputWalkTests"/> marked <see cref="BadInputWalkTests.BadCase.Process"/>, as real `spar`
/// processes: an exception on a background thread or a native abort (exit 134) only shows there.
/// SPAR_WALK_ALL_AS_PROCESSES=1 runs every case so (about 12 minutes on 2 cores).
/// </summary>
public sealed class BadInputWalkProcessTests(BadInputFiles files) : IClassFixture<BadInputFiles>
{
    [Theory]
    [MemberData(nameof(BadInputWalkTests.ProcessCases), MemberType = typeof(BadInputWalkTests))]
    public Task AsProcess_OneErrorLineExit2NothingWritten(string name) => BadInputWalkTests.AsProcessAsync(files, name);
}
