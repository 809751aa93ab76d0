/** A PyTorch weights file of either format (`.pth` zip or legacy, or `.safetensors`), told apart by its bytes. */
import { TensorMap } from './tensorMap';
import { readPytorchStateDict, ReadPytorchOptions } from './readPytorchStateDict';
import { readSafetensors, looksLikeSafetensors } from './readSafetensors';

/** Read a `.pth` (zip or legacy) or `.safetensors` file into a TensorMap, with the readers' integrity and budget options. */
export function readWeightsFile(buf: Uint8Array | ArrayBuffer, read: ReadPytorchOptions = {}): TensorMap {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  return looksLikeSafetensors(bytes) ? readSafetensors(bytes, read) : readPytorchStateDict(bytes, read);
}
