/** `yolo-tfjs/export`: ONNX export (our own protobuf writer, opset 13). */
import '../layers'; // registers every custom layer
export { exportOnnx, ONNX_OPSET, ONNX_INPUT_NAME, onnxOutputName } from '../export/onnx';
export type { ExportOnnxOptions } from '../export/onnx';
