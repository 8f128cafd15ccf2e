// Reference tokenizer results for the engine's tests, from Hugging Face's JavaScript implementation (independent of
// ours): @huggingface/tokenizers for encode/decode and @huggingface/jinja for chat templates, the two libraries
// transformers.js 4.x is built on, used here as its PreTrainedTokenizer uses them (transformers.js itself would add
// ~900 MB of onnxruntime and sharp to `npm ci`, and an onnxruntime install script, for nothing these tests need).
// Reads one JSON request on stdin:
//   {"folder": "<dir with tokenizer.json + tokenizer_config.json>",
//    "texts": ["..."], "conversations": [{"messages": [{"role", "content"}], "add_generation_prompt": bool,
//                                         "chat_template": optional override, "options": {template variables}}]}
// and prints {"encodings": [[ids]], "decodes": [{"skip": str, "keep": str}],
//            "chats": [{"text": str, "ids": [ids]} or {"error": str} where the template raised]}.
// Encodings use add_special_tokens=false; decodes are of those ids; chats are apply_chat_template renderings
// (tokenize=false) and their tokens.
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";
import fs from "node:fs";
import path from "node:path";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const read = (name) => JSON.parse(fs.readFileSync(path.join(request.folder, name), "utf8"));
const config = read("tokenizer_config.json");
const tokenizer = new Tokenizer(read("tokenizer.json"), config);
const encode = (text) => tokenizer.encode(text, { add_special_tokens: false }).ids;

const encodings = [];
const decodes = [];
for (const text of request.texts ?? []) {
  const ids = encode(text);
  encodings.push(ids);
  // The library refuses to decode nothing; HF gives "".
  decodes.push(ids.length === 0 ? { skip: "", keep: "" } : {
    skip: tokenizer.decode(ids, { skip_special_tokens: true }),
    keep: tokenizer.decode(ids, { skip_special_tokens: false }),
  });
}

// As transformers.js's apply_chat_template: the template's "default" when it is a list, the special tokens of
// tokenizer_config.json as variables, and the rendering tokenized without adding special tokens.
const configTemplate = Array.isArray(config.chat_template)
  ? config.chat_template.find((t) => t.name === "default")?.template
  : config.chat_template;
const specialTokens = {};
for (const key of ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]) {
  const value = config[key];
  if (value) specialTokens[key] = typeof value === "object" ? value.content : value;
}
const compiled = new Map();
const chats = [];
for (const c of request.conversations ?? []) {
  const source = c.chat_template ?? configTemplate;
  if (!source) throw new Error(`${request.folder}: no chat_template`);
  if (!compiled.has(source)) compiled.set(source, new Template(source));
  let text;
  try {
    text = compiled.get(source).render({
      messages: c.messages,
      add_generation_prompt: c.add_generation_prompt ?? true,
      tools: null,
      documents: null,
      ...specialTokens,
      ...(c.options ?? {}),
    });
  } catch (e) {
    // A template's raise_exception (e.g. a role it does not support) is an answer too.
    chats.push({ error: String(e.message ?? e) });
    continue;
  }
  chats.push({ text, ids: encode(text) });
}

process.stdout.write(JSON.stringify({ encodings, decodes, chats }));
