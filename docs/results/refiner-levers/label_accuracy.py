#!/usr/bin/env python3
"""How often the labels the refiner would train on are right, against the verifiers.

    python3 label_accuracy.py JUDGMENTS.jsonl... [--rft RFT.jsonl...]

JUDGMENTS are `spar export RUN --iteration T --what judgments` files (one line per vote, the verifiers' truth in
"verifier"): printed per source (the actor's samples, tree nodes), majority verdict and agreement (unanimous, 4-1,
3-2), the share of votes whose majority verdict the verifiers confirm, and every sampled judgment of those votes by
whether its checks all name sentences of the prompt. RFT are `spar export RUN --iteration T --what
rft` files of the same runs and iterations (the set RFT trained on): each judgment example is matched to its vote by
instruction and response (compact role format) and counted per verdict, with the share of those judgments whose every
check line names a sentence of the prompt (the compact judge names a constraint by copying the prompt's sentence; a
name the prompt lacks is a miscopied constraint, e.g. a keyword the prompt never asked for). The judge's own greedy
accuracy on the frozen set is the bar such labels must clear to teach it anything.
"""
import collections
import json
import sys


def agreement(vote):
    yes, no = vote["yes"], vote["no"]
    if yes == 0 or no == 0:
        return "unanimous"
    return "4-1" if max(yes, no) >= 4 else "split"


def table(title, counts, grounded=None):
    print(f"\n{title}\n")
    print("| source | verdict | agreement | labels | right |" + (" checks all named from the prompt |" if grounded else ""))
    print("|---|---|---|---:|---:|" + ("---:|" if grounded else ""))
    for key in sorted(counts):
        right, total = counts[key]
        extra = f" {100 * grounded[key] / total:.1f}% |" if grounded else ""
        print(f"| {' | '.join(key)} | {total} | {100 * right / total:.1f}% |{extra}")


def named_from_prompt(instruction, judgment):
    checks = [line for line in judgment.split("\n") if ":" in line and (line.endswith(" ok") or line.endswith(" NO"))]
    return bool(checks) and all(line.split(":", 1)[0] in instruction for line in checks)


def main(args):
    split = args.index("--rft") if "--rft" in args else len(args)
    judgments, rft = args[:split], args[split + 1:]
    votes = collections.defaultdict(lambda: [0, 0])
    sampled = collections.defaultdict(lambda: [0, 0])
    truth = {}
    for path in judgments:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                vote = json.loads(line)
                if vote.get("verifier") is None:
                    continue
                truth[(vote["instruction"], vote["response"])] = vote["verifier"]
                for judgment in vote["judgments"]:
                    verdict = judgment.rstrip().rsplit(" ", 1)[-1]
                    if verdict in ("yes", "no"):
                        key = (vote["source"], "named from the prompt" if named_from_prompt(vote["instruction"], judgment) else "not", "all")
                        sampled[key][0] += (verdict == "yes") == vote["verifier"]
                        sampled[key][1] += 1
                if vote["verdict"] not in ("yes", "no"):
                    continue
                right = (vote["verdict"] == "yes") == vote["verifier"]
                for key in [(vote["source"], vote["verdict"], agreement(vote)), (vote["source"], vote["verdict"], "all"),
                            (vote["source"], "all", "all")]:
                    votes[key][0] += right
                    votes[key][1] += 1
    table("Majority verdicts of the loop's votes", votes)
    table("Every sampled judgment of those votes, by whether its checks all name the prompt's sentences", sampled)
    if not rft:
        return
    labels = collections.defaultdict(lambda: [0, 0])
    grounded = collections.Counter()
    unmatched = 0
    for path in rft:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                messages = json.loads(line)["messages"]
                prompt, target = messages[0]["content"], messages[-1]["content"]
                if not prompt.startswith("J|"):
                    continue
                _, instruction, response = prompt.split("|", 2)
                if instruction.count("|") or (instruction, response) not in truth:
                    unmatched += 1
                    continue
                verdict = "yes" if target.rstrip().endswith("yes") else "no"
                right = (verdict == "yes") == truth[(instruction, response)]
                for key in [("rft", verdict, "all"), ("rft", "all", "all")]:
                    labels[key][0] += right
                    labels[key][1] += 1
                    grounded[key] += named_from_prompt(instruction, target)
    table(f"Judgments in the RFT sets ({unmatched} not matched to a vote)", labels, grounded)


if __name__ == "__main__":
    main(sys.argv[1:])
