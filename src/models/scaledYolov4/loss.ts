/**
 * The training loss of the yolov4-large branch (`utils/general.py` compute_loss /
 * build_targets, hyperparameters of `data/hyp.scratch.yaml`):
 * - targets: YOLOv5's build_targets (a box matches every anchor whose w/h ratios are within
 *   `anchor_t` = 4, in its own cell and the two neighbour cells nearest its centre);
 * - box: mean of 1 - CIoU(pred, target), pred xy = 2s - 0.5, wh = (2s)^2 * anchor (grid units);
 * - objectness: BCE over every logit, target CIoU.detach().clamp(0) at matched cells (model.gr
 *   = 1), weighted per level by balance [4, 1, 0.4] (P3-P5), [4, 1, 0.4, 0.1] (P3-P6),
 *   [4, 1, 0.5, 0.4, 0.1] (P3-P7);
 * - classes: BCE of the matches' class logits against one-hot targets (when nc > 1);
 * - weights giou 0.05, obj 1.0 (x1.4 with 4+ levels), cls 0.5, each x 3 / levels, and x batch size.
 *
 * Also trains Darknet cfgs with `new_coords=1` (their head convs end in a logistic, so the
 * outputs are probabilities already): `activated` outputs, xy = s * scale_x_y - (scale_x_y - 1) / 2.
 */
import * as tf from '@tensorflow/tfjs';
import { bboxIou } from '../../loss/bboxIou';
import { bceWithLogits } from '../../loss/bceWithLogits';
import { noGrad } from '../../loss/noGrad';
import { buildYoloFastestV2Targets } from '../yoloFastestV2/yoloFastestV2Loss';
import { checkAnchorLevels, checkGroundTruth, checkHeadChannels, checkHeadOutputs, checkNumClasses, GroundTruthBox, LossTerms } from '../../loss/types';

/** Options of {@link scaledYoloLoss}. */
export interface ScaledYoloLossOptions {
  /** Network input `[height, width]`. */
  inputSize: [number, number];
  /** Anchors `[w, h]` (input pixels) per level, in output order. */
  anchors: [number, number][][];
  numClasses: number;
  /** Anchor match threshold on the w/h ratios (hyp `anchor_t`, 4). */
  anchorT?: number;
  /** Term weights (hyp giou 0.05, obj 1.0, cls 0.5). */
  weights?: { box: number; obj: number; cls: number };
  /**
   * true when the outputs are probabilities already (Darknet `new_coords=1` heads with a
   * logistic conv); default false (logits, as upstream's Detect).
   */
  activated?: boolean;
  /** Darknet `scale_x_y` per level for activated outputs (default 2: xy = 2s - 0.5). */
  scaleXY?: number[];
}

/** Objectness weight per level. */
function balanceFor(levels: number): number[] {
  if (levels === 3) return [4.0, 1.0, 0.4];
  if (levels === 5) return [4.0, 1.0, 0.5, 0.4, 0.1];
  return [4.0, 1.0, 0.4, 0.1];
}

/** BCE of probabilities (clamped away from 0 and 1) against targets, element-wise. */
function bceOfProbabilities(targets: tf.Tensor, p: tf.Tensor): tf.Tensor {
  const eps = 1e-7;
  const q = tf.clipByValue(p, eps, 1 - eps);
  return tf.neg(tf.add(tf.mul(targets, tf.log(q)), tf.mul(tf.sub(1, targets), tf.log(tf.sub(1, q)))));
}

/**
 * The loss on raw outputs `[N, H, W, A*(5+C)]` (anchor-major: x, y, w, h, obj, classes per
 * anchor) and ground-truth boxes in input pixels per image.
 */
export function scaledYoloLoss(outputs: tf.Tensor[], gt: GroundTruthBox[][], opts: ScaledYoloLossOptions): LossTerms {
  const who = 'scaledYoloLoss';
  const n = checkHeadOutputs(outputs, who);
  checkAnchorLevels(outputs, opts.anchors, who, 'levels');
  const C = opts.numClasses;
  checkNumClasses(C, who);
  checkHeadChannels(outputs, who, (l) => {
    const A = opts.anchors[l].length;
    return { count: A * (5 + C), formula: `${A} anchors x (5 + ${C})` };
  });
  checkGroundTruth(gt, n, C, who);
  const nl = outputs.length;
  const balance = balanceFor(nl);
  const w = opts.weights ?? { box: 0.05, obj: 1.0, cls: 0.5 };
  const grids = outputs.map((o) => [o.shape[1], o.shape[2]] as [number, number]);
  const targets = buildYoloFastestV2Targets(gt, grids, { inputSize: opts.inputSize, anchors: opts.anchors, numClasses: C, anchorT: opts.anchorT ?? 4 });
  const act = (x: tf.Tensor): tf.Tensor => (opts.activated ? x : tf.sigmoid(x));
  const bce = (t: tf.Tensor, x: tf.Tensor): tf.Tensor => (opts.activated ? bceOfProbabilities(t, x) : bceWithLogits(t, x));

  return tf.tidy(() => {
    let lbox: tf.Tensor = tf.scalar(0);
    let lobj: tf.Tensor = tf.scalar(0);
    let lcls: tf.Tensor = tf.scalar(0);
    outputs.forEach((out, l) => {
      const [, H, W] = out.shape;
      const A = opts.anchors[l].length;
      const t = targets[l];
      const nb = t.image.length;
      const rows = tf.reshape(out, [n * H * W * A, 5 + C]);
      const objLogits = tf.reshape(tf.slice(rows, [0, 4], [-1, 1]), [-1]);
      let tobj: tf.Tensor = tf.zeros([n * H * W * A]);
      if (nb > 0) {
        const index = t.image.map((b, e) => ((b * H + t.gj[e]) * W + t.gi[e]) * A + t.anchor[e]);
        const ps = tf.gather(rows, tf.tensor1d(index, 'int32'));
        const s = act(tf.slice(ps, [0, 0], [-1, 4]));
        const scale = opts.activated ? (opts.scaleXY?.[l] ?? 2) : 2;
        const pxy = tf.sub(tf.mul(tf.slice(s, [0, 0], [-1, 2]), scale), (scale - 1) / 2);
        const pwh = tf.mul(tf.square(tf.mul(tf.slice(s, [0, 2], [-1, 2]), 2)), tf.tensor2d(t.anchorWH.flat(), [nb, 2]));
        const ciou = bboxIou(tf.concat([pxy, pwh], 1), tf.tensor2d(t.box.flat(), [nb, 4]), 'ciou', { alphaEps: 1e-16 });
        lbox = tf.add(lbox, tf.mean(tf.sub(1, ciou)));
        // tobj[b, a, gj, gi] = ciou.detach().clamp(0): an indexed assignment, the last write wins.
        const last = new Map<number, number>();
        index.forEach((i, e) => last.set(i, e));
        const cells = [...last.keys()];
        const cellIdx = tf.tensor2d(cells, [cells.length, 1], 'int32');
        const pick = tf.tensor1d([...last.values()], 'int32');
        tobj = noGrad((c) => tf.scatterND(cellIdx, tf.gather(tf.relu(c), pick), [n * H * W * A]), ciou);
        if (C > 1) {
          // wasm's OneHot is wrong for float32 output: build int32 and cast.
          const onehot = tf.cast(tf.oneHot(tf.tensor1d(t.classId, 'int32'), C), 'float32');
          lcls = tf.add(lcls, tf.mean(bce(onehot, tf.slice(ps, [0, 5], [-1, C]))));
        }
      }
      lobj = tf.add(lobj, tf.mul(tf.mean(bce(tobj, objLogits)), balance[l] ?? 1));
    });
    const s = 3 / nl;
    const box = tf.mul(lbox, w.box * s * n) as tf.Scalar;
    const obj = tf.mul(lobj, w.obj * s * (nl >= 4 ? 1.4 : 1) * n) as tf.Scalar;
    const cls = tf.mul(lcls, w.cls * s * n) as tf.Scalar;
    return { box, obj, cls, total: tf.addN([box, obj, cls]) as tf.Scalar };
  });
}
