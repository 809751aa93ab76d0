/**
 * Browser-compatible loading of a saved Detector folder served over HTTP(S):
 * `<url>/model.json` (+ its weight files) and `<url>/spec.json`.
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../detector';
import { MODEL_JSON, SPEC_JSON, validateSpec } from './modelFolder';
import { sanitizeLayersTopology } from './sanitizeTopology';
import '../layers'; // registers every custom layer for deserialisation

/**
 * Load a Detector from a URL. `url` is the folder (`https://host/models/yolo/`) or its
 * `model.json`; `spec.json` is fetched next to it.
 */
export async function loadDetectorFromUrl(url: string, init?: RequestInit): Promise<Detector> {
  const base = url.endsWith(MODEL_JSON) ? url.slice(0, -MODEL_JSON.length) : url.endsWith('/') ? url : `${url}/`;
  const specUrl = `${base}${SPEC_JSON}`;
  const res = await fetch(specUrl, init);
  if (!res.ok) throw new Error(`could not fetch ${specUrl}: HTTP ${res.status}`);
  let specJson: unknown;
  try {
    specJson = JSON.parse(await res.text());
  } catch (e) {
    throw new Error(`${specUrl} is not valid JSON: ${(e as Error).message}`);
  }
  const spec = validateSpec(specJson, specUrl);
  const http = tf.io.http(`${base}${MODEL_JSON}`, init ? { requestInit: init } : undefined);
  const handler: tf.io.IOHandler = {
    load: async () => {
      const artifacts = await http.load!();
      // Re-parse in this realm: tfjs-layers tests `instanceof Array`, which fails for arrays
      // created by a fetch living in another realm (e.g. Node's fetch seen from a jest VM).
      artifacts.modelTopology = JSON.parse(JSON.stringify(artifacts.modelTopology ?? null));
      sanitizeLayersTopology(artifacts.modelTopology);
      return artifacts;
    },
  };
  const model = await tf.loadLayersModel(handler);
  return new Detector(model, spec);
}
