/**
 * ONNX protobuf messages (onnx.proto field numbers) as plain objects, encoded with
 * {@link ProtoWriter}: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto.
 */
import { ProtoWriter } from './protobufWriter';

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** An initializer: float32 or int64 data in C order. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export type OnnxAttributeValue = number | string | number[] | { float: number } | { floats: number[] };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, OnnxAttributeValue>;
}

/** A graph input/output: float tensor, dims as numbers or symbolic names. */
export interface OnnxValueInfo {
  name: string;
  dims: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  opset: number;
  producerName: string;
  producerVersion: string;
  /** Default 7 (ONNX 1.7+ readers, opset <= 13). */
  irVersion?: number;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function encodeAttribute(name: string, v: OnnxAttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof v === 'string') return w.bytes(4, new TextEncoder().encode(v)).int(20, ATTR_STRING);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`ONNX attribute '${name}': integer expected, got ${v} (use {float: x})`);
    return w.int(3, v).int(20, ATTR_INT);
  }
  if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    return w.int(20, ATTR_INTS);
  }
  if ('float' in v) return w.float(2, v.float).int(20, ATTR_FLOAT);
  for (const x of v.floats) w.float(7, x);
  return w.int(20, ATTR_FLOATS);
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(k, v));
  return w;
}

function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? ONNX_FLOAT : ONNX_INT64);
  w.string(8, t.name);
  // raw_data is little-endian; copy to be independent of the host's byte order.
  const raw = new Uint8Array(t.data.length * (t.data instanceof Float32Array ? 4 : 8));
  const dv = new DataView(raw.buffer);
  if (t.data instanceof Float32Array) t.data.forEach((x, i) => dv.setFloat32(i * 4, x, true));
  else t.data.forEach((x, i) => dv.setBigInt64(i * 8, x, true));
  return w.bytes(9, raw);
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, ONNX_FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

function encodeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const i of g.inputs) w.message(11, encodeValueInfo(i));
  for (const o of g.outputs) w.message(12, encodeValueInfo(o));
  return w;
}

/** Serialise a model to ONNX bytes. */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, m.irVersion ?? 7);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  w.message(7, encodeGraph(m.graph));
  w.message(8, new ProtoWriter().string(1, '').int(2, m.opset));
  return w.finish();
}
