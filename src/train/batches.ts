/**
 * Training batches streamed by an async generator: images are decoded lazily (one batch
 * ahead), augmented and stacked, so a dataset larger than memory trains. The order is
 * shuffled per epoch under the seed, and each sample's augmentation is seeded by
 * (seed, epoch, image index), so a run is reproducible.
 */
import * as tf from '@tensorflow/tfjs';
import { InputSpec } from '../spec';
import { loadImage } from '../image/loadImage';
import { DatasetImage, DetectionDataset } from './data/dataset';
import { AugmentOptions, TrainBox, augment, mosaic } from './augment';
import { ssdAugment } from './ssdAugment';
import { hashSeed, mulberry32, permutation } from '../util/random';

/** One batch: `[B, H, W, 3]` network inputs (the consumer disposes) and their boxes. */
export interface TrainBatch {
  images: tf.Tensor4D;
  /** Per image, the boxes in network-input pixels. */
  boxes: TrainBox[][];
  /** Indices into `dataset.images` (the first image of a mosaic). */
  indices: number[];
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
}

/** Options of {@link batches}. */
export interface BatchOptions {
  batchSize: number;
  /** Epoch number (mixes into shuffling and augmentation seeds). Default 0. */
  epoch?: number;
  /** Seed. Default 0. */
  seed?: number;
  /** Shuffle the order per epoch. Default true. */
  shuffle?: boolean;
  /** Augmentation (false or absent: resize only). */
  augment?: AugmentOptions | false;
  /** Drop a last incomplete batch. Default false. */
  dropLast?: boolean;
  /** Skip this many batches at the start of the epoch (resume). Default 0. */
  skipBatches?: number;
  /**
   * Decodes an image into RGB `[h, w, 3]` (0..255). Default: `loadImage(image.file)` (sharp
   * in Node). The result is disposed after use.
   */
  readImage?: (image: DatasetImage) => Promise<tf.Tensor3D>;
}

/** Number of batches `batches` yields for `n` images. */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The image order of an epoch (a seeded permutation, or 0..n-1 without shuffling). */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): number[] {
  return shuffle ? permutation(n, hashSeed(seed, epoch, 0x5eed)) : Array.from({ length: n }, (_, i) => i);
}

async function defaultReadImage(image: DatasetImage): Promise<tf.Tensor3D> {
  const loaded = await loadImage(image.file);
  return loaded.tensor;
}

interface PlannedSample {
  indices: number[];
  seed: number;
  mosaic: boolean;
}

/**
 * Stream the batches of one epoch. Images are decoded one batch ahead of the consumer (so
 * decoding overlaps the training step) and released as soon as they are augmented. The
 * consumer owns (and must dispose) each batch's `images` tensor.
 */
export async function* batches(dataset: DetectionDataset, input: InputSpec, opts: BatchOptions): AsyncGenerator<TrainBatch> {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
  const n = dataset.images.length;
  if (n === 0) throw new Error('batches: the dataset has no images');
  const epoch = opts.epoch ?? 0;
  const seed = opts.seed ?? 0;
  const aug = opts.augment || undefined;
  const readImage = opts.readImage ?? defaultReadImage;
  const order = epochOrder(n, seed, epoch, opts.shuffle ?? true);
  const nb = batchCount(n, batchSize, opts.dropLast);

  const plan = (b: number): PlannedSample[] =>
    order.slice(b * batchSize, Math.min(n, (b + 1) * batchSize)).map((idx) => {
      const s = hashSeed(seed, epoch, idx);
      const rng = mulberry32(hashSeed(s, 0x3a05));
      const useMosaic = !!aug && !aug.ssd && rng() < (aug.mosaic ?? 0);
      const indices = useMosaic ? [idx, ...[0, 1, 2].map(() => Math.floor(rng() * n))] : [idx];
      return { indices, seed: s, mosaic: useMosaic };
    });

  // Decoding is async (sharp works off the main thread); start batch b+1 before yielding b.
  const load = (samples: PlannedSample[]): Promise<tf.Tensor3D[][]> =>
    Promise.all(samples.map((s) => Promise.all(s.indices.map((i) => readImage(dataset.images[i])))));

  const start = Math.min(opts.skipBatches ?? 0, nb);
  let pending: Promise<tf.Tensor3D[][]> | null = start < nb ? load(plan(start)) : null;
  try {
    for (let b = start; b < nb; b++) {
      const samples = plan(b);
      const decoded = await (pending as Promise<tf.Tensor3D[][]>);
      pending = b + 1 < nb ? load(plan(b + 1)) : null;
      const parts: tf.Tensor3D[] = [];
      const boxes: TrainBox[][] = [];
      try {
        samples.forEach((s, k) => {
          const ims = decoded[k];
          const srcBoxes = s.indices.map((i) => dataset.images[i].boxes);
          const r = aug?.ssd
            ? ssdAugment(ims[0], srcBoxes[0], input, { ...(aug.ssd === true ? {} : aug.ssd), seed: s.seed })
            : s.mosaic
              ? mosaic(ims, srcBoxes, input, { ...aug, seed: s.seed })
              : augment(ims[0], srcBoxes[0], input, { ...(aug ?? {}), seed: s.seed });
          parts.push(r.image);
          boxes.push(r.boxes);
        });
        const images = tf.tidy(() => tf.stack(parts) as tf.Tensor4D);
        yield { images, boxes, indices: samples.map((s) => s.indices[0]), epoch, batch: b };
      } finally {
        tf.dispose(parts);
        for (const ims of decoded) tf.dispose(ims);
      }
    }
  } finally {
    // the consumer stopped early (or an error): release the batch decoded ahead
    if (pending) {
      const p = pending;
      pending = null;
      tf.dispose((await p.catch(() => [] as tf.Tensor3D[][])).flat());
    }
  }
}
