/**
 * Grid/anchor decode of raw head outputs, written once for every model and driven by the spec's
 * head descriptions. Runs on tensors (inside one `tf.tidy`) and reads the result once.
 */
import * as tf from '@tensorflow/tfjs';
import { AnchorDeltasHeadSpec, DarknetHeadSpec, HeadSpec, ModelSpec, SsdHeadSpec, Yolov5HeadSpec } from '../spec';
import { generateAnchors } from './anchors';
import { cachedSsdPriors, ssdPriorCounts } from './ssdPriors';

/**
 * Decoded candidates of a batch: for every image the same K candidate boxes (all heads, in head
 * order, then cells row-major, then anchors), in network-input pixels, packed in one array that
 * was read from the backend in a single read.
 */
export interface DecodedOutputs {
  batch: number;
  /** Candidates per image. */
  count: number;
  numClasses: number;
  /**
   * Multi-label: each row is `x1, y1, x2, y2, score_0 .. score_{C-1}` (score = objectness x class
   * probability). Single-label: `x1, y1, x2, y2, bestScore, bestClass`.
   */
  multiLabel: boolean;
  /** Floats per row (4 + C, or 6). */
  stride: number;
  /** `[N, K, stride]` rows, C order. */
  rows: Float32Array;
}

/** Decode every head of `spec` from the raw outputs (NHWC, as `Detector.predict` returns them). */
export function decodeOutputs(spec: ModelSpec, raw: tf.Tensor[]): DecodedOutputs {
  const numClasses = spec.classNames.length;
  const batch = raw[0].shape[0];
  const packed = tf.tidy(() => {
    const boxes: tf.Tensor[] = [];
    const scores: tf.Tensor[] = [];
    for (const head of spec.heads) {
      const d = decodeHead(head, raw, spec, numClasses);
      boxes.push(d.boxes);
      scores.push(d.scores);
    }
    const b = boxes.length === 1 ? boxes[0] : tf.concat(boxes, 1);
    const s = scores.length === 1 ? scores[0] : tf.concat(scores, 1);
    if (spec.multiLabel) return tf.concat([b, s], -1);
    // Class ids are small integers: exact in float32, so one tensor (and one read) holds all.
    const best = tf.expandDims(tf.max(s, -1), -1);
    const cls = tf.expandDims(tf.cast(tf.argMax(s, -1), 'float32'), -1);
    return tf.concat([b, best, cls], -1);
  });
  try {
    return {
      batch,
      count: packed.shape[1] as number,
      numClasses,
      multiLabel: spec.multiLabel,
      stride: packed.shape[2] as number,
      rows: packed.dataSync() as Float32Array,
    };
  } finally {
    packed.dispose();
  }
}

interface HeadTensors {
  /** [N, K, 4] x1, y1, x2, y2 network px. */
  boxes: tf.Tensor;
  /** [N, K, C]. */
  scores: tf.Tensor;
}

function decodeHead(head: HeadSpec, raw: tf.Tensor[], spec: ModelSpec, numClasses: number): HeadTensors {
  switch (head.kind) {
    case 'darknet':
      return decodeDarknet(head, rawOutput(raw, head.output), spec, numClasses);
    case 'yolov5':
      return decodeYolov5(head, rawOutput(raw, head.output), numClasses);
    case 'anchor-deltas':
      return decodeAnchorDeltas(head, raw, spec, numClasses);
    case 'ssd':
      return decodeSsd(head, raw, spec, numClasses);
    default:
      throw new Error(`unknown head kind '${(head as { kind: string }).kind}'`);
  }
}

function rawOutput(raw: tf.Tensor[], index: number): tf.Tensor4D {
  const t = raw[index];
  if (!t) throw new Error(`raw output ${index} is missing (got ${raw.length} outputs)`);
  if (t.rank !== 4) throw new Error(`raw output ${index} must be NHWC rank 4, got shape [${t.shape.join(', ')}]`);
  return t as tf.Tensor4D;
}

/** Grid offsets `[1, H, W, 1]` for x (column) and y (row). */
function grids(h: number, w: number): { gx: tf.Tensor; gy: tf.Tensor } {
  return {
    gx: tf.reshape(tf.range(0, w, 1, 'float32'), [1, 1, w, 1]),
    gy: tf.reshape(tf.range(0, h, 1, 'float32'), [1, h, 1, 1]),
  };
}

/** Corner boxes `[N, H*W*A, 4]` from centre/size tensors of shape `[N, H, W, A]`. */
function cornerBoxes(cx: tf.Tensor, cy: tf.Tensor, w: tf.Tensor, h: tf.Tensor): tf.Tensor {
  const hw = tf.mul(w, 0.5);
  const hh = tf.mul(h, 0.5);
  const b = tf.stack([tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh)], -1);
  return tf.reshape(b, [b.shape[0], -1, 4]);
}

/** A head laid out per anchor as (x, y, w, h, obj, classes) must have A*(5+C) channels. */
function checkAnchorMajorChannels(output: unknown, ch: number, A: number, C: number): void {
  if (ch !== A * (5 + C)) {
    throw new Error(
      `class count mismatch: head output ${output} has ${ch} channels, expected ${A}*(5+${C}) = ${A * (5 + C)} ` +
        `for ${A} anchors and ${C} classes`,
    );
  }
}

function decodeDarknet(head: DarknetHeadSpec, t: tf.Tensor4D, spec: ModelSpec, C: number): HeadTensors {
  const [n, h, w, ch] = t.shape;
  const A = head.anchors.length;
  checkAnchorMajorChannels(head.output, ch, A, C);
  const [netH, netW] = spec.input.size;
  // Split a rank-3 view into x, y, w, h, objectness, classes: tfjs-wasm slices rank-5 tensors
  // on a slow generic path (~100x slower; hundreds of ms per frame in a browser page).
  const r = tf.reshape(t, [n, h * w * A, 5 + C]);
  const [rx, ry, rw, rh, tobj, tcls] = tf.split(r, [1, 1, 1, 1, 1, C], -1);
  const grid = (v: tf.Tensor): tf.Tensor => tf.reshape(v, [n, h, w, A]);
  const act = (v: tf.Tensor) => (head.newCoords ? v : tf.sigmoid(v));
  const s = Math.fround(head.scaleXY);
  const shift = (v: tf.Tensor): tf.Tensor => (s !== 1 ? tf.add(tf.mul(v, s), Math.fround(-0.5 * (s - 1))) : v);
  const x = grid(shift(act(rx)));
  const y = grid(shift(act(ry)));
  const { gx, gy } = grids(h, w);
  const cx = tf.mul(tf.add(x, gx), netW / w);
  const cy = tf.mul(tf.add(y, gy), netH / h);
  const anchors = tf.tensor2d(head.anchors, [A, 2]);
  const tw = grid(rw);
  const th = grid(rh);
  const [aw, ah] = tf.unstack(anchors, -1);
  let bw: tf.Tensor;
  let bh: tf.Tensor;
  if (head.newCoords) {
    bw = tf.mul(tf.square(tw), tf.mul(aw, 4));
    bh = tf.mul(tf.square(th), tf.mul(ah, 4));
  } else {
    bw = tf.mul(tf.exp(tw), aw);
    bh = tf.mul(tf.exp(th), ah);
  }
  const scores = tf.mul(act(tobj), act(tcls)); // [n, h*w*A, C]
  return { boxes: cornerBoxes(cx, cy, bw, bh), scores };
}

function decodeYolov5(head: Yolov5HeadSpec, t: tf.Tensor4D, C: number): HeadTensors {
  if (head.layout === 'anchor-major') return decodeYolov5AnchorMajor(head, t, C);
  const [n, h, w, ch] = t.shape;
  const A = head.anchors.length;
  if (ch !== 5 * A + C) {
    throw new Error(
      `class count mismatch: head output ${head.output} has ${ch} channels, expected 5*${A}+${C} = ${5 * A + C} ` +
        `for ${A} anchors and ${C} classes`,
    );
  }
  const [sy, sx] = head.stride;
  const [treg, tobj, tcls] = tf.split(t, [4 * A, A, C], -1);
  const reg = tf.sigmoid(tf.reshape(treg, [n, h, w, A, 4]));
  const [x, y, tw, th] = tf.unstack(reg, -1);
  const { gx, gy } = grids(h, w);
  const cx = tf.mul(tf.add(tf.sub(tf.mul(x, 2), 0.5), gx), sx);
  const cy = tf.mul(tf.add(tf.sub(tf.mul(y, 2), 0.5), gy), sy);
  const [aw, ah] = tf.unstack(tf.tensor2d(head.anchors, [A, 2]), -1);
  const bw = tf.mul(tf.square(tf.mul(tw, 2)), aw);
  const bh = tf.mul(tf.square(tf.mul(th, 2)), ah);
  const obj = tf.expandDims(tf.sigmoid(tobj), -1); // [N, H, W, A, 1]
  const cls = tf.expandDims(head.classActivation === 'softmax' ? tf.softmax(tcls) : tf.sigmoid(tcls), 3); // [N,H,W,1,C]
  const scores = tf.mul(obj, cls);
  return { boxes: cornerBoxes(cx, cy, bw, bh), scores: tf.reshape(scores, [n, h * w * A, C]) };
}

/**
 * The `anchor-major` YOLOv5 layout (upstream `Detect`): every channel through a sigmoid, then
 * xy = ((2s - 0.5) + grid) * stride, wh = (2s)^2 * anchor, in upstream's float32 order.
 */
function decodeYolov5AnchorMajor(head: Yolov5HeadSpec, t: tf.Tensor4D, C: number): HeadTensors {
  const [n, h, w, ch] = t.shape;
  const A = head.anchors.length;
  checkAnchorMajorChannels(head.output, ch, A, C);
  if (head.classActivation !== 'sigmoid') throw new Error('the anchor-major yolov5 layout takes sigmoid classes only');
  const [sy, sx] = head.stride;
  // Rows (cell-major, then anchor) of rank 3: rank-5 slices are very slow on the wasm backend.
  const K = h * w * A;
  const y = tf.sigmoid(tf.reshape(t, [n, K, 5 + C]));
  const col = (c: number, size = 1): tf.Tensor => tf.slice(y, [0, 0, c], [-1, -1, size]);
  const gx = new Float32Array(K);
  const gy = new Float32Array(K);
  const aw = new Float32Array(K);
  const ah = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    const a = k % A;
    const cell = (k - a) / A;
    gx[k] = cell % w;
    gy[k] = (cell - (cell % w)) / w;
    aw[k] = head.anchors[a][0];
    ah[k] = head.anchors[a][1];
  }
  const shape: [number, number, number] = [1, K, 1];
  const cx = tf.mul(tf.add(tf.sub(tf.mul(col(0), 2), 0.5), tf.tensor3d(gx, shape)), sx);
  const cy = tf.mul(tf.add(tf.sub(tf.mul(col(1), 2), 0.5), tf.tensor3d(gy, shape)), sy);
  const bw = tf.mul(tf.square(tf.mul(col(2), 2)), tf.tensor3d(aw, shape));
  const bh = tf.mul(tf.square(tf.mul(col(3), 2)), tf.tensor3d(ah, shape));
  const hw = tf.mul(bw, 0.5);
  const hh = tf.mul(bh, 0.5);
  const boxes = tf.concat([tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh)], -1);
  return { boxes, scores: tf.mul(col(4), col(5, C)) };
}

const anchorCache = new Map<string, Float32Array>();

function cachedAnchors(head: AnchorDeltasHeadSpec, size: [number, number]): Float32Array {
  const key = JSON.stringify([head.levels, head.anchorScale, head.scales, head.ratios, size]);
  let a = anchorCache.get(key);
  if (!a) {
    a = generateAnchors(head, size);
    if (anchorCache.size > 16) anchorCache.clear();
    anchorCache.set(key, a);
  }
  return a;
}

function decodeAnchorDeltas(head: AnchorDeltasHeadSpec, raw: tf.Tensor[], spec: ModelSpec, C: number): HeadTensors {
  const reg = raw[head.regressionOutput];
  const cls = raw[head.classificationOutput];
  if (!reg || !cls) throw new Error(`anchor-deltas head needs outputs ${head.regressionOutput} and ${head.classificationOutput}`);
  const anchors = cachedAnchors(head, spec.input.size);
  const K = anchors.length / 4;
  if (reg.rank !== 3 || reg.shape[1] !== K || reg.shape[2] !== 4) {
    throw new Error(`regression output must be [N, ${K}, 4], got [${reg.shape.join(', ')}]`);
  }
  if (cls.rank !== 3 || cls.shape[1] !== K || cls.shape[2] !== C) {
    throw new Error(
      `class count mismatch: classification output must be [N, ${K}, ${C}], got [${cls.shape.join(', ')}]`,
    );
  }
  const [netH, netW] = spec.input.size;
  const [ay1, ax1, ay2, ax2] = tf.unstack(tf.tensor2d(anchors, [K, 4]), -1);
  const yca = tf.div(tf.add(ay1, ay2), 2);
  const xca = tf.div(tf.add(ax1, ax2), 2);
  const ha = tf.sub(ay2, ay1);
  const wa = tf.sub(ax2, ax1);
  const [dy, dx, dh, dw] = tf.unstack(reg, -1);
  const w = tf.mul(tf.exp(dw), wa);
  const h = tf.mul(tf.exp(dh), ha);
  const yc = tf.add(tf.mul(dy, ha), yca);
  const xc = tf.add(tf.mul(dx, wa), xca);
  let x1 = tf.sub(xc, tf.div(w, 2));
  let y1 = tf.sub(yc, tf.div(h, 2));
  let x2 = tf.add(xc, tf.div(w, 2));
  let y2 = tf.add(yc, tf.div(h, 2));
  if (head.clip) {
    // Upstream ClipBoxes: lower bound 0 on x1/y1, upper bound (size - 1) on x2/y2 only.
    x1 = tf.maximum(x1, 0);
    y1 = tf.maximum(y1, 0);
    x2 = tf.minimum(x2, netW - 1);
    y2 = tf.minimum(y2, netH - 1);
  }
  return { boxes: tf.stack([x1, y1, x2, y2], -1), scores: cls };
}

/**
 * The loc and conf outputs of an SSD head, flattened in prior order: `loc [N, P, 4]` and
 * `conf [N, P, C+1]` (logits). Each map's NHWC `[N, H, W, A*k]` reshapes straight to
 * `[N, H*W*A, k]`, which is upstream's permute(0, 2, 3, 1) + view order.
 */
export function ssdFlatOutputs(head: SsdHeadSpec, raw: tf.Tensor[], numClasses: number): { loc: tf.Tensor3D; conf: tf.Tensor3D } {
  const p = head.priors;
  const maps = p.featureMaps.length;
  if (head.locOutputs.length !== maps || head.confOutputs.length !== maps) {
    throw new Error(`ssd head: ${head.locOutputs.length} loc and ${head.confOutputs.length} conf outputs for ${maps} feature maps`);
  }
  const counts = ssdPriorCounts(p);
  const K = numClasses + 1;
  const locs: tf.Tensor[] = [];
  const confs: tf.Tensor[] = [];
  p.featureMaps.forEach((f, k) => {
    const A = p.shapes[k].length;
    const l = rawOutput(raw, head.locOutputs[k]);
    const c = rawOutput(raw, head.confOutputs[k]);
    if (l.shape[1] !== f || l.shape[2] !== f || l.shape[3] !== A * 4) {
      throw new Error(`ssd head: loc output ${head.locOutputs[k]} must be [N, ${f}, ${f}, ${A * 4}], got [${l.shape.join(', ')}]`);
    }
    if (c.shape[1] !== f || c.shape[2] !== f || c.shape[3] !== A * K) {
      throw new Error(
        `class count mismatch: conf output ${head.confOutputs[k]} must be [N, ${f}, ${f}, ${A * K}] ` +
          `(${A} anchors x (${numClasses} classes + background)), got [${c.shape.join(', ')}]`,
      );
    }
    locs.push(tf.reshape(l, [l.shape[0], counts[k], 4]));
    confs.push(tf.reshape(c, [c.shape[0], counts[k], K]));
  });
  return {
    loc: (locs.length === 1 ? locs[0] : tf.concat(locs, 1)) as tf.Tensor3D,
    conf: (confs.length === 1 ? confs[0] : tf.concat(confs, 1)) as tf.Tensor3D,
  };
}

function decodeSsd(head: SsdHeadSpec, raw: tf.Tensor[], spec: ModelSpec, C: number): HeadTensors {
  const { loc, conf } = ssdFlatOutputs(head, raw, C);
  const P = loc.shape[1];
  const priors = tf.tensor2d(cachedSsdPriors(head.priors), [P, 4]);
  const [pcx, pcy, pw, ph] = tf.unstack(priors, -1);
  const [dx, dy, dw, dh] = tf.unstack(loc, -1);
  const [v0, v1] = head.variances;
  // utils/box_utils.py::decode, in float32 and in its order: x2 = x1 + w from the shifted x1.
  const cx = tf.add(pcx, tf.mul(tf.mul(dx, v0), pw));
  const cy = tf.add(pcy, tf.mul(tf.mul(dy, v0), ph));
  const w = tf.mul(pw, tf.exp(tf.mul(dw, v1)));
  const h = tf.mul(ph, tf.exp(tf.mul(dh, v1)));
  const x1 = tf.sub(cx, tf.div(w, 2));
  const y1 = tf.sub(cy, tf.div(h, 2));
  const x2 = tf.add(x1, w);
  const y2 = tf.add(y1, h);
  const [netH, netW] = spec.input.size;
  const boxes = tf.mul(tf.stack([x1, y1, x2, y2], -1), tf.tensor1d([netW, netH, netW, netH]));
  const probs = tf.softmax(conf);
  const bg = head.backgroundClass;
  if (!(Number.isInteger(bg) && bg >= 0 && bg <= C)) throw new Error(`ssd head: backgroundClass ${bg} is not a channel of ${C + 1}`);
  const parts: tf.Tensor[] = [];
  if (bg > 0) parts.push(tf.slice(probs, [0, 0, 0], [-1, -1, bg]));
  if (bg < C) parts.push(tf.slice(probs, [0, 0, bg + 1], [-1, -1, C - bg]));
  const scores = parts.length === 1 ? parts[0] : tf.concat(parts, -1);
  return { boxes, scores };
}
