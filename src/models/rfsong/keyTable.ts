/**
 * The state-dict key table of RFSong: our layers carry upstream's module paths as names
 * (`base.conv4_3.branch0.1.conv`, `loc.0`, ...), so every conv / BN layer maps to the keys under
 * its own name. Derived from the built model, hence right for any class count.
 */
import * as tf from '@tensorflow/tfjs';
import { KeyTableEntry } from '../../weights/assignStateDict';
import { torchModuleKeys } from '../../weights/torchModuleKeys';
import { AtrousConv2D } from '../../layers/atrousConv2D';

/** Key table rows of every layer with weights of an RFSong model, in layer order. */
export function rfsongKeyTable(model: tf.LayersModel): KeyTableEntry[] {
  const rows: KeyTableEntry[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const cls = layer.getClassName();
    if (cls === 'Conv2D' || cls === AtrousConv2D.className) {
      const useBias = (layer.getConfig() as { useBias?: boolean }).useBias;
      rows.push(...torchModuleKeys(layer.name, useBias ? 'convBias' : 'conv'));
    } else if (cls === 'BatchNormalization') {
      rows.push(...torchModuleKeys(layer.name, 'bn'));
    } else {
      throw new Error(`rfsongKeyTable: layer '${layer.name}' (${cls}) has weights but no upstream key rule`);
    }
  }
  return rows;
}
