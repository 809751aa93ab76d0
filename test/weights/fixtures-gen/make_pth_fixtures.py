#!/usr/bin/python3
"""Generate the small PyTorch / safetensors test files under test/weights/data/.

Run with Debian's python3-torch (torch 1.13):
    /usr/bin/python3 test/weights/fixtures-gen/make_pth_fixtures.py

Writes (all tiny, committed as our own test data):
  legacy_small.pth      legacy (pre-1.6) torch.save format: float32/16/64, int64/32, uint8, bool,
                        a transposed (non-contiguous) tensor, slice views with storage offsets,
                        tensors sharing one storage, an nn.Parameter, num_batches_tracked
  zip_small.pth         the same dict in the zip format
  checkpoint_legacy.pth {'epoch', 'model': <state dict>, 'optimizer': ..., 'best_ap'} (legacy)
  ambiguous.pth         {'model': sd, 'ema': sd} (zip): must need an explicit key
  malicious_zip.pth     a zip .pth whose pickle calls os.system (never loaded by us in Python)
  malicious_legacy.pth  the same in the legacy format
  legacy_view.pth       a hand-written legacy file whose storage reference is a VIEW of a root storage
                        (view_metadata, written by PyTorch < 1.? for storage slices); torch.load reads it
  small.safetensors     F32, F16, BF16, I64, I32, U8, BOOL tensors (written by hand, per the spec)
  expected.json         every tensor's shape, dtype and C-order values (int64 as strings)
"""
import collections
import io
import json
import os
import pickle
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1234)


def state_dict():
    sd = collections.OrderedDict()
    sd['conv.weight'] = torch.randn(4, 3, 3, 3)
    sd['conv.bias'] = torch.randn(4)
    sd['bn.running_var'] = torch.rand(4)
    sd['bn.num_batches_tracked'] = torch.tensor(1700730, dtype=torch.int64)
    sd['half'] = (torch.randn(2, 5) * 3).half()
    sd['double'] = torch.tensor([1.0 / 3, -2.5e-300, 1e300], dtype=torch.float64)
    sd['long_vec'] = torch.tensor([0, -3, 2 ** 40, -(2 ** 62), 7], dtype=torch.int64)
    sd['int_vec'] = torch.tensor([-(2 ** 31), 5, 2 ** 31 - 1], dtype=torch.int32)
    sd['bytes'] = torch.tensor([0, 7, 255], dtype=torch.uint8)
    sd['mask'] = torch.tensor([True, False, True])
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5
    sd['transposed'] = base.t()                      # non-contiguous, shares storage with base
    sd['base'] = base                                # same storage as 'transposed'
    big = torch.randn(20)
    sd['slice_offset'] = big[5:11]                   # storage offset 5
    sd['strided_slice'] = big.reshape(4, 5)[1:, ::2]  # offset 5, strides (5, 2)
    sd['shared_row'] = big.reshape(4, 5)[2]          # offset 10, same storage as the two above
    sd['scalar'] = torch.tensor(2.75)
    sd['empty'] = torch.zeros(0, 3)
    sd['param'] = torch.nn.Parameter(torch.randn(2, 2))
    return sd


def values(t):
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        return [str(int(v)) for v in t.reshape(-1).tolist()]
    if t.dtype == torch.bool:
        return [1 if v else 0 for v in t.reshape(-1).tolist()]
    if t.dtype == torch.float16 or t.dtype == torch.bfloat16:
        t = t.float()
    return t.reshape(-1).tolist()


def dtype_name(t):
    return {torch.float32: 'float32', torch.float16: 'float32', torch.bfloat16: 'float32', torch.float64: 'float64',
            torch.int64: 'int64', torch.int32: 'int32', torch.uint8: 'uint8', torch.bool: 'bool'}[t.dtype]


def describe(sd):
    return {k: {'shape': list(v.shape), 'dtype': dtype_name(v), 'values': values(v)} for k, v in sd.items()}


class Evil:
    def __reduce__(self):
        return (os.system, ('echo this .pth just ran a shell command',))


sd = state_dict()
torch.save(sd, os.path.join(OUT, 'legacy_small.pth'), _use_new_zipfile_serialization=False)
torch.save(sd, os.path.join(OUT, 'zip_small.pth'))
small = collections.OrderedDict((k, sd[k]) for k in ['conv.weight', 'conv.bias', 'bn.num_batches_tracked'])
torch.save({'epoch': 3, 'model': small, 'optimizer': {'state': {}, 'param_groups': [{'lr': 0.01, 'params': [0, 1]}]},
            'best_ap': 0.25}, os.path.join(OUT, 'checkpoint_legacy.pth'), _use_new_zipfile_serialization=False)
torch.save({'model': small, 'ema': small}, os.path.join(OUT, 'ambiguous.pth'))
torch.save({'x': torch.ones(2), 'evil': Evil()}, os.path.join(OUT, 'malicious_zip.pth'))
torch.save({'x': torch.ones(2), 'evil': Evil()}, os.path.join(OUT, 'malicious_legacy.pth'),
           _use_new_zipfile_serialization=False)

# legacy file with a storage view (view_metadata = (view_key, offset, size)), written by hand with
# the same layout torch's _legacy_save uses; the expected values come from torch.load of it.
class _ViewStorage:
    pass


class _ViewTensor:
    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (_ViewStorage(), 1, (2, 2), (2, 1), False, collections.OrderedDict()))


class _LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _ViewStorage):
            return ('storage', torch.FloatStorage, 'root', 'cpu', 10, ('view1', 2, 5))
        return None


buf = io.BytesIO()
for header in (0x1950a86a20f9469cfc6c, 1001, {'protocol_version': 1001, 'little_endian': True,
                                              'type_sizes': {'short': 2, 'int': 4, 'long': 4}}):
    pickle.dump(header, buf, protocol=2)
_LegacyPickler(buf, protocol=2).dump(collections.OrderedDict([('v', _ViewTensor())]))
pickle.dump(['root'], buf, protocol=2)
buf.write(struct.pack('<q', 10) + struct.pack('<10f', *[float(i) for i in range(10)]))
with open(os.path.join(OUT, 'legacy_view.pth'), 'wb') as f:
    f.write(buf.getvalue())
view_sd = torch.load(os.path.join(OUT, 'legacy_view.pth'))

# safetensors, written by hand from the format's definition
st = collections.OrderedDict()
st['f32'] = torch.randn(2, 3)
st['f16'] = (torch.randn(4) * 100).half()
st['bf16'] = torch.randn(3).bfloat16()
st['i64'] = torch.tensor([[-1, 2 ** 50]], dtype=torch.int64)
st['i32'] = torch.tensor([-7, 8], dtype=torch.int32)
st['u8'] = torch.tensor([1, 200], dtype=torch.uint8)
st['flag'] = torch.tensor([False, True, True])
codes = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64', torch.int32: 'I32',
         torch.uint8: 'U8', torch.bool: 'BOOL'}
header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
for k, v in st.items():
    raw = v.contiguous().view(torch.uint8).numpy().tobytes() if v.numel() else b''
    header[k] = {'dtype': codes[v.dtype], 'shape': list(v.shape), 'data_offsets': [off, off + len(raw)]}
    blobs.append(raw)
    off += len(raw)
hjson = json.dumps(header).encode()
hjson += b' ' * ((8 - len(hjson) % 8) % 8)
with open(os.path.join(OUT, 'small.safetensors'), 'wb') as f:
    f.write(struct.pack('<Q', len(hjson)) + hjson + b''.join(blobs))

expected = {
    'torch_version': torch.__version__,
    'state_dict': describe(sd),
    'checkpoint_model': describe(small),
    'safetensors': describe(st),
    'legacy_view': describe(view_sd),
}
with open(os.path.join(OUT, 'expected.json'), 'w') as f:
    json.dump(expected, f, indent=1)
print('wrote', sorted(os.listdir(OUT)))
