/**
 * Full disposal of a LayersModel whose layers are SHARED (applied more than once, like
 * Yolo-FastestV2's output convs used at both scales).
 *
 * tfjs counts one reference per `apply` call, and `LayersModel.dispose()` drops only one per
 * layer, so a layer applied twice keeps its weights alive after `model.dispose()`. This helper
 * disposes the model, then releases the remaining references of its layers.
 */
import * as tf from '@tensorflow/tfjs';

type RefCounted = { _refCount: number | null };

/** Dispose `model` and every weight of its layers, shared ones included. Idempotent per layer. */
export function disposeLayersModel(model: tf.LayersModel): void {
  const layers = model.layers.slice();
  model.dispose();
  for (const layer of layers) {
    // `_refCount` is tfjs-layers' (private) count of remaining uses; 0/null = already released.
    let guard = 0;
    while (((layer as unknown as RefCounted)._refCount ?? 0) > 0 && guard++ < 64) layer.dispose();
  }
}
