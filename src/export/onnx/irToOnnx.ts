/**
 * The inference IR (BN already folded) as an ONNX graph, opset 13. Feature maps run NCHW inside
 * the graph; the model takes our NHWC input `[N, H, W, C]` (a Transpose first) and returns our
 * raw outputs in our layout (rank-4 outputs transposed back to NHWC), so its outputs equal
 * `Detector.predict` element for element.
 */
import { ConvNode, IRActivation, IRGraph, IRNode, PadNode, explicitPadding } from '../../infer/ir';
import { OnnxGraph, OnnxNode, OnnxTensor } from './onnxProto';

/** Input / output names of exported graphs. */
export const ONNX_INPUT_NAME = 'input';
export const onnxOutputName = (i: number): string => `output${i}`;

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

/** Build the ONNX graph of an optimised IR graph. */
export function irToOnnx(g: IRGraph, name: string): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  let counter = 0;
  const fresh = (base: string) => `${base}_${counter++}`;
  const constF = (base: string, dims: number[], data: Float32Array | number[]): string => {
    const n = fresh(base);
    initializers.push({ name: n, dims, data: data instanceof Float32Array ? data : Float32Array.from(data) });
    return n;
  };
  const constI = (base: string, data: number[], scalar = false): string => {
    const n = fresh(base);
    initializers.push({ name: n, dims: scalar ? [] : [data.length], data: BigInt64Array.from(data.map((x) => BigInt(x))) });
    return n;
  };
  const emit = (opType: string, inputs: string[], attributes?: OnnxNode['attributes'], out?: string): string => {
    const o = out ?? fresh(opType.toLowerCase());
    nodes.push({ opType, inputs, outputs: [o], name: fresh(`n_${opType}`), attributes });
    return o;
  };
  /** Value id -> ONNX name. Rank-4 values (IR shape length 3) are NCHW. */
  const names = new Map<number, string>();
  const isMap = (v: number) => g.shapes[v].length === 3;

  names.set(g.input, emit('Transpose', [ONNX_INPUT_NAME], { perm: NHWC_TO_NCHW }, 'input_nchw'));

  const activation = (x: string, fn: IRActivation, alpha = 0.1): string => {
    switch (fn) {
      case 'linear':
        return x;
      case 'relu':
        return emit('Relu', [x]);
      case 'relu6':
        return emit('Clip', [x, constF('zero', [], [0]), constF('six', [], [6])]);
      case 'leaky':
        return emit('LeakyRelu', [x], { alpha: { float: alpha } });
      case 'sigmoid':
        return emit('Sigmoid', [x]);
      case 'tanh':
        return emit('Tanh', [x]);
      case 'elu':
        return emit('Elu', [x], { alpha: { float: 1 } });
      case 'swish':
        return emit('Mul', [x, emit('Sigmoid', [x])]);
      case 'mish':
        return emit('Mul', [x, emit('Tanh', [emit('Softplus', [x])])]);
    }
  };

  const conv = (n: ConvNode & IRNode, x: string): string => {
    const [kh, kw, ci, m] = n.filterShape;
    const inShape = g.shapes[n.inputs[0]];
    const co = n.depthwise ? ci * m : m;
    const icPerGroup = n.depthwise ? 1 : ci;
    // HWIO [kh, kw, ci, co] -> OIHW; depthwise [kh, kw, c, m] -> [c*m, 1, kh, kw] (out = c*m + j).
    const w = new Float32Array(co * icPerGroup * kh * kw);
    for (let y = 0; y < kh; y++) {
      for (let xx = 0; xx < kw; xx++) {
        for (let i = 0; i < ci; i++) {
          for (let j = 0; j < m; j++) {
            const src = ((y * kw + xx) * ci + i) * m + j;
            const o = n.depthwise ? i * m + j : j;
            const ii = n.depthwise ? 0 : i;
            w[((o * icPerGroup + ii) * kh + y) * kw + xx] = n.filter[src];
          }
        }
      }
    }
    const [[t, b], [l, r]] = explicitPadding(n.pad, [inShape[0], inShape[1]], [kh, kw], n.strides, n.dilations);
    const inputs = [x, constF('W', [co, icPerGroup, kh, kw], w)];
    if (n.bias) inputs.push(constF('B', [co], n.bias));
    const y = emit('Conv', inputs, {
      kernel_shape: [kh, kw],
      strides: n.strides,
      dilations: n.dilations,
      pads: [t, l, b, r],
      group: n.depthwise ? ci : 1,
    });
    return activation(y, n.activation, n.alpha);
  };

  const producer = new Map<number, IRNode>();
  for (const n of g.nodes) for (const v of n.outputs) producer.set(v, n);

  const maxPoolOverConstantPad = (
    p: PadNode & IRNode,
    size: [number, number],
    strides: [number, number],
    poolPads: [[number, number], [number, number]],
    outShape: number[],
  ): string => {
    const src = names.get(p.inputs[0]) as string;
    const [H, W] = g.shapes[p.inputs[0]];
    const [[pt, pb], [pl, pr]] = p.pads;
    const [[qt, qb], [ql, qr]] = poolPads;
    const [ho, wo] = outShape;
    // In the Pad output's coordinates (size H + pt + pb), which windows hold a padded cell?
    const touches = (i: number, k: number, s: number, q: number, before: number, n: number, total: number) => {
      const lo = Math.max(0, i * s - q);
      const hi = Math.min(total, i * s - q + k); // exclusive
      return { any: hi > lo, pad: hi > lo && (lo < before || hi > before + n) };
    };
    const mask = new Float32Array(ho * wo);
    for (let i = 0; i < ho; i++) {
      const rr = touches(i, size[0], strides[0], qt, pt, H, H + pt + pb);
      for (let j = 0; j < wo; j++) {
        const cc = touches(j, size[1], strides[1], ql, pl, W, W + pl + pr);
        const hit = rr.any && cc.any && (rr.pad || cc.pad);
        mask[i * wo + j] = hit ? p.value : -3.4028234663852886e38;
      }
    }
    const pooled = emit('MaxPool', [src], {
      kernel_shape: size,
      strides,
      pads: [pt + qt, pl + ql, pb + qb, pr + qr],
    });
    return emit('Max', [pooled, constF('padmask', [1, 1, ho, wo], mask)]);
  };

  /** NHWC axis of a rank-4 value -> NCHW axis. */
  const axisOf = (v: number, axis: number) => (isMap(v) ? [0, 2, 3, 1][axis] : axis);

  for (const n of g.nodes) {
    const ins = n.inputs.map((v) => {
      const s = names.get(v);
      if (s === undefined) throw new Error(`exportOnnx: internal error, value ${v} has no ONNX name`);
      return s;
    });
    const x = ins[0];
    const inShape = g.shapes[n.inputs[0]];
    let outs: string[];
    switch (n.op) {
      case 'conv':
        outs = [conv(n, x)];
        break;
      case 'affine': {
        const dims = isMap(n.inputs[0]) ? [n.scale.length, 1, 1] : [n.scale.length];
        outs = [emit('Add', [emit('Mul', [x, constF('scale', dims, n.scale)]), constF('shift', dims, n.shift)])];
        break;
      }
      case 'pad': {
        const [[t, b], [l, r]] = n.pads;
        outs = [emit('Pad', [x, constI('pads', [0, 0, t, l, 0, 0, b, r]), constF('value', [], [n.value])], { mode: 'constant' })];
        break;
      }
      case 'maxPool': {
        const [[t, b], [l, r]] = explicitPadding(n.pad, [inShape[0], inShape[1]], n.size, n.strides);
        const p = producer.get(n.inputs[0]);
        if (p && p.op === 'pad') {
          // Constant padding that takes part in the max (zylo117's static-same pool). Written
          // as Pad -> MaxPool, onnxruntime's pad fusion turns it into MaxPool pads, where
          // padding never wins: wrong for negative windows. So: MaxPool over the UNPADDED
          // input with both paddings, then Max with the pad value at the windows that touch
          // the constant padding (exact).
          outs = [maxPoolOverConstantPad(p, n.size, n.strides, [[t, b], [l, r]], g.shapes[n.outputs[0]])];
          break;
        }
        outs = [emit('MaxPool', [x], { kernel_shape: n.size, strides: n.strides, pads: [t, l, b, r] })];
        break;
      }
      case 'activation':
        outs = [n.fn === 'linear' ? emit('Identity', [x]) : activation(x, n.fn, n.alpha)];
        break;
      case 'add':
        outs = [ins.length === 2 ? emit('Add', ins) : emit('Sum', ins)];
        break;
      case 'mul':
        outs = [emit('Mul', ins)];
        break;
      case 'weightedSum':
        outs = [emit('Sum', ins.map((s, i) => emit('Mul', [s, constF('w', [], [n.weights[i]])])))];
        break;
      case 'concat':
        outs = [emit('Concat', ins, { axis: axisOf(n.inputs[0], n.axis) })];
        break;
      case 'upsample':
        outs = [
          emit('Resize', [x, '', constF('scales', [4], [1, 1, n.scale[0], n.scale[1]])], {
            mode: 'nearest',
            coordinate_transformation_mode: 'asymmetric',
            nearest_mode: 'floor',
          }),
        ];
        break;
      case 'channelSlice': {
        const axis = isMap(n.inputs[0]) ? 1 : inShape.length;
        outs = [emit('Slice', [x, constI('starts', [n.begin]), constI('ends', [n.begin + n.size]), constI('axes', [axis])])];
        break;
      }
      case 'channelSplit': {
        const [h, w, c] = inShape;
        const grouped = emit('Reshape', [x, constI('shape', [0, c / n.groups, n.groups, h, w])]);
        // Part j = channels k*g + j: Gather with a SCALAR index on the g axis drops that axis.
        outs = n.folded.map((f, j) => (f ? '' : emit('Gather', [grouped, constI('index', [j], true)], { axis: 2 })));
        break;
      }
      case 'reshape': {
        const src = isMap(n.inputs[0]) ? emit('Transpose', [x], { perm: NCHW_TO_NHWC }) : x;
        const y = emit('Reshape', [src, constI('shape', [0, ...n.shape])]);
        outs = [n.shape.length === 3 ? emit('Transpose', [y], { perm: NHWC_TO_NCHW }) : y];
        break;
      }
      case 'globalAvgPool': {
        const y = emit('GlobalAveragePool', [x]);
        outs = [n.keepDims ? y : emit('Flatten', [y], { axis: 1 })];
        break;
      }
      case 'identity':
        outs = [emit('Identity', [x])];
        break;
      case 'custom':
        throw new Error(
          `exportOnnx: layer '${n.layerName}' (class '${n.className}') runs a custom function and has no ONNX equivalent`,
        );
    }
    n.outputs.forEach((v, k) => {
      if (outs[k]) names.set(v, outs[k]);
    });
  }

  const outputs = g.outputs.map((v, i) => {
    const src = names.get(v) as string;
    const out = onnxOutputName(i);
    emit(isMap(v) ? 'Transpose' : 'Identity', [src], isMap(v) ? { perm: NCHW_TO_NHWC } : undefined, out);
    return { name: out, dims: ['N', ...g.shapes[v]] as (number | string)[] };
  });
  return {
    name,
    nodes,
    initializers,
    inputs: [{ name: ONNX_INPUT_NAME, dims: ['N', ...g.shapes[g.input]] }],
    outputs,
  };
}
