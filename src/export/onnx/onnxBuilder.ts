/**
 * The ONNX graph being written: nodes and initializers with fresh, numbered names, and the ONNX
 * name of every IR value (rank-4 values, IR shape length 3, are NCHW inside the graph).
 */
import type { IRGraph } from '../../infer/ir';
import { OnnxNode, OnnxTensor } from './onnxProto';

export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];

export class OnnxBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  /** IR value id -> ONNX name. */
  readonly names = new Map<number, string>();
  private counter = 0;

  constructor(readonly g: IRGraph) {}

  fresh(base: string): string {
    return `${base}_${this.counter++}`;
  }

  /** A float32 initializer; returns its name. */
  constF(base: string, dims: number[], data: Float32Array | number[]): string {
    const n = this.fresh(base);
    this.initializers.push({ name: n, dims, data: data instanceof Float32Array ? data : Float32Array.from(data) });
    return n;
  }

  /** An int64 initializer (a 1-D list, or a scalar); returns its name. */
  constI(base: string, data: number[], scalar = false): string {
    const n = this.fresh(base);
    this.initializers.push({ name: n, dims: scalar ? [] : [data.length], data: BigInt64Array.from(data.map((x) => BigInt(x))) });
    return n;
  }

  /** One node with one output (named `out`, or fresh); returns the output's name. */
  emit(opType: string, inputs: string[], attributes?: OnnxNode['attributes'], out?: string): string {
    const o = out ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, inputs, outputs: [o], name: this.fresh(`n_${opType}`), attributes });
    return o;
  }

  /** Whether IR value `v` is a feature map (NCHW in the graph). */
  isMap(v: number): boolean {
    return this.g.shapes[v].length === 3;
  }

  /** NHWC axis of value `v` -> its axis in the graph. */
  axisOf(v: number, axis: number): number {
    return this.isMap(v) ? [0, 2, 3, 1][axis] : axis;
  }

  /** The ONNX name of IR value `v` (written by an earlier node). */
  nameOf(v: number): string {
    const s = this.names.get(v);
    if (s === undefined) throw new Error(`exportOnnx: internal error, value ${v} has no ONNX name`);
    return s;
  }
}
