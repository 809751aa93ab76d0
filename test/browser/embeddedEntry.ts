/**
 * The browser side of test/browser/embeddedModel.test.ts: bundled by esbuild for the browser
 * platform from the public API (src/index.ts). `window.__yoloEmbedded()` loads the embedded
 * model with `load()` (no name: nothing to fetch), detects objects in the RGBA pixels the test
 * serves, and returns the detections as plain data (or the error).
 */
import { load, setBackend } from '../../src/index';
import type { Detection, InferenceInfo } from '../../src/index';

/** What `window.__yoloEmbedded(size)` returns. */
export interface EmbeddedReport {
  name?: string;
  classes?: number;
  detections?: Detection[];
  /** The same image with `classes: ['dog']`. */
  dogsOnly?: Detection[];
  info?: InferenceInfo;
  error?: string;
}

(globalThis as unknown as { __yoloEmbedded: (size: { width: number; height: number }) => Promise<EmbeddedReport> }).__yoloEmbedded = async ({ width, height }) => {
  const out: EmbeddedReport = {};
  try {
    await setBackend('cpu');
    const rgba = new Uint8ClampedArray(await (await fetch('/dog.rgba')).arrayBuffer());
    const det = await load();
    try {
      out.name = det.spec.name;
      out.classes = det.spec.classNames.length;
      const image = { data: rgba, width, height };
      out.detections = await det.detect(image);
      out.dogsOnly = await det.detect(image, { classes: ['dog'] });
      out.info = det.inferenceInfo();
    } finally {
      det.dispose();
    }
  } catch (e) {
    out.error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  }
  return out;
};
