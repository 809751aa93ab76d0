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
  // ---- training kernels (units and accumulate-vs-overwrite in each doc) ----
  {
    c: 'ConvFilterGradParams',
    ts: 'CONV_FILTER_GRAD_PARAMS',
    doc: `conv2dFilterGrad: dW[ky][kx][ci][co] += sum_p x[tap(p)][ci] * dy[p][co] for each of \`images\`
images (dW in tfjs' HWIO layout, N = output channels); image i reads in + i*inImageStep and
dy + i*dyImageStep and adds into dW + i*dWImageStep (byte steps; a dWImageStep of 0 is only
safe on one thread: units of different images would add into the same dW). Units = images x
blocks of 8 output channels (image-major, images * ceil(N/8)); ACCUMULATES (zero dW once per step).`,
    fields: [
      ['in', 'H', 'W', 'C', 'inStride'],
      ['dy', 'OH', 'OW', 'N', 'dyStride'],
      ['dW'],
      ['kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft'],
      ['images', 'inImageStep', 'dyImageStep', 'dWImageStep'],
    ],
  },
  {
    c: 'ChannelSumParams',
    ts: 'CHANNEL_SUM_PARAMS',
    doc: 'channelSum (bias gradient): out[c] += sum over pixels of x[p][c] (f64 per call); units = channels; ACCUMULATES.',
    fields: [['x', 'pixels', 'C', 'xStride'], ['out']],
  },
  {
    c: 'BnStatsParams',
    ts: 'BN_STATS_PARAMS',
    doc: `bnStats: per-channel sum of x and of x^2 as float64, over \`slices\` (>= 1) even pixel slices: units =
slices; slice s ACCUMULATES into sum[s*C + c], sumSq[s*C + c] (sumSq 0 = skip; zero them once per
step); bnFinalize adds the slices up.`,
    fields: [['x', 'pixels', 'C', 'xStride'], ['sum', 'sumSq'], ['slices']],
  },
  {
    c: 'BnFinalizeParams',
    ts: 'BN_FINALIZE_PARAMS',
    doc: `bnFinalize: from the f64 sums (\`slices\` partial arrays of C, added up) over \`count\` pixels (all images): mean, invStd = 1/sqrt(var + eps)
(biased var), scale = gamma*invStd, shift = beta - mean*scale (scale/shift 0 = skip; gamma/beta
0 = 1/0), moving stats m -= (m - batch) * decay with decay = 1 - momentum (0 = skip); units =
channels; overwrites.`,
    fields: [['sum', 'sumSq', 'count', 'C'], ['gamma', 'beta'], ['epsilon:f', 'decay:f'], ['mean', 'invStd', 'scale', 'shift', 'movingMean', 'movingVar'], ['slices']],
  },
  {
    c: 'BnBackwardReduceParams',
    ts: 'BN_BACKWARD_REDUCE_PARAMS',
    doc: `bnBackwardReduce: g = dy * act'(pre) stored to g (may alias dy), per channel sum g and
sum g * (x - mean) * invStd (f64) over \`slices\` (>= 1) even pixel slices: units = slices; slice s
ACCUMULATES into sumG[s*C + c], sumGX[s*C + c]; g is overwritten; act linear ignores pre.`,
    fields: [['dy', 'dyStride', 'pre', 'preStride', 'act'], ['alpha:f'], ['g', 'gStride', 'x', 'xStride', 'pixels', 'C'], ['mean', 'invStd', 'sumG', 'sumGX'], ['slices']],
  },
  {
    c: 'BnBackwardCoefParams',
    ts: 'BN_BACKWARD_COEF_PARAMS',
    doc: `bnBackwardCoef: per channel, from the f64 sums (\`slices\` partial arrays of C, added up) over \`count\` pixels: coefG = gamma*invStd,
coefX = -coefG*invStd*sumGX/count, coefB = -coefG*sumG/count (overwritten); dGamma += sumGX,
dBeta += sumG (0 = skip; gamma 0 = 1); units = channels.`,
    fields: [['sumG', 'sumGX', 'count', 'C'], ['gamma', 'invStd'], ['coefG', 'coefX', 'coefB'], ['dGamma', 'dBeta'], ['slices']],
  },
  {
    c: 'BnBackwardApplyParams',
    ts: 'BN_BACKWARD_APPLY_PARAMS',
    doc: 'bnBackwardApply: out (+)= coefG*g + coefX*(x - mean) + coefB; units = pixels; accumulate 1 adds to out.',
    fields: [['g', 'gStride', 'x', 'xStride', 'out', 'outStride', 'pixels', 'C'], ['coefG', 'coefX', 'coefB', 'mean'], ['accumulate']],
  },
  {
    c: 'ActBackwardParams',
    ts: 'ACT_BACKWARD_PARAMS',
    doc: "actBackward: out (+)= dy * act'(pre); units = pixels; accumulate 1 adds to out (out may alias dy when 0).",
    fields: [['dy', 'dyStride', 'pre', 'preStride', 'out', 'outStride', 'pixels', 'C'], ['act'], ['alpha:f'], ['accumulate']],
  },
  {
    c: 'DepthwiseFilterGradParams',
    ts: 'DEPTHWISE_FILTER_GRAD_PARAMS',
    doc: `depthwise2dFilterGrad: dW[ky][kx][c] += sum_p x[tap(p)][c] * dy[p][c] (tfjs layout [kh][kw][C][1]);
units = channels; ACCUMULATES; \`images\` (0 = 1) images, image i at in + i*inImageStep, dy + i*dyImageStep (bytes).`,
    fields: [['in', 'H', 'W', 'C', 'inStride'], ['dy', 'OH', 'OW', 'dyStride'], ['dW'], ['kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft'], ['images', 'inImageStep', 'dyImageStep']],
  },
  {
    c: 'DepthwiseInputGradParams',
    ts: 'DEPTHWISE_INPUT_GRAD_PARAMS',
    doc: `depthwise2dInputGrad: dx (H x W, out) from dy (OH x OW) and the weights in tfjs layout
[kh][kw][C][1] (kh, kw <= 32); units = images x input rows (\`images\` 0 = 1; image i at dy +
i*dyImageStep, out + i*outImageStep, bytes); accumulate 1 adds to dx.`,
    fields: [['dy', 'OH', 'OW', 'C', 'dyStride'], ['out', 'H', 'W', 'outStride'], ['weights'], ['kh', 'kw', 'sh', 'sw', 'dh', 'dw', 'padTop', 'padLeft'], ['accumulate'], ['images', 'dyImageStep', 'outImageStep']],
  },
  {
    c: 'MaxPoolGradParams',
    ts: 'MAX_POOL_GRAD_PARAMS',
    doc: `maxpool2dGrad: dx (H x W, out) of maxpool2d from its input x (in) and dy; dy goes to the first
maximal tap (tfjs); units = images x input rows (\`images\` 0 = 1; image i at in + i*inImageStep,
dy + i*dyImageStep, out + i*outImageStep, bytes); accumulate 1 adds to dx.`,
    fields: [['in', 'H', 'W', 'C', 'inStride'], ['dy', 'OH', 'OW', 'dyStride'], ['out', 'outStride'], ['kh', 'kw', 'sh', 'sw', 'padTop', 'padLeft'], ['accumulate'], ['images', 'inImageStep', 'dyImageStep', 'outImageStep']],
  },
  {
    c: 'UpsampleGradParams',
    ts: 'UPSAMPLE_GRAD_PARAMS',
    doc: `upsampleNearestGrad: dx (H x W) = block sums of dy ((H*fy) x (W*fx)); units = images x input rows
(\`images\` 0 = 1; image i at dy + i*dyImageStep, out + i*outImageStep, bytes); accumulate 1 adds.`,
    fields: [['dy', 'H', 'W', 'C', 'dyStride'], ['out', 'outStride'], ['fy', 'fx'], ['accumulate'], ['images', 'dyImageStep', 'outImageStep']],
  },
  {
    c: 'ChannelScatterParams',
    ts: 'CHANNEL_SCATTER_PARAMS',
    doc: `channelScatter (gradient of the interleaved channel split): out[p*outStride + c*channelStep] (+)=
x[p*xStride + c] for c < C; units = pixels; accumulate 1 adds.`,
    fields: [['x', 'xStride', 'out', 'outStride', 'channelStep'], ['pixels', 'C'], ['accumulate']],
  },
  {
    c: 'ZeroInsertParams',
    ts: 'ZERO_INSERT_PARAMS',
    doc: 'zeroInsert: out[y][x] = in[y/sy][x/sx] where both divide (and inside H x W), else 0; units = output rows; overwrites all.',
    fields: [['in', 'H', 'W', 'C', 'inStride'], ['out', 'OH', 'OW', 'outStride'], ['sy', 'sx']],
  },
  // ---- broadcast channel ops (EfficientDet: squeeze-excitation, fast normalised fusion, drop-connect) ----
  {
    c: 'ScaleChannelsParams',
    ts: 'SCALE_CHANNELS_PARAMS',
    doc: `scaleChannels: out[p][c] (+)= x[p*xStride + c] * s[c] * k (s pointer 0 = no per-channel factor;
xStride 0 broadcasts one C-vector, the spatial-mean gradient); units = pixels; accumulate flag.`,
    fields: [['x', 'xStride', 's', 'out', 'outStride', 'pixels', 'C'], ['k:f'], ['accumulate']],
  },
  {
    c: 'ChannelDotParams',
    ts: 'CHANNEL_DOT_PARAMS',
    doc: `channelDot: out[c] (+)= sum over pixels of x[p][c] * y[p][c] (f64 per call; the gradient of a
per-channel or per-tensor factor); units = channels; accumulate flag.`,
    fields: [['x', 'xStride', 'y', 'yStride', 'pixels', 'C', 'out'], ['accumulate']],
  },
  {
    c: 'AdamParams',
    ts: 'ADAM_PARAMS',
    doc: `adam: tf.train.adam's update of n floats, then param *= decayFactor; scalars as float32 from
optimizerScalars.ts; units = floats.`,
    fields: [['param', 'grad', 'm', 'v', 'n'], ['negLr', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'oneMinusAccBeta1', 'oneMinusAccBeta2', 'epsilon', 'decayFactor'].map((f) => `${f}:f`)],
  },
  {
    c: 'MomentumParams',
    ts: 'MOMENTUM_PARAMS',
    doc: `sgdMomentum: tf.train.momentum's update (acc = acc*momentum + grad; param += negLr*acc, or with
nesterov 1 param += negLr*(grad + acc*momentum)), then param *= decayFactor; units = floats.`,
    fields: [['param', 'grad', 'acc', 'n', 'nesterov'], ['momentum:f', 'negLr:f', 'decayFactor:f']],
  },
  {
    c: 'EmaParams',
    ts: 'EMA_PARAMS',
    doc: 'ema: shadow = shadow*decay + param*oneMinusDecay; units = floats.',
    fields: [['shadow', 'param', 'n'], ['decay:f', 'oneMinusDecay:f']],
  },
];

module.exports = { ENUMS, BLOCKS };
