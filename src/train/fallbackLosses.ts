/**
 * Compact training losses for the three head kinds, used by `lossForSpec` until the reference
 * losses in `src/train/losses/` are wired in. Targets are built in JavaScript from the boxes
 * (network-input pixels); the loss itself is tf ops (differentiable, backend-agnostic).
 *
 * - `yoloFastestV2StyleLoss` (yolov5 heads): Yolo-FastestV2's `utils/loss.py`: YOLOv5 target
 *   building (anchor ratio < 4, the centre cell plus the two nearest neighbour cells), box term
 *   1 - CIoU (mean), objectness BCE against the detached CIoU (balance 1.0 / 0.4 per scale),
 *   class term on the shared per-cell logits (softmax cross-entropy, as the head is softmax);
 *   weights 3.2 / 64 / 32.
 * - `darknetYoloLoss` (darknet heads): keras-yolo3's `yolo_loss`: best-IoU anchor over all
 *   heads, BCE on xy, 0.5 squared error on raw wh scaled by 2 - w*h, objectness BCE with the
 *   ignore mask (best IoU > 0.5), class BCE; summed and divided by the batch size.
 * - `efficientDetFocalLoss` (anchor-deltas): zylo117's FocalLoss: IoU >= 0.5 positive, < 0.4
 *   negative, focal loss (alpha 0.25, gamma 2) / number of positives, smooth-L1 (beta 1/9) on
 *   (dy, dx, dh, dw) over positives, times 50.
 */
import * as tf from '@tensorflow/tfjs';
import { AnchorDeltasHeadSpec, DarknetHeadSpec, ModelSpec, Yolov5HeadSpec } from '../spec';
import { TrainBox } from './augment';
import { efficientDetAnchors } from '../models/efficientDetAnchors';

interface Terms {
  total: tf.Scalar;
  box: tf.Scalar;
  obj: tf.Scalar;
  cls: tf.Scalar;
}

const EPS = 1e-7;

/** A constant copy of `x` (read back, so the gradient tape does not reach its inputs). */
function detach<T extends tf.Tensor>(x: T): T {
  return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
}

/** The value of `x` with a zero gradient (tfjs has no stop_gradient op). */
function stopGradient<T extends tf.Tensor>(x: T): T {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const f = tf.customGrad(((a: tf.Tensor) => ({ value: tf.clone(a), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as any);
  return f(x) as T;
}

function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  // max(x, 0) - x * t + log(1 + exp(-|x|))
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/** CIoU of boxes given as (cx, cy, w, h) columns `[M, 4]`. */
function ciou(p: tf.Tensor2D, t: tf.Tensor2D): tf.Tensor1D {
  const [px, py, pw, ph] = tf.unstack(p, 1);
  const [tx, ty, tw, th] = tf.unstack(t, 1);
  const px1 = tf.sub(px, tf.div(pw, 2)), px2 = tf.add(px, tf.div(pw, 2));
  const py1 = tf.sub(py, tf.div(ph, 2)), py2 = tf.add(py, tf.div(ph, 2));
  const tx1 = tf.sub(tx, tf.div(tw, 2)), tx2 = tf.add(tx, tf.div(tw, 2));
  const ty1 = tf.sub(ty, tf.div(th, 2)), ty2 = tf.add(ty, tf.div(th, 2));
  const iw = tf.relu(tf.sub(tf.minimum(px2, tx2), tf.maximum(px1, tx1)));
  const ih = tf.relu(tf.sub(tf.minimum(py2, ty2), tf.maximum(py1, ty1)));
  const inter = tf.mul(iw, ih);
  const union = tf.sub(tf.add(tf.add(tf.mul(pw, ph), 1e-16), tf.mul(tw, th)), inter);
  const iou = tf.div(inter, union);
  const cw = tf.sub(tf.maximum(px2, tx2), tf.minimum(px1, tx1));
  const ch = tf.sub(tf.maximum(py2, ty2), tf.minimum(py1, ty1));
  const c2 = tf.add(tf.add(tf.square(cw), tf.square(ch)), 1e-16);
  const rho2 = tf.add(tf.square(tf.sub(tx, px)), tf.square(tf.sub(ty, py)));
  const v = tf.mul(4 / Math.PI ** 2, tf.square(tf.sub(tf.atan(tf.div(tw, th)), tf.atan(tf.div(pw, ph)))));
  const alpha = stopGradient(tf.div(v, tf.add(tf.sub(1 + EPS, iou), v)));
  return tf.sub(iou, tf.add(tf.div(rho2, c2), tf.mul(v, alpha))) as tf.Tensor1D;
}

/** YOLO-FastestV2's loss (see the file comment). */
export function yoloFastestV2StyleLoss(outputs: tf.Tensor[], boxes: TrainBox[][], spec: ModelSpec): Terms {
  const heads = spec.heads as Yolov5HeadSpec[];
  const balance = [1.0, 0.4, 0.4, 0.4];
  const nC = spec.classNames.length;
  let lbox: tf.Tensor = tf.scalar(0);
  let lobj: tf.Tensor = tf.scalar(0);
  let lcls: tf.Tensor = tf.scalar(0);
  heads.forEach((h, hi) => {
    const out = outputs[h.output];
    const [N, H, W, ch] = out.shape as number[];
    const A = h.anchors.length;
    if (ch !== 5 * A + nC) throw new Error(`yolov5 head ${hi}: ${ch} channels, expected 5*${A} + ${nC}`);
    const [sy, sx] = h.stride;
    // targets (grid units)
    const rowIdx: number[] = [];
    const cellIdx: number[] = [];
    const tbox: number[] = [];
    const anc: number[] = [];
    const tcls: number[] = [];
    boxes.forEach((list, b) => {
      for (const g of list) {
        const gx = (g.x1 + g.x2) / 2 / sx;
        const gy = (g.y1 + g.y2) / 2 / sy;
        const gw = (g.x2 - g.x1) / sx;
        const gh = (g.y2 - g.y1) / sy;
        for (let a = 0; a < A; a++) {
          const aw = h.anchors[a][0] / sx;
          const ah = h.anchors[a][1] / sy;
          const r = Math.max(gw / aw, aw / gw, gh / ah, ah / gh);
          if (!(r < 4)) continue;
          const offs: [number, number][] = [[0, 0]];
          const fx = gx % 1, fy = gy % 1;
          const ix = W - gx, iy = H - gy;
          if (fx < 0.5 && gx > 1) offs.push([0.5, 0]);
          if (fy < 0.5 && gy > 1) offs.push([0, 0.5]);
          if (ix % 1 < 0.5 && ix > 1) offs.push([-0.5, 0]);
          if (iy % 1 < 0.5 && iy > 1) offs.push([0, -0.5]);
          for (const [ox, oy] of offs) {
            const gi = Math.min(Math.max(Math.floor(gx - ox), 0), W - 1);
            const gj = Math.min(Math.max(Math.floor(gy - oy), 0), H - 1);
            const cell = (b * H + gj) * W + gi;
            cellIdx.push(cell);
            rowIdx.push(cell * A + a);
            tbox.push(gx - gi, gy - gj, gw, gh);
            anc.push(aw, ah);
            tcls.push(g.classId);
          }
        }
      }
    });
    const flat = tf.reshape(out, [N * H * W, ch]);
    const objLogits = tf.reshape(tf.slice(flat, [0, 4 * A], [-1, A]), [N * H * W * A]);
    let tobj: tf.Tensor = tf.zeros([N * H * W * A]);
    const M = rowIdx.length;
    if (M > 0) {
      const boxLogits = tf.reshape(tf.slice(flat, [0, 0], [-1, 4 * A]), [N * H * W * A, 4]);
      const ps = tf.gather(boxLogits, tf.tensor1d(rowIdx, 'int32'));
      const sig = tf.sigmoid(ps);
      const [sxy, swh] = tf.split(sig, [2, 2], 1);
      const pxy = tf.sub(tf.mul(sxy, 2), 0.5);
      const pwh = tf.mul(tf.square(tf.mul(swh, 2)), tf.tensor2d(anc, [M, 2]));
      const c = ciou(tf.concat([pxy, pwh], 1) as tf.Tensor2D, tf.tensor2d(tbox, [M, 4]));
      lbox = tf.add(lbox, tf.mean(tf.sub(1, c)));
      // objectness target: the CIoU clamped at 0, as constants (read back: no gradient flows);
      // on repeated positions the last assignment wins, as in upstream's indexed write
      const cv = c.dataSync();
      const t = new Float32Array(N * H * W * A);
      rowIdx.forEach((r, k) => { t[r] = Math.max(0, cv[k]); });
      tobj = tf.tensor1d(t);
      if (nC > 1) {
        const clsLogits = tf.gather(tf.slice(flat, [0, 5 * A], [-1, nC]), tf.tensor1d(cellIdx, 'int32'));
        const onehot = tf.oneHot(tf.tensor1d(tcls, 'int32'), nC);
        lcls = tf.add(lcls, tf.mean(tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(clsLogits)), 1))));
      }
    }
    lobj = tf.add(lobj, tf.mul(tf.mean(bceWithLogits(objLogits, tobj)), balance[hi] ?? 0.4));
  });
  const box = tf.mul(lbox, 3.2) as tf.Scalar;
  const obj = tf.mul(lobj, 64) as tf.Scalar;
  const cls = tf.mul(lcls, 32) as tf.Scalar;
  return { total: tf.addN([box, obj, cls]) as tf.Scalar, box, obj, cls };
}

function iouWH(w1: number, h1: number, w2: number, h2: number): number {
  const inter = Math.min(w1, w2) * Math.min(h1, h2);
  return inter / (w1 * h1 + w2 * h2 - inter);
}

/** keras-yolo3's `yolo_loss` (see the file comment). */
export function darknetYoloLoss(outputs: tf.Tensor[], boxes: TrainBox[][], spec: ModelSpec): Terms {
  const heads = spec.heads as DarknetHeadSpec[];
  if (heads.some((h) => h.newCoords)) throw new Error('darknetYoloLoss: new_coords heads are not supported');
  const [netH, netW] = spec.input.size;
  const nC = spec.classNames.length;
  const N = outputs[0].shape[0];
  const all = heads.flatMap((h, hi) => h.anchors.map((a, ai) => ({ hi, ai, w: a[0], h: a[1] })));
  const maxG = Math.max(1, ...boxes.map((l) => l.length));
  // gt boxes (normalised x1 y1 x2 y2) per image for the ignore mask, padded with zeros
  const gtFlat = new Float32Array(N * maxG * 4);
  boxes.forEach((l, b) => l.forEach((g, k) => gtFlat.set([g.x1 / netW, g.y1 / netH, g.x2 / netW, g.y2 / netH], (b * maxG + k) * 4)));
  let lxy: tf.Tensor = tf.scalar(0);
  let lwh: tf.Tensor = tf.scalar(0);
  let lobj: tf.Tensor = tf.scalar(0);
  let lcls: tf.Tensor = tf.scalar(0);
  heads.forEach((h, hi) => {
    const out = outputs[h.output];
    const [, H, W, ch] = out.shape as number[];
    const A = h.anchors.length;
    if (ch !== A * (5 + nC)) throw new Error(`darknet head ${hi}: ${ch} channels, expected ${A}*(5+${nC})`);
    const size = N * H * W * A;
    const mask = new Float32Array(size);
    const txy = new Float32Array(size * 2);
    const twh = new Float32Array(size * 2);
    const scale = new Float32Array(size);
    const tcls = new Float32Array(size * nC);
    const s = h.scaleXY;
    boxes.forEach((l, b) => {
      for (const g of l) {
        const bw = g.x2 - g.x1, bh = g.y2 - g.y1;
        let best = all[0], bi = -1;
        for (const a of all) {
          const v = iouWH(bw, bh, a.w, a.h);
          if (v > bi) { bi = v; best = a; }
        }
        if (best.hi !== hi) continue;
        const cx = ((g.x1 + g.x2) / 2 / netW) * W;
        const cy = ((g.y1 + g.y2) / 2 / netH) * H;
        const i = Math.min(W - 1, Math.floor(cx));
        const j = Math.min(H - 1, Math.floor(cy));
        const k = ((b * H + j) * W + i) * A + best.ai;
        mask[k] = 1;
        const fx = cx - i, fy = cy - j;
        txy[k * 2] = Math.min(1, Math.max(0, (fx + (s - 1) / 2) / s));
        txy[k * 2 + 1] = Math.min(1, Math.max(0, (fy + (s - 1) / 2) / s));
        twh[k * 2] = Math.log(bw / best.w);
        twh[k * 2 + 1] = Math.log(bh / best.h);
        scale[k] = 2 - (bw / netW) * (bh / netH);
        tcls.fill(0, k * nC, (k + 1) * nC);
        tcls[k * nC + g.classId] = 1;
      }
    });
    const raw = tf.reshape(out, [N, H, W, A, 5 + nC]);
    const [rxy, rwh, robj, rcls] = tf.split(raw, [2, 2, 1, nC], 4);
    const m = tf.tensor4d(mask, [N, H, W, A]).reshape([N, H, W, A, 1]);
    const sc = tf.tensor(scale, [N, H, W, A, 1]);
    lxy = tf.add(lxy, tf.sum(tf.mul(tf.mul(m, sc), bceWithLogits(rxy, tf.tensor(txy, [N, H, W, A, 2])))));
    lwh = tf.add(lwh, tf.sum(tf.mul(tf.mul(m, sc), tf.mul(0.5, tf.square(tf.sub(rwh, tf.tensor(twh, [N, H, W, A, 2])))))));
    lcls = tf.add(lcls, tf.sum(tf.mul(m, bceWithLogits(rcls, tf.tensor(tcls, [N, H, W, A, nC])))));
    // ignore mask: best IoU of each predicted box with any gt of its image > 0.5
    const rxyC = detach(rxy);
    const rwhC = detach(rwh);
    const ignore = tf.tidy(() => {
      const gx = tf.tile(tf.reshape(tf.range(0, W, 1), [1, 1, W, 1, 1]), [1, H, 1, 1, 1]);
      const gy = tf.tile(tf.reshape(tf.range(0, H, 1), [1, H, 1, 1, 1]), [1, 1, W, 1, 1]);
      const sxy = tf.sub(tf.mul(tf.sigmoid(rxyC), s), (s - 1) / 2);
      const [sx, sy] = tf.split(sxy, 2, 4);
      const pcx = tf.div(tf.add(sx, gx), W);
      const pcy = tf.div(tf.add(sy, gy), H);
      const anch = tf.tensor(h.anchors.flat(), [1, 1, 1, A, 2]);
      const pwh = tf.div(tf.mul(tf.exp(tf.clipByValue(rwhC, -10, 10)), anch), [netW, netH]);
      const [pw, ph] = tf.split(pwh, 2, 4);
      const p = tf.reshape(tf.concat([tf.sub(pcx, tf.div(pw, 2)), tf.sub(pcy, tf.div(ph, 2)), tf.add(pcx, tf.div(pw, 2)), tf.add(pcy, tf.div(ph, 2))], 4), [N, H * W * A, 1, 4]);
      const gt = tf.reshape(tf.tensor(gtFlat), [N, 1, maxG, 4]);
      const [a1, b1, a2, b2] = tf.split(p, 4, 3);
      const [c1, d1, c2, d2] = tf.split(gt, 4, 3);
      const iw = tf.relu(tf.sub(tf.minimum(a2, c2), tf.maximum(a1, c1)));
      const ih = tf.relu(tf.sub(tf.minimum(b2, d2), tf.maximum(b1, d1)));
      const inter = tf.mul(iw, ih);
      const ua = tf.sub(tf.add(tf.mul(tf.sub(a2, a1), tf.sub(b2, b1)), tf.mul(tf.sub(c2, c1), tf.sub(d2, d1))), inter);
      const best = tf.max(tf.div(inter, tf.maximum(ua, 1e-9)), [2, 3]);
      return tf.reshape(tf.cast(tf.lessEqual(best, 0.5), 'float32'), [N, H, W, A, 1]);
    });
    const objBce = bceWithLogits(robj, m);
    lobj = tf.add(lobj, tf.sum(tf.add(tf.mul(m, objBce), tf.mul(tf.mul(tf.sub(1, m), ignore), objBce))));
  });
  const box = tf.div(tf.add(lxy, lwh), N) as tf.Scalar;
  const obj = tf.div(lobj, N) as tf.Scalar;
  const cls = tf.div(lcls, N) as tf.Scalar;
  return { total: tf.addN([box, obj, cls]) as tf.Scalar, box, obj, cls };
}

const anchorCache = new Map<string, Float32Array>();

/** zylo117's FocalLoss (see the file comment). */
export function efficientDetFocalLoss(outputs: tf.Tensor[], boxes: TrainBox[][], spec: ModelSpec): Terms {
  const h = spec.heads[0] as AnchorDeltasHeadSpec;
  const reg = outputs[h.regressionOutput];
  const clsProb = outputs[h.classificationOutput];
  const [N, K, nC] = clsProb.shape as number[];
  const key = JSON.stringify([h.levels, h.anchorScale, h.scales, h.ratios, spec.input.size]);
  let anchors = anchorCache.get(key);
  if (!anchors) {
    anchors = efficientDetAnchors({ levels: h.levels, anchorScale: h.anchorScale, scales: h.scales, ratios: h.ratios, inputSize: spec.input.size });
    anchorCache.set(key, anchors);
  }
  if (anchors.length !== K * 4) throw new Error(`efficientDetFocalLoss: ${K} outputs but ${anchors.length / 4} anchors`);
  const clsT = new Float32Array(N * K * nC);
  const weight = new Float32Array(N * K); // 1 = counted in the class loss (not ignored)
  const pos = new Float32Array(N * K);
  const regT = new Float32Array(N * K * 4);
  const numPos: number[] = [];
  boxes.forEach((list, b) => {
    let np = 0;
    for (let k = 0; k < K; k++) {
      const ay1 = anchors![k * 4], ax1 = anchors![k * 4 + 1], ay2 = anchors![k * 4 + 2], ax2 = anchors![k * 4 + 3];
      let best = 0, bi = -1;
      list.forEach((g, gi) => {
        const iw = Math.min(ax2, g.x2) - Math.max(ax1, g.x1);
        const ih = Math.min(ay2, g.y2) - Math.max(ay1, g.y1);
        if (iw <= 0 || ih <= 0) return;
        const inter = iw * ih;
        const v = inter / Math.max((ax2 - ax1) * (ay2 - ay1) + (g.x2 - g.x1) * (g.y2 - g.y1) - inter, 1e-8);
        if (v > best) { best = v; bi = gi; }
      });
      const idx = b * K + k;
      if (best >= 0.5 && bi >= 0) {
        const g = list[bi];
        weight[idx] = 1;
        pos[idx] = 1;
        clsT[idx * nC + g.classId] = 1;
        const aw = ax2 - ax1, ah = ay2 - ay1;
        const gw = Math.max(g.x2 - g.x1, 1), gh = Math.max(g.y2 - g.y1, 1);
        regT.set([((g.y1 + g.y2) / 2 - (ay1 + ay2) / 2) / ah, ((g.x1 + g.x2) / 2 - (ax1 + ax2) / 2) / aw, Math.log(gh / ah), Math.log(gw / aw)], idx * 4);
        np++;
      } else if (best < 0.4) {
        weight[idx] = 1;
      }
    }
    numPos.push(np);
  });
  const p = tf.clipByValue(clsProb, 1e-4, 1 - 1e-4);
  const t = tf.tensor3d(clsT, [N, K, nC]);
  const alpha = tf.where(tf.equal(t, 1), tf.fill([N, K, nC], 0.25), tf.fill([N, K, nC], 0.75));
  const pt = tf.where(tf.equal(t, 1), tf.sub(1, p), p);
  const focal = tf.mul(tf.mul(alpha, tf.square(pt)), tf.neg(tf.add(tf.mul(t, tf.log(p)), tf.mul(tf.sub(1, t), tf.log(tf.sub(1, p))))));
  const perImageCls = tf.sum(tf.mul(focal, tf.tensor3d(weight, [N, K, 1])), [1, 2]);
  const cls = tf.mean(tf.div(perImageCls, tf.tensor1d(numPos.map((n) => Math.max(n, 1))))) as tf.Scalar;
  const diff = tf.abs(tf.sub(tf.tensor3d(regT, [N, K, 4]), reg));
  const beta = 1 / 9;
  const sl1 = tf.where(tf.lessEqual(detach(diff), beta), tf.div(tf.mul(0.5, tf.square(diff)), beta), tf.sub(diff, 0.5 * beta));
  const perImageReg = tf.div(tf.sum(tf.mul(sl1, tf.tensor3d(pos, [N, K, 1])), [1, 2]), tf.tensor1d(numPos.map((n) => Math.max(n * 4, 1))));
  const box = tf.mul(tf.mean(perImageReg), 50) as tf.Scalar;
  const obj = tf.scalar(0);
  return { total: tf.add(cls, box) as tf.Scalar, box, obj, cls };
}
