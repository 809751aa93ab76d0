#!/usr/bin/env python3
"""
One training step on PyTorch CPU, for the training table of `npm run bench` (issue 15): the
same networks, losses, optimizer, batch, input size and thread count as the yolo-tfjs rows, so
the two columns time the same work.

  /usr/bin/python3 bench/pytorch/train_step.py --model yolo-fastestv2 --batch 8 --size 352 \
      --threads 2 [--steps 5] [--warmup 1] [--seed 0]

Prints one line `PYTORCH_RESULT {"msPerStep": ..., ...}`.

Written for this project from the architecture descriptions in our own TypeScript builders and
losses (src/models/yoloFastestV2/*, src/models/darknet/tinyYoloV3.ts, yoloV3Loss.ts):

- yolo-fastestv2: ShuffleNetV2 backbone (stem 3x3/2 conv + 3x3/2 max pool, stages of 4/8/4
  units, 48/96/192 channels), the light FPN (1x1 conv to 72 channels, per scale a class and a
  box branch of depthwise 5x5 blocks, upsampled stride-32 features joined with stride 16), 1x1
  output convs shared by both scales; loss: YOLOv5-style matching (ratio < 2, two neighbour
  cells), CIoU box term, objectness BCE (scale weights 1, 0.4), softmax cross-entropy / C,
  weights 3.2 / 64 / 32.
- tiny-yolov3: the Darknet yolov3-tiny layers (conv-BN-leaky and max pools, two [yolo] heads,
  upsample + route); loss: keras-yolo3 (best of 6 anchors, BCE on xy, squared error on log wh,
  both scaled by 2 - w*h, objectness BCE with the 0.5 IoU ignore mask, class BCE, / batch).

The step: forward in training mode (BatchNorm batch statistics), loss, backward, Adam (lr 1e-4,
betas 0.9/0.999, eps 1e-7 as tfjs) with decoupled weight decay 5e-4 on conv weights.
Targets are built in Python on the host, as ours are built in JavaScript.
"""
import argparse
import json
import math
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ------------------------------------------------------------------------------ building blocks

def conv_bn(cin, cout, k, stride=1, groups=1, relu=True, pad=None):
    """k x k conv (no bias) + BatchNorm (+ ReLU), padding k//2 unless given."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2 if pad is None else pad, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ShuffleUnit(nn.Module):
    """A ShuffleNetV2 unit. Stride 2: both branches see the input; stride 1: the odd channels go
    through the main branch, the even ones pass by."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        main_in = cin if stride == 2 else cin // 2
        mid = cout // 2
        main_out = cout - main_in
        self.main = nn.Sequential(
            conv_bn(main_in, mid, 1),
            conv_bn(mid, mid, 3, stride, groups=mid, relu=False),
            conv_bn(mid, main_out, 1),
        )
        self.proj = nn.Sequential(conv_bn(cin, cin, 3, 2, groups=cin, relu=False), conv_bn(cin, cin, 1)) if stride == 2 else None

    def forward(self, x):
        if self.stride == 2:
            return torch.cat((self.proj(x), self.main(x)), 1)
        return torch.cat((x[:, 0::2], self.main(x[:, 1::2])), 1)


def dw_head(c, k=5):
    """The FPN's branch: DW k + BN + ReLU, 1x1 + BN, DW k + BN + ReLU, 1x1 + BN."""
    return nn.Sequential(
        conv_bn(c, c, k, groups=c), conv_bn(c, c, 1, relu=False),
        conv_bn(c, c, k, groups=c), conv_bn(c, c, 1, relu=False),
    )


class FastestV2(nn.Module):
    def __init__(self, num_classes, anchors_per_scale=3):
        super().__init__()
        self.stem = conv_bn(3, 24, 3, 2)
        stages, cin = [], 24
        for repeats, cout in zip((4, 8, 4), (48, 96, 192)):
            units = []
            for i in range(repeats):
                units.append(ShuffleUnit(cin, cout, 2 if i == 0 else 1))
                cin = cout
            stages.append(nn.Sequential(*units))
        self.stage2, self.stage3, self.stage4 = stages
        depth = 72
        self.lat3 = conv_bn(192, depth, 1)
        self.lat2 = conv_bn(96 + 192, depth, 1)
        self.cls3, self.reg3, self.cls2, self.reg2 = (dw_head(depth) for _ in range(4))
        a = anchors_per_scale
        self.out_reg = nn.Conv2d(depth, 4 * a, 1)
        self.out_obj = nn.Conv2d(depth, a, 1)
        self.out_cls = nn.Conv2d(depth, num_classes, 1)

    def forward(self, x):
        x = F.max_pool2d(self.stem(x), 3, 2, 1)
        c2 = self.stage3(self.stage2(x))
        c3 = self.stage4(c2)
        s3 = self.lat3(c3)
        s2 = self.lat2(torch.cat((F.interpolate(c3, scale_factor=2, mode='nearest'), c2), 1))
        outs = []
        for s, cls_b, reg_b in ((s2, self.cls2, self.reg2), (s3, self.cls3, self.reg3)):
            c, r = cls_b(s), reg_b(s)
            outs.append(torch.cat((self.out_reg(r), self.out_obj(c), self.out_cls(c)), 1))
        return outs  # stride 16, stride 32; NCHW [N, 4A + A + C, H, W]


class DarknetConv(nn.Sequential):
    def __init__(self, cin, cout, k):
        super().__init__(nn.Conv2d(cin, cout, k, 1, k // 2, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True))


class TinyYoloV3(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        chans = [3, 16, 32, 64, 128, 256, 512]
        self.convs = nn.ModuleList(DarknetConv(chans[i], chans[i + 1], 3) for i in range(6))
        self.c1024 = DarknetConv(512, 1024, 3)
        self.c256 = DarknetConv(1024, 256, 1)
        self.c512 = DarknetConv(256, 512, 3)
        d = 3 * (5 + num_classes)
        self.head13 = nn.Conv2d(512, d, 1)
        self.c128 = DarknetConv(256, 128, 1)
        self.c256b = DarknetConv(128 + 256, 256, 3)
        self.head26 = nn.Conv2d(256, d, 1)

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i == 4:
                route = x  # 256 channels at stride 16
            # max pools 2/2 after the first five convs; Darknet's 2/1 pool (right/bottom pad) after the sixth
            x = F.max_pool2d(x, 2, 2) if i < 5 else F.max_pool2d(F.pad(x, (0, 1, 0, 1), mode='replicate'), 2, 1)
        y = self.c256(self.c1024(x))
        out13 = self.head13(self.c512(y))
        up = F.interpolate(self.c128(y), scale_factor=2, mode='nearest')
        out26 = self.head26(self.c256b(torch.cat((up, route), 1)))
        return [out13, out26]


# ------------------------------------------------------------------------------ losses

def bce_logits(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target, reduction='none')


def ciou_xywh(p, t, eps=1e-7):
    """CIoU of boxes (cx, cy, w, h) along the last axis."""
    p1, p2 = p[..., :2] - p[..., 2:] / 2, p[..., :2] + p[..., 2:] / 2
    t1, t2 = t[..., :2] - t[..., 2:] / 2, t[..., :2] + t[..., 2:] / 2
    wh = (torch.min(p2, t2) - torch.max(p1, t1)).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = p[..., 2] * p[..., 3] + t[..., 2] * t[..., 3] - inter + eps
    iou = inter / union
    cwh = torch.max(p2, t2) - torch.min(p1, t1)
    c2 = (cwh ** 2).sum(-1) + eps
    rho2 = ((p[..., :2] - t[..., :2]) ** 2).sum(-1)
    v = (4 / math.pi ** 2) * (torch.atan(t[..., 2] / (t[..., 3] + eps)) - torch.atan(p[..., 2] / (p[..., 3] + eps))) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return iou - rho2 / c2 - alpha * v


def fastestv2_targets(boxes, grids, size, anchors):
    """Per scale: lists (image, anchor, gj, gi, box in grid units rel. to the cell, anchor wh, class)."""
    out = []
    for (H, W), scale_anchors in zip(grids, anchors):
        stride = size / W
        anc = [(w / stride, h / stride) for w, h in scale_anchors]
        matches = []
        for a, (aw, ah) in enumerate(anc):
            for b, img in enumerate(boxes):
                for (x1, y1, x2, y2, c) in img:
                    gx, gy = (x1 + x2) / 2 / size * W, (y1 + y2) / 2 / size * H
                    gw, gh = (x2 - x1) / size * W, (y2 - y1) / size * H
                    rw, rh = gw / aw, gh / ah
                    if max(rw, 1 / rw, rh, 1 / rh) < 2:
                        matches.append((b, c, a, gx, gy, gw, gh))
        t = {k: [] for k in ('b', 'a', 'gj', 'gi', 'box', 'anc', 'cls')}
        for o, (ox, oy) in enumerate(((0, 0), (0.5, 0), (0, 0.5), (-0.5, 0), (0, -0.5))):
            for (b, c, a, gx, gy, gw, gh) in matches:
                ix, iy = W - gx, H - gy
                use = (True, gx % 1 < 0.5 and gx > 1, gy % 1 < 0.5 and gy > 1, ix % 1 < 0.5 and ix > 1, iy % 1 < 0.5 and iy > 1)[o]
                if not use:
                    continue
                gi = min(W - 1, max(0, int(gx - ox)))
                gj = min(H - 1, max(0, int(gy - oy)))
                t['b'].append(b); t['a'].append(a); t['gj'].append(gj); t['gi'].append(gi)
                t['box'].append((gx - gi, gy - gj, gw, gh)); t['anc'].append(anc[a]); t['cls'].append(c)
        out.append(t)
    return out


def fastestv2_loss(outs, boxes, size, anchors, num_classes):
    grids = [(o.shape[2], o.shape[3]) for o in outs]
    targets = fastestv2_targets(boxes, grids, size, anchors)
    lbox = lobj = lcls = outs[0].new_zeros(())
    for l, (out, t) in enumerate(zip(outs, targets)):
        n, _, H, W = out.shape
        A = len(anchors[l])
        p = out.permute(0, 2, 3, 1)  # NHWC, as our model emits
        reg = p[..., :4 * A].reshape(n, H, W, A, 4)
        obj = p[..., 4 * A:5 * A]
        cls = p[..., 5 * A:]
        tobj = torch.zeros_like(obj)
        nb = len(t['b'])
        if nb:
            b, a, gj, gi = (torch.tensor(t[k]) for k in ('b', 'a', 'gj', 'gi'))
            tobj[b, gj, gi, a] = 1.0
            s = reg[b, gj, gi, a].sigmoid()
            pbox = torch.cat((s[:, :2] * 2 - 0.5, (s[:, 2:] * 2) ** 2 * torch.tensor(t['anc'])), 1)
            lbox = lbox + (1 - ciou_xywh(pbox, torch.tensor(t['box']))).mean()
            if num_classes > 1:
                lcls = lcls + F.cross_entropy(cls[b, gj, gi], torch.tensor(t['cls'])) / num_classes
        lobj = lobj + bce_logits(obj, tobj).mean() * (1.0, 0.4)[l]
    return lbox * 3.2 + lobj * 64 + lcls * 32


def yolov3_targets(boxes, grids, size, anchors, masks, num_classes):
    """keras-yolo3's preprocess_true_boxes: each box at its best anchor (of all), in its cell."""
    n = len(boxes)
    ys = [torch.zeros(n, H, W, len(m), 5 + num_classes) for (H, W), m in zip(grids, masks)]
    for b, img in enumerate(boxes):
        for (x1, y1, x2, y2, c) in img:
            w, h = x2 - x1, y2 - y1
            ious = [min(w, aw) * min(h, ah) / (w * h + aw * ah - min(w, aw) * min(h, ah)) for aw, ah in anchors]
            best = max(range(len(anchors)), key=lambda k: ious[k])
            for l, m in enumerate(masks):
                if best in m:
                    H, W = grids[l]
                    cx, cy = (x1 + x2) / 2 / size, (y1 + y2) / 2 / size
                    i, j, k = min(W - 1, int(cx * W)), min(H - 1, int(cy * H)), m.index(best)
                    ys[l][b, j, i, k, :4] = torch.tensor((cx, cy, w / size, h / size))
                    ys[l][b, j, i, k, 4] = 1
                    ys[l][b, j, i, k, 5 + c] = 1
    return ys


def box_iou_matrix(p, t):
    """IoU of every predicted (cx, cy, w, h) [n, P, 4] with every true box [n, T, 4]."""
    p1, p2 = p[..., None, :2] - p[..., None, 2:] / 2, p[..., None, :2] + p[..., None, 2:] / 2
    t1, t2 = t[:, None, :, :2] - t[:, None, :, 2:] / 2, t[:, None, :, :2] + t[:, None, :, 2:] / 2
    wh = (torch.min(p2, t2) - torch.max(p1, t1)).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (p[..., None, 2] * p[..., None, 3] + t[:, None, :, 2] * t[:, None, :, 3] - inter + 1e-9)


def yolov3_loss(outs, boxes, size, anchors, masks, num_classes):
    grids = [(o.shape[2], o.shape[3]) for o in outs]
    ys = yolov3_targets(boxes, grids, size, anchors, masks, num_classes)
    n = outs[0].shape[0]
    D = 5 + num_classes
    total = outs[0].new_zeros(())
    for out, yt, m in zip(outs, ys, masks):
        _, _, H, W = out.shape
        A = len(m)
        f = out.permute(0, 2, 3, 1).reshape(n, H, W, A, D)
        obj_m = yt[..., 4:5]
        gy, gx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing='ij')
        grid = torch.stack((gx, gy), -1).view(1, H, W, 1, 2).float()
        anc = torch.tensor([[anchors[a][0] / size, anchors[a][1] / size] for a in m])
        pxy = (f[..., :2].sigmoid() + grid) / torch.tensor([W, H])
        pwh = f[..., 2:4].exp() * anc
        with torch.no_grad():
            T = max(1, max(int(yt[b, ..., 4].sum()) for b in range(n)))
            tb = torch.zeros(n, T, 4)
            for b in range(n):
                sel = yt[b][yt[b, ..., 4] > 0][:, :4]
                tb[b, :len(sel)] = sel
            best = box_iou_matrix(torch.cat((pxy, pwh), -1).reshape(n, -1, 4), tb).max(-1)[0]
            ignore = (best < 0.5).float().view(n, H, W, A, 1)
        scale = 2 - yt[..., 2:3] * yt[..., 3:4]
        raw_xy = yt[..., :2] * torch.tensor([W, H]) - grid
        raw_wh = torch.log((yt[..., 2:4] / anc).clamp(min=1e-9)) * obj_m
        xy_l = obj_m * scale * bce_logits(f[..., :2], raw_xy)
        wh_l = obj_m * scale * 0.5 * (raw_wh - f[..., 2:4]) ** 2
        obj_bce = bce_logits(f[..., 4:5], obj_m)
        obj_l = obj_m * obj_bce + (1 - obj_m) * obj_bce * ignore
        cls_l = obj_m * bce_logits(f[..., 5:], yt[..., 5:])
        total = total + (xy_l.sum() + wh_l.sum() + obj_l.sum() + cls_l.sum()) / n
    return total


# ------------------------------------------------------------------------------ the step

FASTESTV2_ANCHORS = [[(12.64, 19.39), (37.88, 51.48), (55.71, 138.31)], [(126.91, 78.23), (131.57, 214.55), (279.92, 258.87)]]
TINY_ANCHORS = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)]
TINY_MASKS = [[3, 4, 5], [0, 1, 2]]


def synthetic_boxes(batch, size, num_classes, seed):
    """1-4 boxes per image, 5-50% of the side (the distribution of our syntheticTrainBoxes)."""
    rng = random.Random(seed)
    out = []
    for _ in range(batch):
        img = []
        for _ in range(1 + int(rng.random() * 4)):
            bw, bh = size * (0.05 + 0.45 * rng.random()), size * (0.05 + 0.45 * rng.random())
            x1, y1 = rng.random() * (size - bw), rng.random() * (size - bh)
            img.append((x1, y1, x1 + bw, y1 + bh, int(rng.random() * num_classes)))
        out.append(img)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, choices=['yolo-fastestv2', 'tiny-yolov3'])
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--size', type=int, default=None)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--classes', type=int, default=80)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    C = a.classes
    if a.model == 'yolo-fastestv2':
        size = a.size or 352
        net = FastestV2(C)
        loss_fn = lambda outs, boxes: fastestv2_loss(outs, boxes, size, FASTESTV2_ANCHORS, C)
    else:
        size = a.size or 416
        net = TinyYoloV3(C)
        loss_fn = lambda outs, boxes: yolov3_loss(outs, boxes, size, TINY_ANCHORS, TINY_MASKS, C)
    net.train()
    conv_w = [p for name, p in net.named_parameters() if p.dim() == 4]
    other = [p for name, p in net.named_parameters() if p.dim() != 4]
    opt = torch.optim.AdamW([{'params': conv_w, 'weight_decay': 5e-4}, {'params': other, 'weight_decay': 0.0}], lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
    images = torch.rand(a.batch, 3, size, size)
    boxes = synthetic_boxes(a.batch, size, C, a.seed)

    def step():
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(images), boxes)
        loss.backward()
        opt.step()
        value = float(loss)
        return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, value

    first, _, _ = step()
    for _ in range(a.warmup):
        step()
    times, cpu, loss = [], [], float('nan')
    for _ in range(a.steps):
        ms, cpu_ms, loss = step()
        times.append(ms)
        cpu.append(cpu_ms)

    def median(v):
        s = sorted(v)
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2

    print('PYTORCH_RESULT ' + json.dumps({
        'msPerStep': median(times), 'firstStepMs': first, 'minMs': min(times), 'cpuMsPerStep': median(cpu), 'timesMs': times,
        'steps': a.steps, 'warmup': a.warmup,
        'batch': a.batch, 'size': [size, size], 'threads': torch.get_num_threads(), 'model': a.model, 'loss': loss,
        'torch': torch.__version__,
    }))


if __name__ == '__main__':
    main()
