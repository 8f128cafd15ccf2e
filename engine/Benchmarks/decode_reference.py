# A plain eager PyTorch decoding loop of `spar bench engine`'s model, to compare our per-step cost with Python's on
# the same machine: d=256, 4 layers, 4 heads, SwiGLU 688, byte vocabulary (262), tied head, fp32, random weights
# (timing only), a preallocated KV cache written per step, greedy argmax read back to the host each step as the
# engine does. Prints wall and CPU time per step (CPU time counts no descheduling: compare it on a loaded machine).
# Usage: python3 engine/Benchmarks/decode_reference.py [threads]   (engine README, "Third pass")
import sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
d, layers, heads, ff, vocab = 256, 4, 4, 688, 262
hd = d // heads
g = torch.Generator().manual_seed(0)


def w(o, i):
    return torch.randn(o, i, generator=g) * 0.02


emb = w(vocab, d)
params = [dict(qkv=w(3 * d, d), o=w(d, d), gu=w(2 * ff, d), down=w(d, ff), n1=torch.ones(d), n2=torch.ones(d))
          for _ in range(layers)]
final_norm = torch.ones(d)
inv_freq = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))


def rms(x, weight):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))


def rotate(x, cos, sin):
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def attend(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    return torch.matmul((torch.matmul(q, k.transpose(-1, -2)) * hd ** -0.5).softmax(-1), v)


def decode(batch, prompt, new):
    total = prompt + new
    keys = [torch.randn(batch, heads, total, hd, generator=g) for _ in range(layers)]
    values = [torch.randn(batch, heads, total, hd, generator=g) for _ in range(layers)]
    token = torch.randint(0, vocab, (batch, 1), generator=g)
    with torch.inference_mode():
        wall, cpu = time.perf_counter(), time.process_time()
        for step in range(new):
            pos = prompt + step
            angles = pos * inv_freq
            cos, sin = torch.cat([angles.cos()] * 2), torch.cat([angles.sin()] * 2)
            h = F.embedding(token, emb)
            for l, p in enumerate(params):
                qkv = F.linear(rms(h, p["n1"]), p["qkv"]).view(batch, 1, 3, heads, hd).transpose(1, 3)
                q, k, v = rotate(qkv[:, :, 0], cos, sin), rotate(qkv[:, :, 1], cos, sin), qkv[:, :, 2]
                keys[l][:, :, pos:pos + 1] = k
                values[l][:, :, pos:pos + 1] = v
                a = attend(q, keys[l][:, :, :pos + 1], values[l][:, :, :pos + 1])
                h = h + F.linear(a.transpose(1, 2).reshape(batch, 1, d), p["o"])
                gu = F.linear(rms(h, p["n2"]), p["gu"])
                h = h + F.linear(F.silu(gu[..., :ff]) * gu[..., ff:], p["down"])
            token = F.linear(rms(h, final_norm), emb).argmax(-1)
            token.tolist()
        return (time.perf_counter() - wall) / new * 1e3, (time.process_time() - cpu) / new * 1e3


for batch, prompt, new in [(1, 40, 300), (64, 40, 60)]:
    decode(batch, prompt, 8)
    for _ in range(2):
        wall_ms, cpu_ms = decode(batch, prompt, new)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, {prompt}-{prompt + new} columns: "
              f"{wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per step = {batch / cpu_ms * 1e3:.0f} tokens per CPU-second")
