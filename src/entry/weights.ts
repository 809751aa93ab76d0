/**
 * `yolo-tfjs/weights`: weight files (Darknet cfg/.weights, PyTorch .pth, safetensors), the
 * families table with each family's key map and loader, and assigning / exporting state dicts.
 */
import '../layers'; // registers every custom layer

export { parseDarknetCfg } from '../weights/parseDarknetCfg';
export type { DarknetCfg } from '../weights/parseDarknetCfg';
export { readDarknetWeights, darknetWeightsFloatCount } from '../weights/readDarknetWeights';
export { readPytorchStateDict } from '../weights/readPytorchStateDict';
export type { ReadPytorchOptions } from '../weights/readPytorchStateDict';
export { readSafetensors } from '../weights/readSafetensors';
export { writeSafetensors } from '../weights/writeSafetensors';
export { writePytorchStateDict } from '../weights/writePytorchStateDict';
export { loadPytorch, PYTORCH_ARCHS } from '../models/loadPytorch';
export { FAMILIES, familyByName, familyOfSpec } from '../models/families';
export type { Family, FamilyParts, ClassLayer, StateDictLoadOptions } from '../models/families';
export type { LoadPytorchOptions } from '../models/loadPytorch';
export { assignStateDict, exportStateDict } from '../weights/assignStateDict';
export type { TensorMap, NamedTensor } from '../weights/tensorMap';


// Each family's loader and key map
export { loadDarknet } from '../models/darknet/loadDarknet';
export type { LoadDarknetOptions } from '../models/darknet/loadDarknet';
export { setDarknetWeights } from '../models/darknet/darknetCfg';
export { yoloFastestV2FromStateDict, exportYoloFastestV2StateDict } from '../models/yoloFastestV2/fromStateDict';
export { efficientDetFromStateDict } from '../models/efficientDet/fromStateDict';
export { efficientDetKeyTable } from '../models/efficientDet/keyMap';
export { rfsongFromStateDict } from '../models/rfsong/fromStateDict';
export { copyLayerWeights } from '../layers/copyLayerWeights';
