/**
 * Profile of one training step on the tfjs path (issue 15): kernel times per phase (forward,
 * loss, backward, optimizer, EMA), per op kind and per layer, from `tf.profile`.
 *
 *   node -r ts-node/register/transpile-only bench/profileTrainStep.ts <model substring>
 *        [--batch N] [--threads N] [--backend wasm|cpu] [--top N] [--json <file>]
 *
 * e.g. `bench/profileTrainStep.ts fastestv2 --threads 2`. The model is an entry of
 * bench/models.ts (random weights unless its entry loads a fixture); the batch defaults to the
 * one of bench/trainConfigs.ts. One step (and an EMA update) runs unprofiled first, then one
 * profiled step that does what `trainStep` + `WeightEma.update` do, phase by phase.
 *
 * How kernels are attributed:
 * - phase: the code that ran them (model.apply = forward, the loss, the gradient pass after the
 *   loss returned = backward, applyGradients + weight decay = optimizer, WeightEma.update = ema);
 * - layer: forward kernels to the (leaf) Keras layer whose call ran them; backward kernels to the
 *   layer whose forward op they differentiate (through the autodiff tape); other backward work
 *   (gradient accumulation) to `(accumulate)`, loss kernels to `(loss)`;
 * - op kind: kernel name. Composite kernels (our wasm gradient kernels of
 *   src/train/wasmGradients.ts, made of other kernels) are counted by SELF time (their time
 *   minus their inner kernels'), so times add up; the table also shows their inclusive time.
 * Profiling adds overhead per kernel and the machine may be busy: read shares, not absolutes.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { MODELS } from './models';
import { TRAIN_CONFIGS } from './trainConfigs';
import { setBackend, backendInfo } from '../src/backend';
import { Detector } from '../src/detector';
import { registerTrainingKernelsForBackend } from '../src/train/wasmGradients';
import { syntheticTrainBoxes } from '../src/train/timeTrainSteps';
import { lossForSpec } from '../src/train/lossForSpec';
import { modelVariables, WeightEma } from '../src/train/ema';
import { trainStep } from '../src/train/trainStep';

const PHASES = ['forward', 'loss', 'backward', 'optimizer', 'ema'] as const;
type Phase = (typeof PHASES)[number];

/** One profiled kernel call with its attribution. */
interface KernelRecord {
  name: string;
  phase: Phase;
  layer: string;
  /** Nesting depth: 0 for kernels called by ops, >0 inside a composite kernel. */
  depth: number;
  /** Kernel time including inner kernels. */
  ms: number;
  /** Own time: `ms` minus the inner kernels' `ms`. */
  selfMs: number;
  outputShapes: number[][];
}

interface ProfileEntry {
  name: string;
  kernelTimeMs: number | Promise<number> | { error: string };
  outputShapes: number[][];
  __tag?: { phase: Phase; layer: string; depth: number; children: number[] };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  const walk = (l: tf.layers.Layer): void => {
    const inner = (l as unknown as { layers?: tf.layers.Layer[] }).layers;
    if (Array.isArray(inner) && inner.length) inner.forEach(walk);
    else out.push(l);
  };
  model.layers.forEach(walk);
  return out;
}

async function main(): Promise<void> {
  const filter = process.argv[2];
  if (!filter || filter.startsWith('--')) throw new Error('usage: profileTrainStep.ts <model substring> [--batch N] [--threads N] [--top N] [--json file]');
  const entry = MODELS.find((m) => m.name.toLowerCase().includes(filter.toLowerCase()));
  if (!entry) throw new Error(`no bench model matches '${filter}' (${MODELS.map((m) => m.name).join(', ')})`);
  const cfg = TRAIN_CONFIGS.find((c) => c.model === entry.name);
  const batch = Number(arg('batch') ?? cfg?.batch ?? 8);
  const threads = Number(arg('threads') ?? 2);
  const top = Number(arg('top') ?? 15);
  await setBackend(arg('backend') ?? 'wasm', { threads });
  tf.enableProdMode();
  registerTrainingKernelsForBackend();
  const detector = (await entry.build()) as Detector;
  const model = detector.model;
  const [h, w] = detector.spec.input.size;
  const images = tf.randomUniform([batch, h, w, 3], 0, 1, 'float32', 0) as tf.Tensor4D;
  const boxes = syntheticTrainBoxes(batch, [h, w], detector.spec.classNames.length, 0);
  const loss = lossForSpec(detector.spec);
  const vars = modelVariables(model, true);
  const lr = 1e-4;
  const optimizer = tf.train.adam(lr, 0.9);
  const ema = new WeightEma(model);
  const KERNEL_NAME = /(^|\/)(kernel|depthwise_kernel|pointwise_kernel)(_\d+)?$/;

  // Unprofiled warm-up step (optimizer slots, kernel setup).
  let t0 = performance.now();
  trainStep(detector, images, boxes, loss, optimizer, vars, lr, 5e-4);
  ema.update();
  const warmMs = performance.now() - t0;

  // --- attribution hooks -------------------------------------------------------------------
  const engine = tf.engine() as unknown as {
    state: { activeProfile: { kernels: ProfileEntry[] }; activeTape: { id: number; gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor> }[] | null };
    runKernelFunc: (p: unknown) => unknown;
  };
  let phase: Phase = 'forward';
  let layer = '(none)';
  let depth = 0;
  const phaseWall: Record<string, number> = {};
  let phaseStart = 0;
  const enter = (p: Phase): void => {
    const now = performance.now();
    if (phaseStart) phaseWall[phase] = (phaseWall[phase] ?? 0) + now - phaseStart;
    phase = p;
    phaseStart = now;
  };
  const origRun = engine.runKernelFunc;
  engine.runKernelFunc = function (this: unknown, p: unknown) {
    const kernels = engine.state.activeProfile.kernels;
    const before = kernels.length;
    const tag = { phase, layer, depth, children: [] as number[] };
    depth++;
    try {
      return origRun.call(engine, p);
    } finally {
      depth--;
      if (kernels.length > before) {
        const mine = kernels.length - 1;
        for (let i = before; i < mine; i++) if (kernels[i].__tag?.depth === tag.depth + 1) tag.children.push(i);
        kernels[mine].__tag = tag;
      }
    }
  };
  // forward: leaf layers' call() set the current layer and tag the tape nodes they add
  const layerOfNode = new Map<number, string>();
  const restoreCalls: (() => void)[] = [];
  for (const l of leafLayers(model)) {
    const orig = l.call;
    const name = `${l.name} (${l.getClassName()})`;
    l.call = function (this: tf.layers.Layer, ...a: Parameters<typeof orig>) {
      const tape = engine.state.activeTape;
      const n0 = tape ? tape.length : 0;
      const outer = layer;
      layer = name;
      try {
        return orig.apply(this, a);
      } finally {
        layer = outer;
        if (tape) for (let i = n0; i < tape.length; i++) if (!layerOfNode.has(tape[i].id)) layerOfNode.set(tape[i].id, name);
      }
    };
    restoreCalls.push(() => (l.call = orig));
  }
  // backward: gradient functions (and the thunks they return) run under their node's layer
  const wrapTape = (): void => {
    for (const node of engine.state.activeTape ?? []) {
      const g = node.gradient;
      if (!g) continue;
      const name = layerOfNode.get(node.id) ?? '(loss)';
      const under = <T>(f: () => T): T => {
        const outer = layer;
        layer = name;
        try {
          return f();
        } finally {
          layer = outer;
        }
      };
      node.gradient = (dys) => {
        const thunks = under(() => g(dys));
        const wrapped: Record<string, () => tf.Tensor> = {};
        for (const k of Object.keys(thunks)) wrapped[k] = () => under(thunks[k]);
        return wrapped;
      };
    }
  };

  // --- the profiled step (what trainStep + WeightEma.update do) ------------------------------
  t0 = performance.now();
  const info = await tf.profile(() => {
    const total = tf.tidy(() => {
      enter('forward');
      const { value, grads } = tf.variableGrads(() => {
        layer = '(none)';
        const out = model.apply(images, { training: true }) as tf.Tensor | tf.Tensor[];
        enter('loss');
        layer = '(loss)';
        const parts = loss(Array.isArray(out) ? out : [out], boxes, detector.spec);
        wrapTape();
        enter('backward');
        layer = '(accumulate)';
        return parts.total;
      }, vars);
      enter('optimizer');
      layer = '(optimizer)';
      optimizer.applyGradients(grads as tf.NamedTensorMap as never);
      const f = 1 - lr * 5e-4;
      for (const v of vars) if (KERNEL_NAME.test(v.name)) v.assign(tf.mul(v, f));
      return value;
    });
    total.dataSync();
    total.dispose();
    enter('ema');
    layer = '(ema)';
    ema.update();
    enter('ema'); // close the phase
    return tf.scalar(0);
  });
  const stepMs = performance.now() - t0;
  engine.runKernelFunc = origRun;
  restoreCalls.forEach((r) => r());
  tf.dispose(info.result as tf.Tensor);

  const entries = info.kernels as unknown as ProfileEntry[];
  const timeOf = (e: ProfileEntry): number => (typeof e.kernelTimeMs === 'number' ? e.kernelTimeMs : 0);
  const records: KernelRecord[] = entries.map((e) => {
    const t = e.__tag ?? { phase: 'forward' as Phase, layer: '?', depth: 0, children: [] };
    const ms = timeOf(e);
    return { name: e.name, phase: t.phase, layer: t.layer, depth: t.depth, ms, selfMs: ms - t.children.reduce((s, i) => s + timeOf(entries[i]), 0), outputShapes: e.outputShapes };
  });

  // --- tables ------------------------------------------------------------------------------
  const sum = (rs: KernelRecord[], k: 'selfMs' | 'ms' = 'selfMs'): number => rs.reduce((s, r) => s + r[k], 0);
  const kernelTotal = sum(records);
  const pct = (v: number): string => `${((100 * v) / kernelTotal).toFixed(1)}%`;
  const lines: string[] = [];
  const bi = backendInfo();
  lines.push(`## ${entry.name}, batch ${batch}, tfjs ${bi.name} ${bi.threads} thread(s)`);
  lines.push('');
  lines.push(`unprofiled step (incl. EMA) ${warmMs.toFixed(0)} ms (first step); profiled step ${stepMs.toFixed(0)} ms wall; kernel self time ${kernelTotal.toFixed(0)} ms in ${records.length} kernel calls`);
  lines.push('');
  lines.push('| phase | wall ms | kernel ms | share of kernel time | kernel calls |');
  lines.push('|---|---|---|---|---|');
  for (const p of PHASES) {
    const rs = records.filter((r) => r.phase === p);
    lines.push(`| ${p} | ${(phaseWall[p] ?? 0).toFixed(0)} | ${sum(rs).toFixed(0)} | ${pct(sum(rs))} | ${rs.length} |`);
  }
  lines.push('');
  const group = (key: (r: KernelRecord) => string): { key: string; rs: KernelRecord[] }[] => {
    const m = new Map<string, KernelRecord[]>();
    for (const r of records) {
      const k = key(r);
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(r);
    }
    return [...m.entries()].map(([k, rs]) => ({ key: k, rs })).sort((a, b) => sum(b.rs) - sum(a.rs));
  };
  lines.push(`Top ${top} op kinds (self time; "incl." = with inner kernels, for composite kernels):`);
  lines.push('');
  lines.push('| kernel | calls | self ms | share | incl. ms | forward | loss | backward | optimizer | ema |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const g of group((r) => r.name).slice(0, top)) {
    const byPhase = PHASES.map((p) => sum(g.rs.filter((r) => r.phase === p)).toFixed(0));
    lines.push(`| ${g.key} | ${g.rs.length} | ${sum(g.rs).toFixed(0)} | ${pct(sum(g.rs))} | ${sum(g.rs, 'ms').toFixed(0)} | ${byPhase.join(' | ')} |`);
  }
  lines.push('');
  lines.push(`Top ${top} layers (self time of every kernel run for them, forward + backward):`);
  lines.push('');
  lines.push('| layer | forward ms | backward ms | total ms | share | top kernels |');
  lines.push('|---|---|---|---|---|---|');
  for (const g of group((r) => r.layer).slice(0, top)) {
    const f = sum(g.rs.filter((r) => r.phase === 'forward'));
    const b = sum(g.rs.filter((r) => r.phase === 'backward'));
    const byKind = new Map<string, number>();
    for (const r of g.rs) byKind.set(r.name, (byKind.get(r.name) ?? 0) + r.selfMs);
    const topKinds = [...byKind.entries()].sort((a, b2) => b2[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
    lines.push(`| ${g.key} | ${f.toFixed(0)} | ${b.toFixed(0)} | ${sum(g.rs).toFixed(0)} | ${pct(sum(g.rs))} | ${topKinds} |`);
  }
  lines.push('');
  lines.push('By layer type:');
  lines.push('');
  lines.push('| layer type | layers | forward ms | backward ms | share |');
  lines.push('|---|---|---|---|---|');
  const typeOf = (l: string): string => (l.startsWith('(') ? l : l.replace(/^.* \((\w+)\)$/, '$1'));
  for (const g of group((r) => typeOf(r.layer))) {
    const nLayers = new Set(g.rs.map((r) => r.layer)).size;
    lines.push(`| ${g.key} | ${nLayers} | ${sum(g.rs.filter((r) => r.phase === 'forward')).toFixed(0)} | ${sum(g.rs.filter((r) => r.phase === 'backward')).toFixed(0)} | ${pct(sum(g.rs))} |`);
  }
  console.log(lines.join('\n'));

  const jsonFile = arg('json');
  if (jsonFile) {
    fs.writeFileSync(jsonFile, JSON.stringify({
      model: entry.name, batch, backend: bi, date: new Date().toISOString(), firstStepMs: warmMs, profiledStepMs: stepMs, phaseWall,
      kernels: records.map((r) => ({ ...r, ms: +r.ms.toFixed(3), selfMs: +r.selfMs.toFixed(3) })),
    }) + '\n');
  }
  images.dispose();
  optimizer.dispose();
  ema.dispose();
  detector.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
