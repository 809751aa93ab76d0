/**
 * The wasm engine's plan of real architectures does not change by accident: every step (kernel,
 * parameter block with symbolic addresses, work split, cost, views read and written, layer),
 * the buffers, the constants (by digest) and the input / output views are serialised, and the
 * digest of that text is compared with test/engine/planGolden.json, written before the planner
 * was split into one emitter per op (src/engine/plan/). A deliberate change to the planner or a
 * kernel's parameter block regenerates the file: `UPDATE_PLAN_GOLDEN=1 npx jest test/engine/planGolden.test.ts`
 * (and says why in the commit). On a mismatch the serialisation is written to
 * `<tmp>/plan-<model>.jsonl` for a diff.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inferenceGraph } from '../../src/infer/compileInference';
import { planInference, View, ConstRef, InferencePlan } from '../../src/engine/planInference';
import { packConvWeights, packDepthwiseWeights } from '../../src/engine/kernelModule';
import { Detector } from '../../src/detector';
import { yoloV4Tiny } from '../../src/models/darknet/yoloV4Tiny';
import { yoloFastestV2 } from '../../src/models/yoloFastestV2/yoloFastestV2';
import { efficientDet } from '../../src/models/efficientDet/efficientDet';
import { randomizeWeights } from '../infer/randomWeights';

const GOLDEN = path.join(__dirname, 'planGolden.json');

const MODELS: Record<string, () => Detector> = {
  'yolov4-tiny-128': () => yoloV4Tiny({ inputSize: 128, numClasses: 3 }),
  'yolo-fastestv2-96': () => yoloFastestV2({ inputSize: 96 }),
  'efficientdet-d0-128': () => efficientDet({ phi: 0, inputSize: 128, numClasses: 3 }),
};

const digest = (data: string | Uint8Array): string => crypto.createHash('sha256').update(data).digest('hex');

/** One line per step, then buffers, constants and the input / outputs. */
export function serialisePlan(plan: InferencePlan): string[] {
  const constIndex = new Map<ConstRef, number>(plan.consts.map((c, i) => [c, i]));
  const addr = (v: View): number => v.storage * 2 ** 32 + v.offset * 4;
  const constAddr = (c: ConstRef): number => 2 ** 48 + (constIndex.get(c) ?? -1);
  const view = (v: View): string => `s${v.storage}+${v.offset} ${v.H}x${v.W}x${v.C}/${v.stride}`;
  const lines = plan.steps.map((s) =>
    JSON.stringify({
      kernel: s.kernel,
      layout: s.layout,
      params: s.params(addr, constAddr),
      total: s.total,
      grain: s.grain,
      cost: s.cost,
      reads: s.reads.map(view),
      writes: s.writes.map(view),
      layer: s.layer,
    }),
  );
  lines.push(JSON.stringify({ storages: plan.storages.map((s) => s.floats) }));
  lines.push(JSON.stringify({ consts: plan.consts.map((c) => `${c.data.length}:${digest(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength)).slice(0, 16)}`) }));
  lines.push(JSON.stringify({ input: view(plan.input), outputs: plan.outputs.map((o) => `${view(o.view)} [${o.shape}]`), zeroFloats: plan.zeroFloats }));
  return lines;
}

describe('wasm engine plans of real architectures (golden)', () => {
  const golden: Record<string, { steps: number; digest: string }> = fs.existsSync(GOLDEN) ? JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) : {};
  const update = process.env.UPDATE_PLAN_GOLDEN === '1';
  const now: Record<string, { steps: number; digest: string }> = {};

  afterAll(() => {
    if (update) fs.writeFileSync(GOLDEN, `${JSON.stringify(now, null, 2)}\n`);
  });

  for (const [name, build] of Object.entries(MODELS)) {
    it(`${name}: the same steps as the golden plan`, () => {
      const det = build();
      try {
        randomizeWeights(det.model, 3);
        const plan = planInference(inferenceGraph(det.model), { conv: packConvWeights, depthwise: packDepthwiseWeights });
        const lines = serialisePlan(plan);
        now[name] = { steps: plan.steps.length, digest: digest(lines.join('\n')) };
        if (update) return;
        if (!golden[name] || golden[name].digest !== now[name].digest) {
          fs.writeFileSync(path.join(os.tmpdir(), `plan-${name}.jsonl`), `${lines.join('\n')}\n`);
        }
        expect(now[name]).toEqual(golden[name]);
        expect(plan.steps.length).toBeGreaterThan(20); // a real network, not an empty plan
      } finally {
        det.dispose();
      }
    });
  }
});
