/**
 * The common currency of the weight readers: a name -> tensor data map. Readers
 * (`readDarknetWeights`, `readPytorchStateDict`, safetensors) produce it; declarative key maps
 * assign it to model layers, checking every shape.
 */

/** Element types a weights file can hold (float16 is widened to float32 on read). */
export type NamedTensorDtype = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'bool';

/** One named tensor: C-order data and its shape. int64 data is exposed as BigInt64Array. */
export interface NamedTensor {
  shape: number[];
  dtype: NamedTensorDtype;
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

/** Ordered map of tensor name -> tensor (insertion order = file order). */
export type TensorMap = Map<string, NamedTensor>;
