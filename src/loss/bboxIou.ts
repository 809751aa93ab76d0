/**
 * IoU variants between boxes given as centre/size (`[..., 4]` = x, y, w, h).
 */
import * as tf from '@tensorflow/tfjs';
import { noGrad } from './noGrad';

export type IouKind = 'iou' | 'giou' | 'diou' | 'ciou';

/**
 * Element-wise (broadcasting) IoU of `box1` and `box2`, both `[..., 4]` as x, y, w, h, with the
 * GIoU / DIoU / CIoU extensions, following the YOLOv5-style `bbox_iou` that YOLO-FastestV2's
 * loss uses: the 1e-16 guards in the union, enclosing area and diagonal, and the CIoU
 * trade-off `alpha = v / (1 - iou + v + alphaEps)` treated as a constant (no gradient).
 * Returns `[...]`.
 */
export function bboxIou(box1: tf.Tensor, box2: tf.Tensor, kind: IouKind = 'iou', opts: { alphaEps?: number } = {}): tf.Tensor {
  return tf.tidy(() => {
    const eps = 1e-16;
    const [x1, y1, w1in, h1in] = tf.unstack(box1, -1);
    const [x2, y2, w2in, h2in] = tf.unstack(box2, -1);
    const b1x1 = tf.sub(x1, tf.div(w1in, 2));
    const b1x2 = tf.add(x1, tf.div(w1in, 2));
    const b1y1 = tf.sub(y1, tf.div(h1in, 2));
    const b1y2 = tf.add(y1, tf.div(h1in, 2));
    const b2x1 = tf.sub(x2, tf.div(w2in, 2));
    const b2x2 = tf.add(x2, tf.div(w2in, 2));
    const b2y1 = tf.sub(y2, tf.div(h2in, 2));
    const b2y2 = tf.add(y2, tf.div(h2in, 2));
    const iw = tf.relu(tf.sub(tf.minimum(b1x2, b2x2), tf.maximum(b1x1, b2x1)));
    const ih = tf.relu(tf.sub(tf.minimum(b1y2, b2y2), tf.maximum(b1y1, b2y1)));
    const inter = tf.mul(iw, ih);
    const w1 = tf.sub(b1x2, b1x1);
    const h1 = tf.sub(b1y2, b1y1);
    const w2 = tf.sub(b2x2, b2x1);
    const h2 = tf.sub(b2y2, b2y1);
    const union = tf.sub(tf.add(tf.add(tf.mul(w1, h1), eps), tf.mul(w2, h2)), inter);
    const iou = tf.div(inter, union);
    if (kind === 'iou') return iou;
    const cw = tf.sub(tf.maximum(b1x2, b2x2), tf.minimum(b1x1, b2x1));
    const ch = tf.sub(tf.maximum(b1y2, b2y2), tf.minimum(b1y1, b2y1));
    if (kind === 'giou') {
      const cArea = tf.add(tf.mul(cw, ch), eps);
      return tf.sub(iou, tf.div(tf.sub(cArea, union), cArea));
    }
    const c2 = tf.add(tf.add(tf.square(cw), tf.square(ch)), eps);
    const rho2 = tf.div(
      tf.add(tf.square(tf.sub(tf.add(b2x1, b2x2), tf.add(b1x1, b1x2))), tf.square(tf.sub(tf.add(b2y1, b2y2), tf.add(b1y1, b1y2)))),
      4,
    );
    const diou = tf.sub(iou, tf.div(rho2, c2));
    if (kind === 'diou') return diou;
    const v = tf.mul(4 / (Math.PI * Math.PI), tf.square(tf.sub(tf.atan(tf.div(w2, h2)), tf.atan(tf.div(w1, h1)))));
    // `alphaEps` (ScaledYOLOv4's 1e-16) keeps alpha finite when a prediction equals its target.
    const ae = opts.alphaEps ?? 0;
    const alpha = noGrad((vv, ii) => tf.div(vv, tf.add(tf.add(tf.sub(1, ii), vv), ae)), v, iou);
    return tf.sub(diou, tf.mul(v, alpha));
  });
}

/**
 * Plain IoU of every box in `a` `[B, M, 4]` with every box in `b` `[B, T, 4]` (x, y, w, h), as
 * keras-yolo3's `box_iou` (no epsilon): `[B, M, T]`.
 */
export function boxIouMatrix(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const a4 = tf.expandDims(a, 2); // [B, M, 1, 4]
    const b4 = tf.expandDims(b, 1); // [B, 1, T, 4]
    const aXY = tf.slice(a4, [0, 0, 0, 0], [-1, -1, -1, 2]);
    const aWH = tf.slice(a4, [0, 0, 0, 2], [-1, -1, -1, 2]);
    const bXY = tf.slice(b4, [0, 0, 0, 0], [-1, -1, -1, 2]);
    const bWH = tf.slice(b4, [0, 0, 0, 2], [-1, -1, -1, 2]);
    const aMin = tf.sub(aXY, tf.div(aWH, 2));
    const aMax = tf.add(aXY, tf.div(aWH, 2));
    const bMin = tf.sub(bXY, tf.div(bWH, 2));
    const bMax = tf.add(bXY, tf.div(bWH, 2));
    const iwh = tf.relu(tf.sub(tf.minimum(aMax, bMax), tf.maximum(aMin, bMin)));
    const [iw, ih] = tf.unstack(iwh, -1);
    const inter = tf.mul(iw, ih);
    const [aw, ah] = tf.unstack(aWH, -1);
    const [bw, bh] = tf.unstack(bWH, -1);
    return tf.div(inter, tf.sub(tf.add(tf.mul(aw, ah), tf.mul(bw, bh)), inter)) as tf.Tensor3D;
  });
}
