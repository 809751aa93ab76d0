/** ONNX export (our own protobuf writer, opset 13). */
export { exportOnnx, ONNX_OPSET } from './exportOnnx';
export type { ExportOnnxOptions } from './exportOnnx';
export { ONNX_INPUT_NAME, onnxOutputName } from './irToOnnx';
