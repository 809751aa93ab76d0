/**
 * The ONE description of the wasm kernels' parameter blocks and enum codes. scripts/build-kernels.js
 * generates from it both the C header src/engine/native/params.h (structs read by the kernels) and
 * the TypeScript layouts src/engine/kernelLayouts.ts (field order used by writeParams), so the two
 * sides cannot drift; test/engine/kernelsWasm.test.ts fails when a generated file is stale.
 *
 * A field is `name` (int32: size, stride, byte-offset pointer, code) or `name:f` (float32). Every
 * block is a sequence of 4-byte fields in this order. `doc` becomes the comment above the struct.
 */
'use strict';

/** Enums: C `enum { PREFIX_KEY = value }` and TS `export const TSNAME = { key: value } as const`. */
const ENUMS = [
  {
    ts: 'ACT',
    cPrefix: 'ACT_',
    doc: 'Activation codes.',
    values: [
      ['linear', 0],
      ['relu', 1],
      ['relu6', 2],
      ['leaky', 3, 'max(x, alpha * x); alpha in [0, 1]'],
      ['sigmoid', 4],
      ['tanh', 5],
      ['elu', 6],
      ['swish', 7, 'x * sigmoid(x)'],
      ['mish', 8, 'x * tanh(softplus(x))'],
    ],
  },
  {
    ts: 'BINARY_OP',
    cPrefix: 'BINARY_',
    doc: 'Binary op codes of BinaryParams.op.',
    values: [
      ['axpby', 0],
      ['mul', 1],
    ],
  },
];

/** Parameter blocks: C `typedef struct {...} cName;` and TS `export const ts = [...] as const`. */
const BLOCKS = [
  {
    c: 'ConvParams',
    ts: 'CONV_PARAMS',
    doc: `conv2d: units of work = output pixels, or (splitBlocks = 1) blocks of 8 output channels, all
pixels each: layers with few pixels and large weights split better by channels, each thread
then streams only its part of the weights. Weights packed [ceil(N/8)][kh*kw*C][8] (zero
padded), bias [ceil(N/8)*8]. \`zero\` points at >= C zeros (reads outside the image).`,
    fields: [
      ['in', 'H', 'W', 'C', 'inStride'],
      ['out', 'OH', 'OW', 'N', 'outStride'],
      ['weights', 'bias'],
      ['kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft'],
      ['act'],
      ['alpha:f'],
      ['zero'],
      ['splitBlocks'],
    ],
  },
  {
    c: 'DepthwiseParams',
    ts: 'DEPTHWISE_PARAMS',
    doc: `depthwise2d (channel multiplier 1): units = output rows. Weights packed [kh*kw][Cp] and bias
[Cp] with Cp = C rounded up to 4 (zero padded).`,
    fields: [
      ['in', 'H', 'W', 'C', 'inStride'],
      ['out', 'OH', 'OW', 'outStride'],
      ['weights', 'bias'],
      ['kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft'],
      ['act'],
      ['alpha:f'],
    ],
  },
  {
    c: 'PoolParams',
    ts: 'POOL_PARAMS',
    doc: 'maxpool2d: units = output rows. Positions outside the input are skipped (padding never wins).',
    fields: [
      ['in', 'H', 'W', 'C', 'inStride'],
      ['out', 'OH', 'OW', 'outStride'],
      ['kh', 'kw', 'sh', 'sw', 'padTop', 'padLeft'],
    ],
  },
  {
    c: 'BinaryParams',
    ts: 'BINARY_PARAMS',
    doc: `binary: out = act(a * x + b * y) (op 0) or act(x * y) (op 1); units = pixels.
x and y have \`pixels\` pixels of C channels; either stride may be 0 (broadcast).`,
    fields: [['x', 'xStride', 'y', 'yStride', 'out', 'outStride'], ['pixels', 'C'], ['op'], ['a:f', 'b:f'], ['act'], ['alpha:f']],
  },
  {
    c: 'UnaryParams',
    ts: 'UNARY_PARAMS',
    doc: `unary: out = act(x * scale[c] + shift[c]) (scale/shift 0 = 1 / 0); units = pixels.
\`channelStep\` reads input channel c at x + c * channelStep (ShuffleNet's interleaved split:
base offset g, step groups); 1 for contiguous. Also the plain copy (act linear, no affine).`,
    fields: [['x', 'xStride', 'channelStep', 'out', 'outStride'], ['pixels', 'C'], ['scale', 'shift'], ['act'], ['alpha:f']],
  },
  {
    c: 'UpsampleParams',
    ts: 'UPSAMPLE_PARAMS',
    doc: 'upsampleNearest by integer factors: units = output rows.',
    fields: [['in', 'H', 'W', 'C', 'inStride'], ['out', 'outStride'], ['fy', 'fx']],
  },
  {
    c: 'PadParams',
    ts: 'PAD_PARAMS',
    doc: 'pad2d: constant padding; units = output rows.',
    fields: [['in', 'H', 'W', 'C', 'inStride'], ['out', 'OH', 'OW', 'outStride'], ['padTop', 'padLeft'], ['value:f']],
  },
  {
    c: 'GlobalPoolParams',
    ts: 'GLOBAL_POOL_PARAMS',
    doc: `globalAvgPool: mean over all pixels per channel (accumulated in f64); units = channels.
Output is C contiguous floats.`,
    fields: [['in', 'pixels', 'C', 'inStride'], ['out']],
  },
];

module.exports = { ENUMS, BLOCKS };
