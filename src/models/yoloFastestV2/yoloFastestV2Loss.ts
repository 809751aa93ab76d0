/**
 * YOLO-FastestV2's training loss (dog-qiuqiu/Yolo-FastestV2 `utils/loss.py`): YOLOv5-style
 * anchor matching, CIoU box loss, objectness BCE, softmax cross-entropy for classes.
 */
import * as tf from '@tensorflow/tfjs';
import { bboxIou } from '../../loss/bboxIou';
import { bceWithLogits } from '../../loss/bceWithLogits';
import { checkAnchorLevels, checkGroundTruth, checkHeadChannels, checkHeadOutputs, checkNumClasses, GroundTruthBox, LossTerms } from '../../loss/types';

/** Options of {@link yoloFastestV2Loss}. */
export interface YoloFastestV2LossOptions {
  /** Network input `[height, width]` in pixels. */
  inputSize: [number, number];
  /** Anchors `[w, h]` in input pixels, per output scale (in output order), e.g. 3 per scale. */
  anchors: [number, number][][];
  numClasses: number;
  /** Anchor match threshold on max(r, 1/r) of the w/h ratios (upstream: 2). */
  anchorT?: number;
  /** Objectness weight of each scale (upstream: [1.0, 0.4]). */
  balance?: number[];
  /** Term weights (upstream: box 3.2, obj 64, cls 32). */
  weights?: { box: number; obj: number; cls: number };
}

/** The matches of one scale: parallel arrays, one entry per (target, anchor, cell). */
export interface YoloFastestV2ScaleTargets {
  image: number[];
  anchor: number[];
  gj: number[];
  gi: number[];
  /** Target box in grid units: x, y relative to the cell corner (gxy - gij), w, h. */
  box: [number, number, number, number][];
  /** The matched anchor in grid units. */
  anchorWH: [number, number][];
  classId: number[];
}

/**
 * upstream `build_target`: per scale, every (box, anchor) pair whose w/h ratios are within
 * `anchorT` matches, in the box's own cell and in the two neighbour cells nearest its centre
 * (left if the x fraction < 0.5, right if > 0.5, same for y; not on the grid border), cells
 * clamped to the grid. `grids[l]` = `[H, W]` of scale l.
 */
export function buildYoloFastestV2Targets(
  gt: GroundTruthBox[][], grids: [number, number][], opts: YoloFastestV2LossOptions,
): YoloFastestV2ScaleTargets[] {
  const [inH, inW] = opts.inputSize;
  const anchorT = opts.anchorT ?? 2;
  const g = 0.5;
  // upstream offsets: none, (+g, 0) [j], (0, +g) [k], (-g, 0) [l], (0, -g) [m]; gij = (gxy - off).long()
  const offsets: [number, number][] = [[0, 0], [g, 0], [0, g], [-g, 0], [0, -g]];
  return grids.map(([H, W], l) => {
    const stride = inW / W; // upstream: cfg width / feature width, for both axes
    const anchors = opts.anchors[l].map(([w, h]) => [w / stride, h / stride] as [number, number]);
    const t: YoloFastestV2ScaleTargets = { image: [], anchor: [], gj: [], gi: [], box: [], anchorWH: [], classId: [] };
    // Entries in upstream order: offset-major, then anchor, then target.
    const matches: { b: number; c: number; a: number; gx: number; gy: number; gw: number; gh: number }[] = [];
    anchors.forEach(([aw, ah], a) => {
      gt.forEach((boxes, b) => boxes.forEach((bx) => {
        const gx = ((bx.x1 + bx.x2) / 2 / inW) * W;
        const gy = ((bx.y1 + bx.y2) / 2 / inH) * H;
        const gw = ((bx.x2 - bx.x1) / inW) * W;
        const gh = ((bx.y2 - bx.y1) / inH) * H;
        const rw = gw / aw;
        const rh = gh / ah;
        if (Math.max(rw, 1 / rw, rh, 1 / rh) < anchorT) matches.push({ b, c: bx.classId, a, gx, gy, gw, gh });
      }));
    });
    offsets.forEach(([ox, oy], o) => {
      for (const m of matches) {
        const gxi = W - m.gx;
        const gyi = H - m.gy;
        const use = [
          true,
          m.gx % 1 < g && m.gx > 1,
          m.gy % 1 < g && m.gy > 1,
          gxi % 1 < g && gxi > 1,
          gyi % 1 < g && gyi > 1,
        ][o];
        if (!use) continue;
        // .long() truncates toward zero; then clamp_ in place (tbox uses the clamped cell).
        const gi = Math.min(W - 1, Math.max(0, Math.trunc(m.gx - ox)));
        const gj = Math.min(H - 1, Math.max(0, Math.trunc(m.gy - oy)));
        t.image.push(m.b);
        t.anchor.push(m.a);
        t.gj.push(gj);
        t.gi.push(gi);
        t.box.push([m.gx - gi, m.gy - gj, m.gw, m.gh]);
        t.anchorWH.push(anchors[m.a]);
        t.classId.push(m.c);
      }
    });
    return t;
  });
}

/**
 * YOLO-FastestV2's loss on raw head outputs. `outputs[l]`: NHWC `[N, H, W, 4A + A + C]` as our
 * model emits it (upstream order: A anchor-major boxes x, y, w, h, then A objectness logits,
 * then C class logits); `gt[b]`: boxes of image b in input pixels. For each scale:
 * - box: mean over matches of `1 - CIoU(pred, target)`, pred xy = `sigmoid*2 - 0.5`, wh =
 *   `(sigmoid*2)^2 * anchor` (grid units);
 * - obj: mean BCE over all `N*A*H*W` logits, target 1 at matched cells, times `balance[l]`;
 * - cls (when C > 1): softmax cross-entropy over the matches' class logits, mean, `/ C`.
 * Then `box*3.2`, `obj*64`, `cls*32` (summed over scales; no batch-size factor, as upstream).
 */
export function yoloFastestV2Loss(outputs: tf.Tensor[], gt: GroundTruthBox[][], opts: YoloFastestV2LossOptions): LossTerms {
  const who = 'yoloFastestV2Loss';
  const n = checkHeadOutputs(outputs, who);
  checkAnchorLevels(outputs, opts.anchors, who, 'scales');
  const C = opts.numClasses;
  checkNumClasses(C, who);
  checkHeadChannels(outputs, who, (l) => {
    const A = opts.anchors[l].length;
    return { count: 5 * A + C, formula: `4*${A} + ${A} + ${C}` };
  });
  checkGroundTruth(gt, n, C, who);
  const balance = opts.balance ?? [1.0, 0.4];
  const w = opts.weights ?? { box: 3.2, obj: 64, cls: 32 };
  const grids = outputs.map((o) => [o.shape[1], o.shape[2]] as [number, number]);
  const targets = buildYoloFastestV2Targets(gt, grids, opts);

  return tf.tidy(() => {
    let lbox: tf.Tensor = tf.scalar(0);
    let lobj: tf.Tensor = tf.scalar(0);
    let lcls: tf.Tensor = tf.scalar(0);
    outputs.forEach((out, l) => {
      const [, H, W] = out.shape;
      const A = opts.anchors[l].length;
      const t = targets[l];
      const nb = t.image.length;
      const reg = tf.slice(out, [0, 0, 0, 0], [-1, -1, -1, 4 * A]);
      const objLogits = tf.slice(out, [0, 0, 0, 4 * A], [-1, -1, -1, A]);
      const clsLogits = tf.slice(out, [0, 0, 0, 5 * A], [-1, -1, -1, C]);
      const tobj = new Float32Array(n * H * W * A);
      for (let e = 0; e < nb; e++) tobj[((t.image[e] * H + t.gj[e]) * W + t.gi[e]) * A + t.anchor[e]] = 1;
      const objL = tf.mean(bceWithLogits(tf.tensor4d(tobj, [n, H, W, A]), objLogits));
      lobj = tf.add(lobj, tf.mul(objL, balance[l] ?? 1));
      if (nb === 0) return;
      const cellIdx = t.image.map((b, e) => (b * H + t.gj[e]) * W + t.gi[e]);
      const ps = tf.gather(tf.reshape(reg, [n * H * W * A, 4]), tf.tensor1d(cellIdx.map((c, e) => c * A + t.anchor[e]), 'int32'));
      const s = tf.sigmoid(ps);
      const pxy = tf.sub(tf.mul(tf.slice(s, [0, 0], [-1, 2]), 2), 0.5);
      const pwh = tf.mul(tf.square(tf.mul(tf.slice(s, [0, 2], [-1, 2]), 2)), tf.tensor2d(t.anchorWH.flat(), [nb, 2]));
      const ciou = bboxIou(tf.concat([pxy, pwh], 1), tf.tensor2d(t.box.flat(), [nb, 4]), 'ciou');
      lbox = tf.add(lbox, tf.mean(tf.sub(1, ciou)));
      if (C > 1) {
        const pc = tf.gather(tf.reshape(clsLogits, [n * H * W, C]), tf.tensor1d(cellIdx, 'int32'));
        // wasm's OneHot is wrong for float32 output: build int32 and cast.
        const onehot = tf.cast(tf.oneHot(tf.tensor1d(t.classId, 'int32'), C), 'float32');
        const ce = tf.neg(tf.sum(tf.mul(tf.logSoftmax(pc), onehot), 1));
        lcls = tf.add(lcls, tf.div(tf.mean(ce), C));
      }
    });
    const box = tf.mul(lbox, w.box) as tf.Scalar;
    const obj = tf.mul(lobj, w.obj) as tf.Scalar;
    const cls = tf.mul(lcls, w.cls) as tf.Scalar;
    return { box, obj, cls, total: tf.addN([box, obj, cls]) as tf.Scalar };
  });
}
