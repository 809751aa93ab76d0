/**
 * The Darknet family: any Darknet cfg (`loadDarknet`, `buildDarknetModel`), and the hand-written
 * tiny YOLOv3 and YOLOv4-tiny builders (keras-yolo3 layouts). Heads are `darknet` kind.
 */
import { Family } from '../family';
import { DARKNET_PARTS } from './parts';
import { darknetLoss } from './loss';
import { DARKNET_PRESETS } from './presets';

export const darknetFamily: Family = {
  name: 'darknet',
  description: 'any Darknet cfg + .weights (tiny YOLOv3, YOLOv4-tiny, Yolo-Fastest, ...)',
  matchesSpec: (spec) => spec.heads.every((h) => h.kind === 'darknet'),
  parts: DARKNET_PARTS,
  loss: darknetLoss,
  lossTakesAnchorOptions: true,
  presets: DARKNET_PRESETS,
};
