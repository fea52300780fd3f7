"""Cross-check: the same KIP step in plain PyTorch (not part of Distillery; run by hand).

Full Fashion-MNIST, standardised, FC NTK depth 1 (W_std = sqrt(2), b_std = 0.1), 100 support images,
class-balanced target batch of 5,000, Adam lr 0.04, reg 1e-6. Prints the median step time and, with
--steps 1000, the KRR test accuracy of the learned support set.

    apt-get install python3-torch python3-numpy dataset-fashion-mnist
    python3 benchmarks/reference/kip_step_torch.py [--steps 100]
"""
import argparse, gzip, math, statistics, time
import numpy as np
import os
import torch

# Debian's torch starts with one thread unless OMP_NUM_THREADS says otherwise; a fair peer uses every core, as
# Distillery does.
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(os.cpu_count())

def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)

def ntk_fc1(x1, x2, w=math.sqrt(2), b=0.1):
    d = x1.shape[1]
    s = x1 @ x2.T / d
    q1, q2 = (x1 * x1).sum(1) / d, (x2 * x2).sum(1) / d
    s, q1, q2 = w * w * s + b * b, w * w * q1 + b * b, w * w * q2 + b * b
    t = s
    prod = q1[:, None] * q2[None, :]
    gap = prod - s * s
    pos = gap > 0
    sine = torch.where(pos, torch.where(pos, gap, torch.ones_like(gap)).sqrt(), torch.zeros_like(gap))
    theta = torch.atan2(sine, s)
    s2 = (sine + (math.pi - theta) * s) / (2 * math.pi)
    t2 = t * (math.pi - theta) / (2 * math.pi)
    s3 = w * w * s2 + b * b
    return s3 + w * w * t2

def krr(kts, kss, ys, reg):
    n = kss.shape[0]
    lam = reg * torch.trace(kss) / n
    return kts @ torch.linalg.solve(kss + lam * torch.eye(n), ys)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    xtr = torch.tensor(idx(f"{a.data}/train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ytr = torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.tensor(idx(f"{a.data}/t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    yte = torch.tensor(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    mean, std = xtr.mean(), xtr.std(unbiased=False)
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    onehot = torch.nn.functional.one_hot(ytr, 10).float() - 0.1
    g = torch.Generator().manual_seed(0)
    by_class = [torch.nonzero(ytr == c).flatten() for c in range(10)]
    pick = lambda k: torch.cat([c[torch.randperm(len(c), generator=g)[:k]] for c in by_class])
    support = pick(10)
    xs = xtr[support].clone().requires_grad_(True)
    ys = onehot[support].clone()
    opt = torch.optim.Adam([xs], lr=0.04)
    times = []
    for step in range(a.steps):
        start = time.perf_counter()
        t = pick(500)
        loss = 0.5 * ((krr(ntk_fc1(xtr[t], xs), ntk_fc1(xs, xs), ys, 1e-6) - onehot[t]) ** 2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
        times.append(time.perf_counter() - start)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: median step {statistics.median(times[5:]):.4f} s over {len(times) - 5} steps")
    with torch.no_grad():
        pred = krr(ntk_fc1(xte, xs), ntk_fc1(xs, xs), ys, 1e-6)
        print(f"KRR test accuracy after {a.steps} steps: {(pred.argmax(1) == yte).float().mean():.4f}")

if __name__ == "__main__":
    main()
