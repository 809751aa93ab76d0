/**
 * The inference IR (BN already folded) as an ONNX graph, opset 13. Feature maps run NCHW inside
 * the graph; the model takes our NHWC input `[N, H, W, C]` (a Transpose first) and returns our
 * raw outputs in our layout (rank-4 outputs transposed back to NHWC), so its outputs equal
 * `Detector.predict` element for element.
 *
 * The phases: the input (NHWC -> NCHW), every node (`onnxNode`: conv in onnxConv.ts, max pool
 * in onnxMaxPool.ts, activations in onnxActivation.ts), the outputs (back to our layout); the
 * graph being written is an `OnnxBuilder`.
 */
import type { IRGraph, IRNode } from '../../infer/ir';
import { OnnxGraph } from './onnxProto';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, OnnxBuilder } from './onnxBuilder';
import { onnxNode } from './onnxNode';

/** Input / output names of exported graphs. */
export const ONNX_INPUT_NAME = 'input';
export const onnxOutputName = (i: number): string => `output${i}`;

/** Build the ONNX graph of an optimised IR graph. */
export function irToOnnx(g: IRGraph, name: string): OnnxGraph {
  const b = new OnnxBuilder(g);
  b.names.set(g.input, b.emit('Transpose', [ONNX_INPUT_NAME], { perm: NHWC_TO_NCHW }, 'input_nchw'));

  const producer = new Map<number, IRNode>();
  for (const n of g.nodes) for (const v of n.outputs) producer.set(v, n);
  for (const n of g.nodes) {
    const outs = onnxNode(b, n, producer);
    n.outputs.forEach((v, k) => {
      if (outs[k]) b.names.set(v, outs[k]);
    });
  }

  const outputs = g.outputs.map((v, i) => {
    const src = b.names.get(v) as string;
    const out = onnxOutputName(i);
    b.emit(b.isMap(v) ? 'Transpose' : 'Identity', [src], b.isMap(v) ? { perm: NCHW_TO_NHWC } : undefined, out);
    return { name: out, dims: ['N', ...g.shapes[v]] as (number | string)[] };
  });
  return {
    name,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [{ name: ONNX_INPUT_NAME, dims: ['N', ...g.shapes[g.input]] }],
    outputs,
  };
}
