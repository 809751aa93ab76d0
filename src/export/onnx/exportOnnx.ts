/**
 * `exportOnnx(detector)`: the network as an ONNX model (opset 13) written by our own protobuf
 * encoder, from the same optimised IR the fast inference path runs (BatchNorm folded into the
 * conv weights). Input `input` `[N, H, W, 3]` NHWC float32, exactly what `Detector.predict`
 * takes; outputs `output0`, `output1`, ... are `predict`'s raw outputs in the same order and
 * layout (NHWC head maps, EfficientDet's `[N, K, 4]` / `[N, K, C]`).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../../detector';
import { inferenceGraph } from '../../infer/compileInference';
import { encodeOnnxModel } from './onnxProto';
import { irToOnnx } from './irToOnnx';

/** ONNX opset the exporter writes. */
export const ONNX_OPSET = 13;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Graph name (default: the spec's name or the model's name). */
  name?: string;
  /** producer_version written into the model (default '0'). */
  producerVersion?: string;
}

/** Serialise a Detector's (or a single-input LayersModel's) network to ONNX bytes. */
export function exportOnnx(source: Detector | tf.LayersModel, opts: ExportOnnxOptions = {}): Uint8Array {
  const model = source instanceof Detector ? source.model : source;
  const name = opts.name ?? (source instanceof Detector ? source.spec.name : model.name);
  const graph = inferenceGraph(model);
  return encodeOnnxModel({
    graph: irToOnnx(graph, name),
    opset: ONNX_OPSET,
    producerName: 'yolo-tfjs',
    producerVersion: opts.producerVersion ?? '0',
  });
}
