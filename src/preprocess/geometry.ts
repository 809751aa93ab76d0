/**
 * Resize geometry and its exact inverse: where an image of `[imgH, imgW]` lands inside the
 * network input, and how a box in network pixels maps back to original pixels.
 */
import { InputSpec } from '../spec';

/** Placement of the resized image inside the network input. */
export interface ResizeGeometry {
  /** Size of the resized image content `[h, w]` (the whole input for a stretch). */
  contentSize: [number, number];
  /** Integer offset `[top, left]` where the content is pasted. */
  offset: [number, number];
  /** Offset `[top, left]` subtracted when mapping boxes back (Darknet uses the float half padding). */
  inverseOffset: [number, number];
  /** Original pixels per network pixel, `[y, x]`. */
  inverseScale: [number, number];
  /**
   * Ultralytics' `scale_coords` inverse (align `yolov5`): in float32, subtract the float
   * padding `[padY, padX]`, divide by `gain`, clip to the image `[height, width]`.
   */
  scaleCoords?: { gain: number; pad: [number, number]; clip: [number, number] };
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/** Ultralytics' `letterbox(img, new_shape, auto=False)` and its `scale_coords` inverse. */
function yolov5Geometry(netH: number, netW: number, imgH: number, imgW: number): ResizeGeometry {
  const r = Math.min(netH / imgH, netW / imgW);
  const newW = Math.max(1, roundHalfEven(imgW * r));
  const newH = Math.max(1, roundHalfEven(imgH * r));
  const dw = (netW - newW) / 2;
  const dh = (netH - newH) / 2;
  const top = roundHalfEven(dh - 0.1);
  const left = roundHalfEven(dw - 0.1);
  const pad: [number, number] = [(netH - imgH * r) / 2, (netW - imgW * r) / 2];
  return {
    contentSize: [newH, newW],
    offset: [top, left],
    inverseOffset: pad,
    inverseScale: [1 / r, 1 / r],
    scaleCoords: { gain: r, pad, clip: [imgH, imgW] },
  };
}

/** Compute the resize geometry of an `[imgH, imgW]` image for the given input spec. */
export function resizeGeometry(input: InputSpec, imageSize: [number, number]): ResizeGeometry {
  const [netH, netW] = input.size;
  const [imgH, imgW] = imageSize;
  if (!(imgH > 0 && imgW > 0)) throw new Error(`image size must be positive, got ${imgH}x${imgW}`);
  if (input.resize === 'stretch') {
    return {
      contentSize: [netH, netW],
      offset: [0, 0],
      inverseOffset: [0, 0],
      inverseScale: [imgH / netH, imgW / netW],
    };
  }
  const align = input.letterbox?.align ?? 'center';
  if (align === 'yolov5') return yolov5Geometry(netH, netW, imgH, imgW);
  let newW: number;
  let newH: number;
  if (align === 'top-left') {
    // EfficientDet's aspectaware_resize_padding: the longer side fills the input, the other is
    // int(side / old_long * old_short) in double precision.
    if (imgW > imgH) {
      newW = netW;
      newH = Math.trunc((netW / imgW) * imgH);
    } else {
      newH = netH;
      newW = Math.trunc((netH / imgH) * imgW);
    }
  } else if (Math.fround(netW / imgW) < Math.fround(netH / imgH)) {
    // Darknet's letterbox_image: C integer division.
    newW = netW;
    newH = Math.floor((imgH * netW) / imgW);
  } else {
    newH = netH;
    newW = Math.floor((imgW * netH) / imgH);
  }
  newW = Math.max(1, newW);
  newH = Math.max(1, newH);
  const offset: [number, number] =
    align === 'top-left' ? [0, 0] : [Math.floor((netH - newH) / 2), Math.floor((netW - newW) / 2)];
  const inverseOffset: [number, number] = align === 'darknet' ? [(netH - newH) / 2, (netW - newW) / 2] : offset;
  return {
    contentSize: [newH, newW],
    offset,
    inverseOffset,
    inverseScale: [imgH / newH, imgW / newW],
  };
}

/**
 * Map boxes `[x1, y1, x2, y2]` (flat, in network pixels) to original-image pixels in place.
 */
export function unmapBoxes(boxes: Float32Array | Float64Array | number[], g: ResizeGeometry): void {
  if (g.scaleCoords) {
    const f = Math.fround;
    const gain = f(g.scaleCoords.gain);
    const py = f(g.scaleCoords.pad[0]);
    const px = f(g.scaleCoords.pad[1]);
    const [h, w] = g.scaleCoords.clip;
    const clip = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
    for (let i = 0; i < boxes.length; i += 4) {
      boxes[i] = clip(f(f(boxes[i] - px) / gain), w);
      boxes[i + 1] = clip(f(f(boxes[i + 1] - py) / gain), h);
      boxes[i + 2] = clip(f(f(boxes[i + 2] - px) / gain), w);
      boxes[i + 3] = clip(f(f(boxes[i + 3] - py) / gain), h);
    }
    return;
  }
  const [oy, ox] = g.inverseOffset;
  const [sy, sx] = g.inverseScale;
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = (boxes[i] - ox) * sx;
    boxes[i + 1] = (boxes[i + 1] - oy) * sy;
    boxes[i + 2] = (boxes[i + 2] - ox) * sx;
    boxes[i + 3] = (boxes[i + 3] - oy) * sy;
  }
}
