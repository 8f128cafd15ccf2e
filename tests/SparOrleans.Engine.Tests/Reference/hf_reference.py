"""Independent HF-faithful reference for Llama-family causal LMs, and the golden fixtures built from it.

Why: the C# loader/forward must be checked against something it did not derive from. No `transformers` and no
`safetensors` package is available here (and no network), so this file re-implements, from scratch in plain torch,
the published Hugging Face formulas (transformers 4.46-4.51: modeling_llama.py, modeling_mistral.py,
modeling_qwen2.py, modeling_qwen3.py, modeling_rope_utils.py) for LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM and Qwen3ForCausalLM, including rope scaling (default, linear, dynamic, llama3), together with its
own safetensors writer/reader. It writes tiny random checkpoints (HF parameter names and config.json keys) plus
golden.json (logits, padded-batch logits, greedy and KV-cached greedy continuations) under models/<case>/.

Run: /usr/bin/python3 tests/SparOrleans.Engine.Tests/Reference/hf_reference.py   (deterministic; fixed seeds)
then peft_reference.py (PEFT LoRA adapters on two of the cases; it reads the base checkpoints written here).
Goldens are computed in float32 from the weights AS STORED (BF16/F16 rounded, upcast) and checked against a
float64 run of the same code.
"""
import json, math, os, struct, sys
import numpy as np
import torch

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models")
MAX_NEW = 16

# ----------------------------------------------------------------------------------------------- safetensors
def bf16_bits(a):
    """fp32 -> bf16 bit pattern, round-to-nearest-even (same as torch .to(bfloat16) for finite values)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)

def round_to(a, dt):
    """What a loader sees after reading dt from disk and upcasting to fp32."""
    a = np.asarray(a, dtype=np.float32)
    if dt == "F32": return a.copy()
    if dt == "F16": return a.astype(np.float16).astype(np.float32)
    return (bf16_bits(a).astype(np.uint32) << 16).view(np.float32).reshape(a.shape)

def tensor_bytes(a, dt):
    a = np.asarray(a, dtype=np.float32)
    if dt == "F32": return a.astype("<f4").tobytes()
    if dt == "F16": return a.astype("<f2").tobytes()
    return bf16_bits(a).astype("<u2").tobytes()

def write_safetensors(path, tensors):
    """tensors: list of (name, fp32 array, dtype). Data laid out in name order."""
    header, blobs, off = {}, [], 0
    for name, a, dt in sorted(tensors, key=lambda t: t[0]):
        b = tensor_bytes(a, dt)
        header[name] = {"dtype": dt, "shape": list(np.shape(a)), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)
    return off

def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n]); base = 8 + n; out = {}
    for k, v in hdr.items():
        if k == "__metadata__": continue
        b = raw[base + v["data_offsets"][0]: base + v["data_offsets"][1]]
        if v["dtype"] == "F32": a = np.frombuffer(b, "<f4")
        elif v["dtype"] == "F16": a = np.frombuffer(b, "<f2").astype(np.float32)
        else: a = (np.frombuffer(b, "<u2").astype(np.uint32) << 16).view(np.float32)
        out[k] = a.reshape(v["shape"]).astype(np.float32)
    return out

# ----------------------------------------------------------------------------------------------- rope
def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]

def default_inv_freq(base, d, dt):
    return 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).to(dt) / d))

def rope_inv_freq(cfg, seq_len, dt):
    """HF modeling_rope_utils. seq_len = max(position_ids)+1 of the current forward call (used by 'dynamic')."""
    d, theta = head_dim_of(cfg), cfg["rope_theta"]
    rs = cfg.get("rope_scaling")
    kind = None if rs is None else rs.get("rope_type", rs.get("type"))
    if kind in (None, "default"):
        return default_inv_freq(theta, d, dt)
    if kind == "linear":
        return default_inv_freq(theta, d, dt) / rs["factor"]
    if kind == "dynamic":  # _compute_dynamic_ntk_parameters
        mpe, f = cfg["max_position_embeddings"], rs["factor"]
        s = seq_len if seq_len > mpe else mpe
        base = theta * ((f * s / mpe) - (f - 1)) ** (d / (d - 2))
        return default_inv_freq(base, d, dt)
    if kind == "llama3":  # _compute_llama3_parameters
        inv = default_inv_freq(theta, d, dt)
        f, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        lo_wl, hi_wl = old / lo, old / hi
        wl = 2 * math.pi / inv
        inv_l = torch.where(wl > lo_wl, inv / f, inv)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_l / f + smooth * inv_l
        medium = ~(wl < hi_wl) & ~(wl > lo_wl)
        return torch.where(medium, smoothed, inv_l)
    raise ValueError(kind)

def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)

# ----------------------------------------------------------------------------------------------- model
def rms_norm(x, w, eps):
    h = x.float() if x.dtype != torch.float64 else x
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return w * h.to(x.dtype)

def forward(P, cfg, ids, key_mask=None, position_ids=None, cache=None, lora=None):
    """ids [B,T]; key_mask [B, past+T] (1 = real token); position_ids [B,T]; cache: list of (k,v) per layer
    (post-rope keys, [B,KV,S,hd]) that is extended in place; lora: optional {module name (e.g.
    "model.layers.0.self_attn.q_proj"): (A [r,in], B [out,r], scaling)} applied as PEFT's LoRA Linear does
    (y = W x + b + B(A x) * scaling, dropout off). Returns logits [B,T,V]."""
    dt = P["model.embed_tokens.weight"].dtype
    B, T = ids.shape
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    eps, L = cfg["rms_norm_eps"], cfg["num_hidden_layers"]
    past = 0 if not cache else cache[0][0].shape[2]
    cols = torch.arange(past, past + T)                      # HF cache_position (column index)
    if position_ids is None: position_ids = cols[None].expand(B, T)
    if key_mask is None: key_mask = torch.ones(B, past + T, dtype=torch.long)
    inv = rope_inv_freq(cfg, int(position_ids.max()) + 1, dt)
    freqs = position_ids[:, :, None].to(dt) * inv[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]       # [B,1,T,hd]
    kcols = torch.arange(past + T)
    allow = kcols[None, :] <= cols[:, None]                  # causal
    sw = cfg.get("sliding_window")
    if cfg["model_type"] == "qwen2" and not cfg.get("use_sliding_window", False): sw = None
    if cfg["model_type"] in ("qwen3",) and not cfg.get("use_sliding_window", False): sw = None
    if sw is not None:
        allow = allow & ~(kcols[None, :] <= cols[:, None] - sw)
    allow = allow[None, None] & (key_mask[:, None, None, :] > 0)  # [B,1,T,S]
    neg = torch.finfo(dt).min
    def lin(z, m):                                           # nn.Linear, optionally wrapped by a PEFT LoRA layer
        y = z @ P[m + ".weight"].T
        b = P.get(m + ".bias")
        if b is not None: y = y + b
        if lora is not None and m in lora:
            A, Bm, sc = lora[m]
            y = y + ((z.to(A.dtype) @ A.T) @ Bm.T).to(y.dtype) * sc
        return y
    x = P["model.embed_tokens.weight"][ids]
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms_norm(x, P[p + "input_layernorm.weight"], eps)
        def proj(n):
            return lin(h, p + f"self_attn.{n}_proj")
        q = proj("q").view(B, T, H, hd); k = proj("k").view(B, T, KV, hd); v = proj("v").view(B, T, KV, hd)
        if p + "self_attn.q_norm.weight" in P:             # Qwen3: per-head RMSNorm before rope
            q = rms_norm(q, P[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, P[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if len(cache) <= i: cache.append((k, v))
            else:
                pk, pv = cache[i]; k = torch.cat((pk, k), 2); v = torch.cat((pv, v), 2); cache[i] = (k, v)
        k = k.repeat_interleave(H // KV, dim=1); v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(2, 3)) / math.sqrt(hd)
        s = s.masked_fill(~allow, neg)
        a = torch.softmax(s.float() if dt != torch.float64 else s, dim=-1).to(dt)
        o = (a @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + lin(o, p + "self_attn.o_proj")
        h = rms_norm(x, P[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, p + "mlp.gate_proj"); u = lin(h, p + "mlp.up_proj")
        x = x + lin(torch.nn.functional.silu(g) * u, p + "mlp.down_proj")
    x = rms_norm(x, P["model.norm.weight"], eps)
    head = P.get("lm_head.weight", P["model.embed_tokens.weight"])
    return x @ head.T

def margin(row):
    t = torch.topk(row.double(), 2).values
    return float(t[0] - t[1])

def greedy_full(P, cfg, prompt, lora=None):
    ids, m = list(prompt), math.inf
    for _ in range(MAX_NEW):
        row = forward(P, cfg, torch.tensor([ids]), lora=lora)[0, -1]
        m = min(m, margin(row)); ids.append(int(row.argmax()))
    return ids[len(prompt):], m

def greedy_cached(P, cfg, prompt, lora=None):
    cache, m, out = [], math.inf, []
    row = forward(P, cfg, torch.tensor([prompt]), cache=cache, lora=lora)[0, -1]
    for _ in range(MAX_NEW):
        m = min(m, margin(row)); out.append(int(row.argmax()))
        if len(out) == MAX_NEW: break
        row = forward(P, cfg, torch.tensor([[out[-1]]]), cache=cache, lora=lora)[0, -1]
    return out, m

# ----------------------------------------------------------------------------------------------- cases
BASE = dict(vocab_size=128, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=128, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, hidden_act="silu")
TORCH_DTYPE = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}

def llama(**kw):
    c = dict(architectures=["LlamaForCausalLM"], model_type="llama", attention_bias=False, attention_dropout=0.0,
             mlp_bias=False, pretraining_tp=1, initializer_range=0.02, use_cache=True, rope_scaling=None)
    c.update(BASE); c.update(kw); return c

CASES = [
    ("llama-mha-tied-f32", "F32", 1, llama(num_key_value_heads=4, tie_word_embeddings=True, rope_theta=10000.0), {"legacy_inv_freq": True}),
    ("llama-gqa-untied-bf16-sharded", "BF16", 2, llama(num_key_value_heads=2, tie_word_embeddings=False, rope_theta=500000.0), {}),
    ("llama-mqa-f16", "F16", 1, llama(num_key_value_heads=1, tie_word_embeddings=False, rope_theta=1000000.0), {}),
    ("llama3-rope", "BF16", 1, llama(num_key_value_heads=2, tie_word_embeddings=True, rope_theta=500000.0, head_dim=16,
        rope_scaling={"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                      "original_max_position_embeddings": 64, "rope_type": "llama3"}), {}),
    ("llama-linear-rope", "F32", 1, llama(num_key_value_heads=2, tie_word_embeddings=False, rope_theta=10000.0,
        rope_scaling={"type": "linear", "factor": 4.0}), {}),
    ("llama-dynamic-rope", "F32", 1, llama(num_key_value_heads=2, tie_word_embeddings=False, rope_theta=10000.0,
        max_position_embeddings=16, rope_scaling={"rope_type": "dynamic", "factor": 2.0}), {}),
    ("llama-head-dim", "F32", 1, llama(num_key_value_heads=2, tie_word_embeddings=False, rope_theta=10000.0, head_dim=32), {}),
    ("mistral-sliding-window", "BF16", 1, dict(BASE, architectures=["MistralForCausalLM"], model_type="mistral",
        num_key_value_heads=2, tie_word_embeddings=False, rope_theta=1000000.0, sliding_window=8, attention_dropout=0.0,
        initializer_range=0.02, use_cache=True), {}),
    ("qwen2-bias", "BF16", 1, dict(BASE, architectures=["Qwen2ForCausalLM"], model_type="qwen2", num_key_value_heads=2,
        tie_word_embeddings=True, rope_theta=1000000.0, rope_scaling=None, use_sliding_window=False, sliding_window=32,
        max_window_layers=2, attention_dropout=0.0, initializer_range=0.02, use_cache=True, rms_norm_eps=1e-6), {"qkv_bias": True}),
    ("qwen3-qknorm", "BF16", 1, dict(BASE, architectures=["Qwen3ForCausalLM"], model_type="qwen3", num_key_value_heads=2,
        head_dim=32, attention_bias=False, tie_word_embeddings=True, rope_theta=1000000.0, rope_scaling=None,
        use_sliding_window=False, sliding_window=None, max_window_layers=2, attention_dropout=0.0,
        initializer_range=0.02, use_cache=True, rms_norm_eps=1e-6), {"qk_norm": True}),
]

def make_weights(cfg, extra, seed):
    g = torch.Generator().manual_seed(seed)
    V, D, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim_of(cfg)
    rn = lambda *s, std=0.1: (torch.randn(*s, generator=g) * std).numpy()
    W = {"model.embed_tokens.weight": rn(V, D, std=0.12)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        W[p + "self_attn.q_proj.weight"] = rn(H * hd, D, std=0.12)
        W[p + "self_attn.k_proj.weight"] = rn(KV * hd, D, std=0.12)
        W[p + "self_attn.v_proj.weight"] = rn(KV * hd, D, std=0.1)
        W[p + "self_attn.o_proj.weight"] = rn(D, H * hd, std=0.1)
        if extra.get("qkv_bias"):
            for n, o in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                W[p + f"self_attn.{n}_proj.bias"] = rn(o, std=0.1)
        if extra.get("qk_norm"):
            W[p + "self_attn.q_norm.weight"] = 1 + rn(hd, std=0.1)
            W[p + "self_attn.k_norm.weight"] = 1 + rn(hd, std=0.1)
        W[p + "mlp.gate_proj.weight"] = rn(I, D, std=0.1)
        W[p + "mlp.up_proj.weight"] = rn(I, D, std=0.1)
        W[p + "mlp.down_proj.weight"] = rn(D, I, std=0.08)
        W[p + "input_layernorm.weight"] = 1 + rn(D, std=0.1)
        W[p + "post_attention_layernorm.weight"] = 1 + rn(D, std=0.1)
    W["model.norm.weight"] = 1 + rn(D, std=0.1)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = rn(V, D, std=0.12)
    prompts = [torch.randint(3, V, (24,), generator=g).tolist(), torch.randint(3, V, (11,), generator=g).tolist()]
    return W, prompts

def run_all(W, cfg, prompts, dt, lora=None):
    """lora: optional {module: (A, B, scaling)} of fp32 numpy arrays; computed in dt (fp32 goldens, fp64 check)."""
    P = {k: torch.from_numpy(v).to(dt) for k, v in W.items()}
    if lora is not None:
        lora = {m: (torch.from_numpy(A).to(dt), torch.from_numpy(B).to(dt), s) for m, (A, B, s) in lora.items()}
    with torch.no_grad():
        alone = [forward(P, cfg, torch.tensor([p]), lora=lora)[0] for p in prompts]
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[0] * (width - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        padded = forward(P, cfg, ids, key_mask=mask, position_ids=pos, lora=lora)
        gf = [greedy_full(P, cfg, p, lora) for p in prompts]
        gc = [greedy_cached(P, cfg, p, lora) for p in prompts]
    return dict(alone=alone, ids=ids, mask=mask, padded=padded, greedy=[g[0] for g in gf],
                greedy_cached=[g[0] for g in gc], margin=min(m for _, m in gf + gc))

def fl(row):
    return "[" + ",".join(str(np.float32(v)) for v in row.numpy().astype(np.float32)) + "]"

def write_golden(path, name, dt, prompts, r, extra=None):
    """extra: optional {key: JSON value} appended after "min_greedy_margin" (used by peft_reference.py)."""
    L = ["{", f' "case": {json.dumps(name)},', f' "dtype_on_disk": "{dt}",', f' "prompts": {json.dumps(prompts)},', ' "logits": [']
    L.append(",\n".join("  [\n" + ",\n".join("   " + fl(row) for row in lg) + "\n  ]" for lg in r["alone"]))
    L.append(" ],")
    L.append(' "padded": {')
    L.append(f'  "input_ids": {json.dumps(r["ids"].tolist())},')
    L.append(f'  "attention_mask": {json.dumps(r["mask"].tolist())},')
    L.append('  "logits": [')
    L.append(",\n".join("   [\n" + ",\n".join("    " + fl(row) for row in lg) + "\n   ]" for lg in r["padded"]))
    L.append("  ]")
    L.append(" },")
    L.append(f' "max_new_tokens": {MAX_NEW},')
    L.append(f' "greedy": {json.dumps(r["greedy"])},')
    L.append(f' "greedy_cached": {json.dumps(r["greedy_cached"])},')
    L.append(f' "min_greedy_margin": {float(np.float32(r["margin"]))}')
    for k, v in (extra or {}).items(): L[-1] += ","; L.append(f' {json.dumps(k)}: {json.dumps(v)}')
    L.append("}")
    open(path, "w").write("\n".join(L) + "\n")

def main():
    summary = []
    for ci, (name, dt, shards, cfg, extra) in enumerate(CASES):
        cfg = dict(cfg, torch_dtype=TORCH_DTYPE[dt], transformers_version="4.51.3")
        for attempt in range(50):
            seed = 1000 * (ci + 1) + attempt
            W, prompts = make_weights(cfg, extra, seed)
            W = {k: round_to(v, dt) for k, v in W.items()}       # goldens from the weights as stored
            r32 = run_all(W, cfg, prompts, torch.float32)
            if r32["margin"] > 5e-3: break
        r64 = run_all(W, cfg, prompts, torch.float64)
        real = r32["mask"].bool()
        diff = max([float((a - b).abs().max()) for a, b in zip(r32["alone"], r64["alone"])] +
                   [float((r32["padded"][real] - r64["padded"][real]).abs().max())])
        assert r32["greedy"] == r64["greedy"] and r32["greedy_cached"] == r64["greedy_cached"], name
        # self-consistency: padded real positions == alone (not for dynamic rope: batch max position drives the base)
        pad_vs_alone = max(float((r32["padded"][b][real[b]] - r32["alone"][b]).abs().max()) for b in range(2))
        d = os.path.join(OUT, name); os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):                              # keep adapters/ (written by peft_reference.py)
            if os.path.isfile(os.path.join(d, f)): os.remove(os.path.join(d, f))
        cfg_out = {k: cfg[k] for k in sorted(cfg)}
        json.dump(cfg_out, open(os.path.join(d, "config.json"), "w"), indent=2); open(os.path.join(d, "config.json"), "a").write("\n")
        tensors = [(k, v, dt) for k, v in W.items()]
        if extra.get("legacy_inv_freq"):
            inv = rope_inv_freq(cfg, 1, torch.float32).numpy()
            tensors += [(f"model.layers.{i}.self_attn.rotary_emb.inv_freq", inv, "F32") for i in range(cfg["num_hidden_layers"])]
        if shards == 1:
            write_safetensors(os.path.join(d, "model.safetensors"), tensors)
            files = ["model.safetensors"]
        else:
            L = cfg["num_hidden_layers"]
            def shard_of(n):
                if n.startswith("model.layers."): return 0 if int(n.split(".")[2]) < (L + 1) // 2 else 1
                return 0 if n.startswith("model.embed_tokens") else 1
            files = [f"model-{s + 1:05d}-of-{shards:05d}.safetensors" for s in range(shards)]
            total = sum(write_safetensors(os.path.join(d, files[s]), [t for t in tensors if shard_of(t[0]) == s]) for s in range(shards))
            idx = {"metadata": {"total_size": total}, "weight_map": {t[0]: files[shard_of(t[0])] for t in sorted(tensors)}}
            json.dump(idx, open(os.path.join(d, "model.safetensors.index.json"), "w"), indent=2)
        back = {}
        for f in files: back.update(read_safetensors(os.path.join(d, f)))
        assert all(np.array_equal(back[k], W[k]) for k in W), name
        write_golden(os.path.join(d, "golden.json"), name, dt, prompts, r32)
        same_cached = r32["greedy"] == r32["greedy_cached"]
        summary.append((name, seed, diff, r32["margin"], pad_vs_alone, same_cached))
        print(f"{name:32s} seed={seed} fp32-vs-fp64={diff:.2e} margin={r32['margin']:.4f} "
              f"padded-vs-alone={pad_vs_alone:.2e} cached==full:{same_cached}", flush=True)
    return summary

if __name__ == "__main__":
    main()
