/**
 * Node-only: read a dataset in any supported format by name.
 */
import { ReadDatasetOptions, ReadDatasetResult } from './dataset';
import { readCocoDataset } from './readCocoDataset';
import { readVocDataset } from './readVocDataset';
import { readYoloDataset } from './readYoloDataset';

export type DatasetFormat = 'yolo' | 'voc' | 'coco';

export interface ReadDatasetByFormatOptions extends ReadDatasetOptions {
  /** VOC: ImageSets/Main/<split>.txt. */
  split?: string;
  /** COCO: the images folder. */
  imagesDir?: string;
  /** YOLO / VOC: class names (override the dataset's names file). */
  classNames?: string[];
}

/**
 * Reads `location` as a YOLO txt folder, a Pascal VOC folder or a COCO JSON file.
 */
export async function readDataset(location: string, format: DatasetFormat, opts: ReadDatasetByFormatOptions = {}): Promise<ReadDatasetResult> {
  switch (format) {
    case 'yolo':
      return readYoloDataset(location, opts);
    case 'voc':
      return readVocDataset(location, opts);
    case 'coco':
      return readCocoDataset(location, opts.imagesDir, opts);
    default:
      throw new Error(`unknown dataset format '${String(format)}' (expected yolo, voc or coco)`);
  }
}
