/** A PyTorch weights file of either format (`.pth` zip or legacy, or `.safetensors`), told apart by its bytes. */
import { TensorMap } from './tensorMap';
import { readPytorchStateDict } from './readPytorchStateDict';
import { readSafetensors, looksLikeSafetensors } from './readSafetensors';

/** Read a `.pth` (zip or legacy) or `.safetensors` file into a TensorMap. */
export function readWeightsFile(buf: Uint8Array | ArrayBuffer): TensorMap {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  return looksLikeSafetensors(bytes) ? readSafetensors(bytes) : readPytorchStateDict(bytes);
}
