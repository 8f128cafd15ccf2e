"""PEFT LoRA adapter fixtures for the independent HF reference (hf_reference.py), written as PEFT 0.13 writes them.

Run after hf_reference.py:  /usr/bin/python3 tests/SparOrleans.Engine.Tests/Reference/peft_reference.py
(deterministic; fixed seeds). No `peft`/`safetensors` package is used. For each adapter it writes, under
models/<base case>/adapters/<adapter>/:
  adapter_config.json        PeftConfigMixin.save_pretrained: json.dumps(to_dict(), indent=2, sort_keys=True), no
                             trailing newline; target_modules is a set in PEFT, so its list order is arbitrary.
  adapter_model.safetensors  F32, names base_model.model.<module>.lora_A.weight [r, in] / .lora_B.weight [out, r]
                             (PEFT strips the adapter name "default"), metadata {"format": "pt"}.
  golden.json                hf_reference's golden schema with the adapter applied as PEFT's LoRA Linear does at
                             inference (y = W x + B(A x) * scaling, dropout off, adapter in fp32 on top of the stored
                             base weights upcast to fp32), plus lora_scaling, merged_max_abs_diff_bf16, ...
A and B are both random (B != 0, unlike a fresh PEFT adapter), so the adapter changes the output.
"""
import json, math, os
import numpy as np
import torch
import hf_reference as hf

torch.set_num_threads(1)

ALL7 = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# (base case, adapter folder, r, lora_alpha, lora_dropout, use_rslora, target_modules as written (set order))
ADAPTERS = [
    ("llama-gqa-untied-bf16-sharded", "lora-qv", 4, 16, 0.05, False, ["v_proj", "q_proj"]),
    ("qwen3-qknorm", "lora-all-rslora", 8, 8, 0.05, True,
     ["down_proj", "k_proj", "up_proj", "o_proj", "q_proj", "gate_proj", "v_proj"]),
]

def module_path(i, t):
    return f"model.layers.{i}.{'self_attn' if t in ('q_proj', 'k_proj', 'v_proj', 'o_proj') else 'mlp'}.{t}"

def adapter_config(base, r, alpha, dropout, rslora, targets):
    """LoraConfig(...).to_dict() of PEFT 0.13 for these settings, set -> list as save_pretrained does."""
    return {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base, "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {}, "lora_alpha": alpha,
        "lora_dropout": dropout, "megatron_config": None, "megatron_core": "megatron.core", "modules_to_save": None,
        "peft_type": "LORA", "r": r, "rank_pattern": {}, "revision": None, "target_modules": list(targets),
        "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": rslora,
    }

def load_base(case):
    d = os.path.join(hf.OUT, case)
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"): W.update(hf.read_safetensors(os.path.join(d, f)))
    W = {k: v for k, v in W.items() if not k.endswith("rotary_emb.inv_freq")}
    golden = json.load(open(os.path.join(d, "golden.json")))
    return cfg, W, golden

def draw_adapter(cfg, W, r, targets, scaling, seed):
    g = torch.Generator().manual_seed(seed)
    lora = {}
    for i in range(cfg["num_hidden_layers"]):
        for t in ALL7:                                     # fixed draw order, independent of the written set order
            if t not in targets: continue
            m = module_path(i, t)
            out_f, in_f = W[m + ".weight"].shape
            A = (torch.randn(r, in_f, generator=g) * 0.1).numpy()
            B = (torch.randn(out_f, r, generator=g) * 0.1).numpy()
            lora[m] = (A, B, scaling)
    return lora

def max_diff(ra, rb):
    real = ra["mask"].bool()
    return max([float((a - b).abs().max()) for a, b in zip(ra["alone"], rb["alone"])] +
               [float((ra["padded"][real] - rb["padded"][real]).abs().max())])

def main():
    summary = []
    for ai, (case, name, r, alpha, dropout, rslora, targets) in enumerate(ADAPTERS):
        cfg, W, golden = load_base(case)
        prompts = golden["prompts"]
        scaling = alpha / math.sqrt(r) if rslora else alpha / r
        base32 = hf.run_all(W, cfg, prompts, torch.float32)
        assert base32["greedy"] == golden["greedy"], case        # base on disk matches its golden
        for attempt in range(50):
            seed = 100000 + 1000 * ai + attempt
            lora = draw_adapter(cfg, W, r, targets, scaling, seed)
            r32 = hf.run_all(W, cfg, prompts, torch.float32, lora=lora)
            if r32["margin"] > 5e-3: break
        r64 = hf.run_all(W, cfg, prompts, torch.float64, lora=lora)
        assert r32["greedy"] == r64["greedy"] and r32["greedy_cached"] == r64["greedy_cached"], name
        fp64_diff = max_diff(r32, r64)
        # merge into a bf16 checkpoint: W' = bf16(W_fp32 + B A * scaling), delta in fp32, rounded once
        Wm = dict(W)
        for m, (A, B, s) in lora.items():
            delta = (B.astype(np.float32) @ A.astype(np.float32)) * np.float32(s)
            Wm[m + ".weight"] = hf.round_to(W[m + ".weight"] + delta, "BF16")
        rm = hf.run_all(Wm, cfg, prompts, torch.float32)
        merged = max_diff(r32, rm)
        # merged in fp32 (no rounding): must equal the unmerged forward up to fp32 noise
        Wf = dict(W)
        for m, (A, B, s) in lora.items(): Wf[m + ".weight"] = W[m + ".weight"] + (B @ A) * np.float32(s)
        merged_f32 = max_diff(r32, hf.run_all(Wf, cfg, prompts, torch.float32))
        vs_base = max_diff(r32, base32)

        d = os.path.join(hf.OUT, case, "adapters", name); os.makedirs(d, exist_ok=True)
        for f in os.listdir(d): os.remove(os.path.join(d, f))
        with open(os.path.join(d, "adapter_config.json"), "w") as w:
            w.write(json.dumps(adapter_config(case, r, alpha, dropout, rslora, targets), indent=2, sort_keys=True))
        tensors = []
        for m, (A, B, _) in lora.items():
            tensors.append((f"base_model.model.{m}.lora_A.weight", A, "F32"))
            tensors.append((f"base_model.model.{m}.lora_B.weight", B, "F32"))
        path = os.path.join(d, "adapter_model.safetensors")
        hf.write_safetensors(path, tensors)
        back = hf.read_safetensors(path)
        assert len(back) == len(tensors) and all(np.array_equal(back[n], a) for n, a, _ in tensors), name
        hf.write_golden(os.path.join(d, "golden.json"), case, golden["dtype_on_disk"], prompts, r32, extra={
            "adapter": name, "adapter_dtype_on_disk": "F32", "lora_r": r, "lora_alpha": alpha, "use_rslora": rslora,
            "lora_scaling": scaling,
            "merged_max_abs_diff_bf16": float(np.float32(merged)),
            "merged_greedy_bf16": rm["greedy"],
            "max_abs_diff_vs_base": float(np.float32(vs_base)),
        })
        summary.append((case, name, seed, scaling, r32["margin"], merged, rm["greedy"] == r32["greedy"], fp64_diff,
                        merged_f32, vs_base, r32["greedy"] != base32["greedy"]))
        print(f"{case}/adapters/{name}: seed={seed} scaling={scaling:.6f} margin={r32['margin']:.4f} "
              f"merged-bf16-diff={merged:.3e} merged-greedy-same={rm['greedy'] == r32['greedy']} "
              f"fp32-vs-fp64={fp64_diff:.2e} merged-fp32-diff={merged_f32:.2e} vs-base={vs_base:.3f} "
              f"greedy-changed={r32['greedy'] != base32['greedy']} cached==full:{r32['greedy'] == r32['greedy_cached']}",
              flush=True)
    return summary

if __name__ == "__main__":
    main()
