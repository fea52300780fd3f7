"""Cross-check: RFAD's KIP step (Loo et al., NeurIPS 2022) in plain PyTorch (not part of Distillery; run by hand).

The same step as `KipStepBenchmark convnet-rf`: full Fashion-MNIST, standardised; 100 support images (10 per class),
a class-balanced target batch of 1,280; the ConvNet NNGP estimated by random features of 8 random ConvNets
[Conv3x3 SAME -> ReLU -> AvgPool2x2] x 3 -> Flatten of width 128 (weights ~ N(0, 2/fan_in), biases ~ N(0, 0.1^2)),
K = Phi Phi^T + 0.1^2 with Phi = sqrt(2) [f_1, ..., f_8] / sqrt(8 F); the KRR/KIP MSE loss
0.5 mean((K_ts (K_ss + lambda I)^-1 y_s - y_t)^2), lambda = 1e-6 tr(K_ss)/n; Adam (lr 0.04) on the support images.

    apt-get install python3-torch python3-numpy dataset-fashion-mnist
    OMP_NUM_THREADS=1 python3 benchmarks/reference/rfad_step_torch.py [--steps 10] [--redraw perStep|fixed] [--looped]

--redraw perStep (RFAD's own setting, the default) draws 8 new networks every step; fixed keeps one draw and, with
--cache, computes the training set's features once (as Distillery does) so a step only pushes the support images
through the networks. The 8 networks run as one batched network (one conv, then grouped convs, as a PyTorch user
would vectorise an ensemble); --looped runs them one after another instead (RFAD's reference code style).
"""
import argparse, gzip, math, statistics, time
import numpy as np
import os
import torch

# Debian's torch starts with one thread unless OMP_NUM_THREADS says otherwise; a fair peer uses every core, as
# Distillery does.
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(os.cpu_count())
import torch.nn.functional as F


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def draw(models, width, depth, channels, generator, w_std=math.sqrt(2), b_std=0.1):
    """Per layer: weights [models*width, C, 3, 3] (layer 0) or [models*width, width, 3, 3] (grouped), biases."""
    layers, c = [], channels
    for _ in range(depth):
        w = torch.randn(models * width, c, 3, 3, generator=generator) * (w_std / math.sqrt(c * 9))
        b = torch.randn(models * width, generator=generator) * b_std
        layers.append((w, b))
        c = width
    return layers


def features(x, layers, models, looped, w_std=math.sqrt(2)):
    if looped:
        width = layers[0][0].shape[0] // models
        outs = []
        for m in range(models):
            h = x
            for w, b in layers:
                h = F.avg_pool2d(F.relu(F.conv2d(h, w[m * width:(m + 1) * width], b[m * width:(m + 1) * width], padding=1)), 2)
            outs.append(h.flatten(1))
        phi = torch.cat(outs, 1)
    else:
        h = x
        for i, (w, b) in enumerate(layers):
            h = F.avg_pool2d(F.relu(F.conv2d(h, w, b, padding=1, groups=1 if i == 0 else models)), 2)
        phi = h.flatten(1)
    return phi * (w_std / math.sqrt(phi.shape[1]))


def in_blocks(x, fn, block=500):
    return torch.cat([fn(x[i:i + block]) for i in range(0, len(x), block)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warm-up", type=int, default=2)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--redraw", choices=["perStep", "fixed"], default="perStep")
    p.add_argument("--cache", action="store_true", help="fixed draw: compute the training set's features once")
    p.add_argument("--looped", action="store_true", help="run the networks one after another")
    p.add_argument("--models", type=int, default=8)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--target", type=int, default=1280)
    a = p.parse_args()
    xtr = torch.tensor(idx(f"{a.data}/train-images-idx3-ubyte.gz"), dtype=torch.float32)[:, None] / 255
    ytr = torch.tensor(idx(f"{a.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
    mean, std = xtr.mean(), xtr.std(unbiased=False)
    xtr = (xtr - mean) / std
    onehot = F.one_hot(ytr, 10).float() - 0.1
    g = torch.Generator().manual_seed(0)
    by_class = [torch.nonzero(ytr == c).flatten() for c in range(10)]
    pick = lambda k: torch.cat([c[torch.randperm(len(c), generator=g)[:k]] for c in by_class])
    support = pick(10)
    xs = xtr[support].clone().requires_grad_(True)
    ys = onehot[support].clone()
    opt = torch.optim.Adam([xs], lr=0.04)
    layers = draw(a.models, a.width, a.depth, 1, g)
    cache_seconds = None
    if a.redraw == "fixed" and a.cache:
        start = time.perf_counter()
        with torch.no_grad():
            cached = in_blocks(xtr, lambda x: features(x, layers, a.models, a.looped))
        cache_seconds = time.perf_counter() - start
    times = []
    for step in range(a.steps + a.warm_up):
        start = time.perf_counter()
        if a.redraw == "perStep":
            layers = draw(a.models, a.width, a.depth, 1, g)
        t = pick(a.target // 10)
        phi_s = features(xs, layers, a.models, a.looped)
        with torch.no_grad():
            phi_t = cached[t] if cache_seconds is not None else in_blocks(xtr[t], lambda x: features(x, layers, a.models, a.looped))
        kss = phi_s @ phi_s.T + 0.01
        kts = phi_t @ phi_s.T + 0.01
        n = kss.shape[0]
        lam = 1e-6 * torch.trace(kss) / n
        pred = kts @ torch.linalg.solve(kss + lam * torch.eye(n), ys)
        loss = 0.5 * ((pred - onehot[t]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    measured = sorted(times[a.warm_up:])
    what = f"redraw {a.redraw}" + (", cached training features" if cache_seconds is not None else "") + (", looped" if a.looped else ", batched")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {what}: median step {statistics.median(measured):.4f} s "
          f"(p10 {measured[int(0.1 * (len(measured) - 1))]:.4f}, p90 {measured[round(0.9 * (len(measured) - 1))]:.4f}) over {len(measured)} steps"
          + (f"; caching the training features took {cache_seconds:.1f} s" if cache_seconds is not None else ""))


if __name__ == "__main__":
    main()
