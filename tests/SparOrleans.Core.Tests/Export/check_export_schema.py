#!/usr/bin/env python3
"""Checks files written by `spar export` against what TRL's and LLaMA-Factory's loaders require.

Neither TRL nor LLaMA-Factory (nor `datasets`) is packaged by Debian, so this re-states their loaders' rules in plain
python3 (stdlib only). Every rule names the code or document it comes from. Where a loader would silently drop or
misread a row (LLaMA-Factory logs "Skipping this abnormal example"; TRL tokenizes plain strings without the chat
template), this check fails instead: an export that loads "without edits" must lose nothing.

Usage:
  check_export_schema.py trl-preference FILE      TRL conversational preference rows (DPOTrainer)
  check_export_schema.py trl-lm FILE              TRL conversational language-modeling rows (SFTTrainer)
  check_export_schema.py llama-factory DIR NAME --stage sft|dpo
                                                  the dataset NAME of DIR/dataset_info.json and its data file

Exit 0 when every row passes; 1 with one "FILE:LINE: problem" line per problem (at most 20) otherwise; 2 on usage.
"""

import json
import os
import sys

MAX_PROBLEMS = 20

# TRL data_utils.is_conversational / maybe_apply_chat_template: the keys TRL looks at.
TRL_KEYS = ("prompt", "chosen", "rejected", "completion", "messages")
# TRL docs (dataset_formats, "conversational" format): each message is {"role", "content"}; roles system/user/assistant.
TRL_ROLES = ("system", "user", "assistant")

# LLaMA-Factory src/llamafactory/data/parser.py DatasetAttr.join: the only "columns" and "tags" keys it reads; any other
# key is ignored silently, so a misspelt one falls back to a default (e.g. messages -> "conversations").
LF_COLUMNS = ("prompt", "query", "response", "history", "messages", "system", "tools",
              "images", "videos", "audios", "chosen", "rejected", "kto_tag")
LF_TAGS = ("role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag")
# parser.py DatasetAttr defaults.
LF_DEFAULTS = {
    "prompt": "instruction", "query": "input", "response": "output", "history": None, "messages": "conversations",
    "system": None, "tools": None, "images": None, "videos": None, "audios": None, "chosen": None, "rejected": None,
    "kto_tag": None,
    "role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
    "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system",
}
# LLaMA-Factory src/llamafactory/extras/constants.py FILEEXT2TYPE: extension -> `datasets` builder.
LF_FILEEXT2TYPE = {"arrow": "arrow", "csv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet", "txt": "text"}
# parser.py get_dataset_list: these keys make the entry load from a hub or a script instead of file_name.
LF_NOT_LOCAL = ("hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name")


class Problems:
    def __init__(self):
        self.lines = []

    def add(self, where, message):
        self.lines.append(f"{where}: {message}")

    def __bool__(self):
        return bool(self.lines)


def read_rows(path, problems):
    """Rows as `datasets`' json builder reads them: a JSON array file, or one JSON object per non-blank line."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        problems.add(path, f"cannot read ({e})")
        return rows
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except ValueError as e:
            problems.add(path, f"not valid JSON ({e})")
            return rows
        return [(f"{path}:[{i}]", row) for i, row in enumerate(data)]
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"{path}:{number}", json.loads(line)))
        except ValueError as e:
            problems.add(f"{path}:{number}", f"not valid JSON ({e})")
    if not rows and not problems:
        problems.add(path, "no rows")
    return rows


def column_types(rows, problems):
    """`datasets` builds one Arrow schema for the file: a column that is a string in one row and a list or object in
    another fails to load (pyarrow's "changed from string to list"-type errors)."""
    seen = {}
    for where, row in rows:
        if not isinstance(row, dict):
            continue
        for key, value in row.items():
            kind = type(value).__name__
            if key in seen and seen[key][0] != kind and value is not None:
                problems.add(where, f"column '{key}' is {kind} here but {seen[key][0]} at {seen[key][1]}: one Arrow schema cannot hold both")
            else:
                seen.setdefault(key, (kind, where))


# ---------------------------------------------------------------------------------------------------------------- TRL

def trl_message_list(where, name, value, problems):
    """TRL docs, conversational format: a list of {"role", "content"} messages with roles system/user/assistant."""
    if not isinstance(value, list) or not value:
        problems.add(where, f"'{name}' must be a non-empty list of messages")
        return False
    ok = True
    for i, message in enumerate(value):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            problems.add(where, f"'{name}'[{i}] must be an object with exactly the keys role and content")
            ok = False
        elif message["role"] not in TRL_ROLES:
            problems.add(where, f"'{name}'[{i}] has role {message['role']!r}; TRL's chat roles are {', '.join(TRL_ROLES)}")
            ok = False
        elif not isinstance(message["content"], str):
            problems.add(where, f"'{name}'[{i}] content must be a string")
            ok = False
    return ok


def trl_is_conversational(row):
    """TRL data_utils.is_conversational: the first supported key's value is a list whose first item is a dict with
    "role" and "content". Only then does maybe_apply_chat_template apply the tokenizer's chat template."""
    for key in TRL_KEYS:
        if key in row:
            value = row[key]
            return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "role" in value[0] and "content" in value[0]
    return False


def check_trl(path, kind, problems):
    rows = read_rows(path, problems)
    # maybe_apply_chat_template raises KeyError("Invalid keys in the example") for other key sets; the docs' types:
    # language modeling = {"messages"}, preference (explicit prompt) = {"prompt", "chosen", "rejected"}.
    expected = {"messages"} if kind == "lm" else {"prompt", "chosen", "rejected"}
    for where, row in rows:
        if not isinstance(row, dict):
            problems.add(where, "not a JSON object")
            continue
        keys = {k for k in row if k in TRL_KEYS}
        if keys != expected:
            problems.add(where, f"TRL keys {sorted(keys)}; the conversational {'language-modeling' if kind == 'lm' else 'preference'} type has {sorted(expected)}")
            continue
        if not trl_is_conversational(row):
            problems.add(where, "not conversational: TRL's is_conversational is False for plain strings, so the trainer "
                                "would skip the chat template")
            continue
        if kind == "lm":
            trl_message_list(where, "messages", row["messages"], problems)
            continue
        if not all(trl_message_list(where, name, row[name], problems) for name in ("prompt", "chosen", "rejected")):
            continue
        # maybe_apply_chat_template: a prompt ending with a user turn gets add_generation_prompt=True; any role other
        # than user/assistant raises ValueError("Invalid role in the last message"). An assistant-final prompt would
        # be continued (continue_final_message), which is not a DPO prompt: require user.
        if row["prompt"][-1]["role"] != "user":
            problems.add(where, f"prompt ends with a {row['prompt'][-1]['role']!r} turn; a DPO prompt ends with the user's turn")
        # The chosen/rejected completions are appended to the prompt (prompt + chosen) and templated as the model's answer.
        for name in ("chosen", "rejected"):
            if any(m["role"] != "assistant" for m in row[name]):
                problems.add(where, f"'{name}' must hold assistant turns only")
    column_types(rows, problems)


# ------------------------------------------------------------------------------------------------------ LLaMA-Factory

def lf_entry(directory, name, problems):
    """parser.py get_dataset_list: dataset_info.json is json.load-ed from dataset_dir; the name must be a key of it."""
    info_path = os.path.join(directory, "dataset_info.json")
    try:
        with open(info_path, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        problems.add(info_path, f"cannot be loaded ({e}); LLaMA-Factory raises 'Cannot open {info_path}'")
        return None, info_path
    if not isinstance(info, dict):
        problems.add(info_path, "must be a JSON object of dataset entries")
        return None, info_path
    if name not in info:
        problems.add(info_path, f"no entry '{name}' (LLaMA-Factory: 'Undefined dataset {name} in dataset_info.json')")
        return None, info_path
    entry = info[name]
    if not isinstance(entry, dict):
        problems.add(info_path, f"entry '{name}' must be an object")
        return None, info_path
    return entry, info_path


def lf_attributes(entry, where, problems):
    """parser.py DatasetAttr: defaults, overridden by formatting/ranking and the known columns/tags keys."""
    attr = dict(LF_DEFAULTS)
    for key in LF_NOT_LOCAL:
        if key in entry:
            problems.add(where, f"'{key}' makes LLaMA-Factory load from elsewhere, not file_name")
    if not isinstance(entry.get("file_name"), str) or not entry.get("file_name"):
        problems.add(where, "'file_name' (a file in dataset_dir) is required for a local dataset")
    attr["file_name"] = entry.get("file_name")
    attr["formatting"] = entry.get("formatting", "alpaca")
    if attr["formatting"] not in ("alpaca", "sharegpt"):
        problems.add(where, f"formatting {attr['formatting']!r}; LLaMA-Factory knows alpaca and sharegpt")
    attr["ranking"] = entry.get("ranking", False)
    if not isinstance(attr["ranking"], bool):
        problems.add(where, "'ranking' must be true or false")
    for group, known in (("columns", LF_COLUMNS), ("tags", LF_TAGS)):
        values = entry.get(group, {})
        if not isinstance(values, dict):
            problems.add(where, f"'{group}' must be an object")
            continue
        for key, value in values.items():
            if key not in known:
                problems.add(where, f"'{group}.{key}' is not read by LLaMA-Factory (known: {', '.join(known)})")
            elif value is not None and not isinstance(value, str):
                problems.add(where, f"'{group}.{key}' must be a string")
        # join() calls set_attr(key, attr["columns"]) for every known key: a key left out becomes None, not the default.
        for key in known:
            if group in entry:
                attr[key] = values.get(key)
    # data/README.md: "ranking: true" marks preference data, whose rows need the chosen and rejected columns.
    if attr["ranking"] and (not attr["chosen"] or not attr["rejected"]):
        problems.add(where, "ranking: true needs columns.chosen and columns.rejected")
    return attr


def lf_sharegpt(where, row, attr, problems):
    """converter.py SharegptDatasetConverter, then processor/{supervised,pairwise}.py's length checks."""
    role, content = attr["role_tag"], attr["content_tag"]
    user, assistant, observation, function, system = (attr[t] for t in ("user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"))
    if attr["messages"] not in row:
        problems.add(where, f"no messages column '{attr['messages']}'")
        return
    messages = row[attr["messages"]]
    if not isinstance(messages, list):
        problems.add(where, f"'{attr['messages']}' must be a list")
        return
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or role not in m or content not in m:
            problems.add(where, f"message {i} needs the keys '{role}' and '{content}' (tags.role_tag / tags.content_tag)")
            return
        if not isinstance(m[content], str):
            problems.add(where, f"message {i} content must be a string")
            return
    # A first message with the system tag becomes the system prompt and leaves the turns.
    if system and messages and messages[0][role] == system:
        messages = messages[1:]
    # Turns alternate: odd positions (1st, 3rd, ...) user or observation, even ones assistant or function_call;
    # anything else is "Invalid role tag" and the example is skipped.
    accept = ((user, observation), (assistant, function))
    for i, m in enumerate(messages):
        if m[role] not in accept[i % 2]:
            problems.add(where, f"turn {i + 1} has role {m[role]!r}; LLaMA-Factory expects {' or '.join(repr(t) for t in accept[i % 2] if t)} there "
                                "(Invalid role tag: the example would be skipped)")
            return
    # "Invalid message count": an SFT conversation ends with the assistant (even count); a ranking prompt ends with
    # the user (odd count), its answers being the chosen/rejected columns.
    if (not attr["ranking"] and len(messages) % 2 != 0) or (attr["ranking"] and len(messages) % 2 == 0):
        problems.add(where, f"{len(messages)} turns after the system prompt: {'odd' if attr['ranking'] else 'even'} needed "
                            "(Invalid message count: the example would be skipped)")
        return
    if attr["ranking"]:
        # Pairwise only when both columns hold a single message object; otherwise it is read as a normal example.
        for name in ("chosen", "rejected"):
            value = row.get(attr[name])
            if not isinstance(value, dict):
                problems.add(where, f"'{attr[name]}' must be one message object for a pairwise example")
                return
            if value.get(role) not in accept[1] or not isinstance(value.get(content), str):
                problems.add(where, f"'{attr[name]}' must be an {assistant!r} turn with string content (Invalid role tag)")
                return
        prompt = messages
    else:
        prompt = messages[:-1]
    # processor/supervised.py and processor/pairwise.py drop ("Dropped invalid example") a prompt that is not an odd
    # number of turns; the response (the last turn, or chosen + rejected) has the right length by construction here.
    if len(prompt) % 2 != 1:
        problems.add(where, f"{len(prompt)} prompt turns; an odd number is needed (the example would be dropped)")


def lf_alpaca(where, row, attr, problems):
    """converter.py AlpacaDatasetConverter: prompt (+ query) is the user turn; response, or chosen/rejected strings."""
    if not isinstance(row.get(attr["prompt"]), str):
        problems.add(where, f"column '{attr['prompt']}' must be a string")
    if attr["ranking"]:
        if not isinstance(row.get(attr["chosen"]), str) or not isinstance(row.get(attr["rejected"]), str):
            problems.add(where, f"ranking rows need string columns '{attr['chosen']}' and '{attr['rejected']}'")
    elif not isinstance(row.get(attr["response"]), str):
        problems.add(where, f"column '{attr['response']}' must be a string")


def check_llama_factory(directory, name, stage, problems):
    entry, info_path = lf_entry(directory, name, problems)
    if entry is None:
        return
    where = f"{info_path}: '{name}'"
    attr = lf_attributes(entry, where, problems)
    # loader.py _get_merged_dataset: "The dataset is not applicable in the current training stage." DPO loads its data
    # with stage "rm", which needs ranking datasets; SFT needs non-ranking ones.
    if (stage == "dpo") != bool(attr["ranking"]):
        problems.add(where, f"ranking is {attr['ranking']}; stage {stage} needs ranking {stage == 'dpo'} (not applicable in the current training stage)")
    if problems or not attr["file_name"]:
        return
    # loader.py _load_single_dataset: file_name is joined to dataset_dir; the extension picks the builder.
    data_path = os.path.join(directory, attr["file_name"])
    if not os.path.isfile(data_path):
        problems.add(where, f"file_name {attr['file_name']!r} is not a file in {directory}")
        return
    extension = os.path.splitext(data_path)[1].lstrip(".")
    if LF_FILEEXT2TYPE.get(extension) != "json":
        problems.add(where, f"extension {extension!r} is read with the {LF_FILEEXT2TYPE.get(extension, 'no')} builder, not json")
        return
    rows = read_rows(data_path, problems)
    for row_where, row in rows:
        if not isinstance(row, dict):
            problems.add(row_where, "not a JSON object")
        elif attr["formatting"] == "sharegpt":
            lf_sharegpt(row_where, row, attr, problems)
        else:
            lf_alpaca(row_where, row, attr, problems)
    column_types(rows, problems)


def main(argv):
    problems = Problems()
    if len(argv) == 3 and argv[1] in ("trl-preference", "trl-lm"):
        check_trl(argv[2], "lm" if argv[1] == "trl-lm" else "preference", problems)
    elif len(argv) == 6 and argv[1] == "llama-factory" and argv[4] == "--stage" and argv[5] in ("sft", "dpo"):
        check_llama_factory(argv[2], argv[3], argv[5], problems)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for line in problems.lines[:MAX_PROBLEMS]:
        print(line)
    if len(problems.lines) > MAX_PROBLEMS:
        print(f"... and {len(problems.lines) - MAX_PROBLEMS} more")
    if not problems:
        print("ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
