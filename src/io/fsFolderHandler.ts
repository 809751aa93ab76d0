/**
 * NODE-ONLY: a `tf.io.IOHandler` that saves/loads a LayersModel to/from a local folder
 * (`model.json` + `weights.bin`) with `fs`, so no tfjs-node is needed. `fs` is required lazily
 * so that merely importing this module does not break a browser bundle.
 */
import * as tf from '@tensorflow/tfjs';
import { MODEL_JSON, WEIGHTS_BIN } from './modelFolder';
import { sanitizeLayersTopology } from './sanitizeTopology';
import { nodeRequire } from '../util/nodeRequire';

type Fs = typeof import('fs');
type Path = typeof import('path');

function nodeModules(): { fs: Fs; path: Path } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return { fs: nodeRequire('fs') as Fs, path: nodeRequire('path') as Path };
}

function toArrayBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/** An IOHandler writing / reading `<dir>/model.json` and its weight file(s). */
export function fsFolderHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const { fs, path } = nodeModules();
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fsFolderHandler: binary (graph) model topologies are not supported, only layers models');
      }
      fs.mkdirSync(dir, { recursive: true });
      const weights = toArrayBuffer(artifacts.weightData);
      const topology = JSON.parse(JSON.stringify(artifacts.modelTopology ?? null));
      sanitizeLayersTopology(topology);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: topology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: 'yolo-tfjs',
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      // weights first: a folder with model.json is taken as complete by `load`
      fs.writeFileSync(path.join(dir, WEIGHTS_BIN), new Uint8Array(weights));
      fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts),
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const { fs, path } = nodeModules();
      const jsonPath = path.join(dir, MODEL_JSON);
      if (!fs.existsSync(jsonPath)) throw new Error(`no ${MODEL_JSON} in ${dir}`);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      } catch (e) {
        throw new Error(`${jsonPath} is not valid JSON: ${(e as Error).message}`);
      }
      if (!modelJson.modelTopology) throw new Error(`${jsonPath} has no modelTopology (not a tfjs layers model)`);
      sanitizeLayersTopology(modelJson.modelTopology);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const file = path.join(dir, p);
            if (!fs.existsSync(file)) throw new Error(`weight file ${file} named in ${jsonPath} is missing`);
            const b = fs.readFileSync(file);
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        const data = tf.io.CompositeArrayBuffer.join(buffers);
        const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * bytesPer(w.dtype), 0);
        if (data.byteLength !== expected) {
          throw new Error(`weights in ${dir} have ${data.byteLength} bytes, model.json expects ${expected} (truncated file?)`);
        }
        return [specs, data];
      });
    },
  };
}

function bytesPer(dtype: string): number {
  return dtype === 'bool' ? 1 : 4; // float32 / int32 (no quantisation in our files)
}
