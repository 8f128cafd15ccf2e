// Reference tokenizer results from transformers.js (an implementation independent of ours) for the engine's tests.
// Reads one JSON request on stdin:
//   {"folder": "<dir with tokenizer.json + tokenizer_config.json>", "chat_template": optional override,
//    "texts": ["..."], "conversations": [{"messages": [{"role", "content"}], "add_generation_prompt": bool,
//                                         "chat_template": optional override, "options": {template variables}}]}
// and prints {"encodings": [[ids]], "decodes": [{"skip": str, "keep": str}], "chats": [{"text": str, "ids": [ids]}]}.
// Encodings use add_special_tokens=false; decodes are of those ids; chats are apply_chat_template renderings
// (tokenize=false) and their tokens.
import { AutoTokenizer, env } from "@huggingface/transformers";
import path from "node:path";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const folder = path.resolve(request.folder);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(folder) + path.sep;
const tokenizer = await AutoTokenizer.from_pretrained(path.basename(folder));

const encodings = [];
const decodes = [];
for (const text of request.texts ?? []) {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  encodings.push(ids);
  // transformers.js refuses to decode nothing; HF gives "".
  decodes.push(ids.length === 0 ? { skip: "", keep: "" } : {
    skip: tokenizer.decode(ids, { skip_special_tokens: true }),
    keep: tokenizer.decode(ids, { skip_special_tokens: false }),
  });
}

const chats = [];
for (const c of request.conversations ?? []) {
  const common = {
    add_generation_prompt: c.add_generation_prompt ?? true,
    ...(c.chat_template ?? request.chat_template ? { chat_template: c.chat_template ?? request.chat_template } : {}),
    ...(c.options ?? {}),
  };
  const text = tokenizer.apply_chat_template(c.messages, { ...common, tokenize: false });
  // HF tokenizes a rendering without adding special tokens (the template wrote them); so does this.
  chats.push({ text, ids: tokenizer.encode(text, { add_special_tokens: false }) });
}

process.stdout.write(JSON.stringify({ encodings, decodes, chats }));
