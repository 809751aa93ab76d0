#!/usr/bin/python3
"""Our own minimal PyTorch re-implementation of the Scaled-YOLOv4 networks, used as an
independent reference (float64 and float32) for yolo-tfjs' parity tests.

Nothing here is upstream code: the module forwards are written from the semantics in
shared/fixtures/scaled-yolov4/NOTES.md (and csp/NOTES.md).

* `heads`: run a yolov4-large checkpoint (whole pickled model; its classes are resolved to the
  stand-ins below) or a cfg-defined Darknet state dict on float32 NCHW input files, in float64
  and/or float32, and write the raw heads (`head<k>.f32`, NCHW, float32) to an output folder. The
  float64 heads are the exact answer the float32 ports (upstream's and ours) approximate.
  With --cfg, the checkpoint is a cfg-defined Darknet state dict (the yolov4-csp branch's, or
  ultralytics' cfg-era yolov3 layout), loaded strictly into our module_list Darknet.

Usage:
  scaled_yolov4_reference.py heads [--cfg CFG] --pt FILE --input A.f32[,B.f32...] --size S
                                   [--dtype float64[,float32]] --out DIR
      writes DIR/<dtype>/<j>/head<k>.f32 for input j
"""
import argparse
import os
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


def mish(x):
    # softplus with PyTorch's threshold 20 (F.softplus default), as the fixtures' Mish.
    return x * torch.tanh(F.softplus(x))


# ---------------------------------------------------------------------------------------------
# Stand-ins for the pickled yolov4-large classes: unpickling fills their __dict__ (nn.Module's
# __setstate__); only forward() is ours.


class _Act(nn.Module):
    def forward(self, x):
        return mish(x)


class _Conv(nn.Module):  # conv (no bias) -> bn -> act
    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class _Bottleneck(nn.Module):
    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class _BottleneckCSP(nn.Module):
    def forward(self, x):
        y1 = self.cv3(self.m(self.cv1(x)))
        y2 = self.cv2(x)
        return self.cv4(self.act(self.bn(torch.cat((y1, y2), 1))))


class _BottleneckCSP2(nn.Module):
    def forward(self, x):
        x1 = self.cv1(x)
        return self.cv3(self.act(self.bn(torch.cat((self.m(x1), self.cv2(x1)), 1))))


class _SPPCSP(nn.Module):
    def forward(self, x):
        x1 = self.cv4(self.cv3(self.cv1(x)))
        y1 = self.cv6(self.cv5(torch.cat([x1] + [m(x1) for m in self.m], 1)))
        return self.cv7(self.act(self.bn(torch.cat((y1, self.cv2(x)), 1))))


class _Concat(nn.Module):
    def forward(self, xs):
        return torch.cat(xs, self.d)


class _Detect(nn.Module):
    def forward(self, xs):
        return [m(x) for m, x in zip(self.m, xs)]


class _Model(nn.Module):
    def forward(self, x):
        y = []
        out = x
        for m in self.model:
            if m.f != -1:
                out = y[m.f] if isinstance(m.f, int) else [out if j == -1 else y[j] for j in m.f]
            out = m(out)
            y.append(out if m.i in self.save else None)
        return out


def _install_stand_ins():
    classes = {
        'models.common': {'Conv': _Conv, 'Bottleneck': _Bottleneck, 'BottleneckCSP': _BottleneckCSP,
                          'BottleneckCSP2': _BottleneckCSP2, 'SPPCSP': _SPPCSP, 'Concat': _Concat},
        'models.yolo': {'Detect': _Detect, 'Model': _Model},
        'mish_cuda': {'MishCuda': _Act},
        'mc.build.lib.mish_mish': {'MishCuda': _Act},
    }
    for name, members in classes.items():
        parts = name.split('.')
        for i in range(1, len(parts) + 1):
            sys.modules.setdefault('.'.join(parts[:i]), types.ModuleType('.'.join(parts[:i])))
        for k, v in members.items():
            setattr(sys.modules[name], k, v)


def load_yaml_model(path):
    _install_stand_ins()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # legacy files: "source code of class ... has changed"
        ck = torch.load(path, map_location='cpu')
    return ck['model'].float().eval()


# ---------------------------------------------------------------------------------------------
# A cfg-defined Darknet as a module_list (the PyTorch port's conventions: BN eps 1e-4, Mish,
# shortcut = add, route = concat, maxpool stride 1 padding (k-1)//2, nearest upsample).


def parse_cfg(text):
    sections = []
    for line in text.splitlines():
        line = line.split('#')[0].strip()
        if not line:
            continue
        if line.startswith('['):
            sections.append({'type': line[1:-1].strip()})
        else:
            k, v = line.split('=', 1)
            sections[-1][k.strip()] = v.strip()
    return sections[0], sections[1:]


def ints(v):
    return [int(s) for s in v.split(',') if s.strip()]


class ModuleListDarknet(nn.Module):
    def __init__(self, cfg_text, bn_eps=1e-4):
        super().__init__()
        net, self.defs = parse_cfg(cfg_text)
        self.module_list = nn.ModuleList()
        channels = [int(net.get('channels', 3))]  # channels[i + 1] = output of layer i
        for i, d in enumerate(self.defs):
            t = d['type']
            mod = nn.Sequential()
            if t == 'convolutional':
                bn = int(d.get('batch_normalize', 0))
                k = int(d['size'])
                pad = k // 2 if int(d.get('pad', 0)) else 0
                c2 = int(d['filters'])
                mod.add_module('Conv2d', nn.Conv2d(channels[-1], c2, k, int(d.get('stride', 1)), pad,
                                                   groups=int(d.get('groups', 1)), bias=not bn))
                if bn:
                    mod.add_module('BatchNorm2d', nn.BatchNorm2d(c2, momentum=0.03, eps=bn_eps))
                act = d.get('activation', 'linear')
                if act not in ('linear', 'mish', 'leaky', 'logistic'):
                    raise ValueError(f'layer {i}: activation {act} not in this reference')
                d['_act'] = act
            elif t == 'shortcut':
                c2 = channels[-1]
            elif t == 'route':
                layers = [l if l >= 0 else i + l for l in ints(d['layers'])]
                d['_layers'] = layers
                c2 = sum(channels[l + 1] for l in layers)
            elif t in ('maxpool', 'upsample', 'yolo', 'dropout'):
                c2 = channels[-1]
            else:
                raise ValueError(f'layer {i}: [{t}] not in this reference')
            self.module_list.append(mod)
            channels.append(c2)

    def forward(self, x):
        outs, heads = [], []
        for i, (d, mod) in enumerate(zip(self.defs, self.module_list)):
            t = d['type']
            if t == 'convolutional':
                x = mod(x)
                if d['_act'] == 'mish':
                    x = mish(x)
                elif d['_act'] == 'leaky':
                    x = F.leaky_relu(x, 0.1)
                elif d['_act'] == 'logistic':
                    x = torch.sigmoid(x)
            elif t == 'shortcut':
                x = x + outs[i + int(d['from'])]
            elif t == 'route':
                xs = [outs[l] for l in d['_layers']]
                x = xs[0] if len(xs) == 1 else torch.cat(xs, 1)
            elif t == 'maxpool':
                k, s = int(d['size']), int(d.get('stride', 1))
                if s != 1:
                    raise ValueError('maxpool stride != 1 not in this reference')
                x = F.max_pool2d(x, k, 1, (k - 1) // 2)
            elif t == 'upsample':
                x = F.interpolate(x, scale_factor=int(d.get('stride', 2)), mode='nearest')
            elif t == 'yolo':
                heads.append(x)
            # 'dropout': identity at inference
            outs.append(x)
        return heads


# ---------------------------------------------------------------------------------------------


def cmd_heads(a):
    if a.cfg:
        with open(a.cfg) as f:
            model = ModuleListDarknet(f.read())
        ck = torch.load(a.pt, map_location='cpu')
        sd = ck['model'] if isinstance(ck, dict) and 'model' in ck else ck
        # strict: every key and shape of the file is what a module_list Darknet of this cfg holds
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, strict=True)
        model.eval()
    else:
        model = load_yaml_model(a.pt)
    for dt in a.dtype.split(','):
        run = model.to(torch.float64 if dt == 'float64' else torch.float32)
        for j, path in enumerate(a.input.split(',')):
            x = np.fromfile(path, dtype='<f4').reshape(1, 3, a.size, a.size)
            with torch.no_grad():
                heads = run(torch.from_numpy(x).to(next(run.parameters()).dtype))
            out = os.path.join(a.out, dt, str(j))
            os.makedirs(out, exist_ok=True)
            for k, h in enumerate(heads):
                h.float().numpy().astype('<f4').tofile(os.path.join(out, f'head{k}.f32'))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    h = sub.add_parser('heads')
    h.add_argument('--pt', required=True)
    h.add_argument('--cfg')
    h.add_argument('--input', required=True)
    h.add_argument('--size', type=int, required=True)
    h.add_argument('--dtype', default='float64')
    h.add_argument('--out', required=True)
    a = p.parse_args()
    cmd_heads(a)


if __name__ == '__main__':
    main()
