// Shared by the training tests: a tiny in-memory synthetic dataset (no files).
import * as tf from '@tensorflow/tfjs';
import { DetectionDataset, DatasetImage } from '../../src/train/data/dataset';
import { renderSyntheticImage, SYNTHETIC_CLASSES, SyntheticImage } from '../../src/train/syntheticDataset';

export function tinyDataset(n: number, seed = 1, size: [[number, number], [number, number]] = [[96, 80], [128, 112]]): {
  dataset: DetectionDataset;
  readImage: (im: DatasetImage) => Promise<tf.Tensor3D>;
} {
  const imgs: SyntheticImage[] = Array.from({ length: n }, (_, i) => renderSyntheticImage(seed * 1000 + i, { sizeRange: size, objects: [1, 2], objectScale: [0.3, 0.5] }));
  const dataset: DetectionDataset = {
    classNames: SYNTHETIC_CLASSES.slice(),
    images: imgs.map((im, i) => ({ id: i + 1, file: `mem:${i}`, width: im.width, height: im.height, boxes: im.objects.map((o) => ({ ...o })) })),
  };
  const readImage = async (im: DatasetImage): Promise<tf.Tensor3D> => {
    const s = imgs[im.id - 1];
    return tf.tensor3d(s.data, [s.height, s.width, 3], 'int32');
  };
  return { dataset, readImage };
}
