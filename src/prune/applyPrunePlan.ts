/**
 * Carry out a {@link PrunePlan} on Darknet tensors: drop the pruned output channels of every
 * conv (kernel, bias / BN parameters) and the matching input channels of the layers reading
 * them, and rewrite the cfg's `filters` (and a depthwise conv's `groups`).
 *
 * A pruned channel is not silent: with gamma ~ 0 its BN output is beta, so it emits the constant
 * act(beta). As Lam1360's `prune_model_keep_size` does, that constant is folded into every conv
 * reading it: sum over the kernel window of weight x constant is subtracted from the reader's BN
 * running mean, or added to its bias when it has no BN. Constants are carried through maxpool
 * (max of a constant), upsample, dropout, `[route]` (concatenated, group slices) and
 * `[shortcut]` (summed, then its activation), so readers behind those layers get their share
 * too. A depthwise channel whose input channel is pruned is pruned with it; its constant is
 * act(BN(constant x sum of its kernel)). The folding is exact away from the borders (zero
 * padding sees no constant there) and exact everywhere for 1x1 readers or a zero constant.
 */
import { DARKNET_BN_EPSILON, DarknetActivation } from '../layers/darknetConv2D';
import { DarknetCfg, DarknetConvSection } from '../weights/parseDarknetCfg';
import { DarknetConvPart, darknetConvWeightsLayout, darknetTensorName } from '../weights/readDarknetWeights';
import { TensorMap } from '../weights/tensorMap';
import { darknetActivationScalar } from './darknetActivationScalar';
import { PrunePlan } from './planPruning';

/** The pruned network: its cfg text and tensors. */
export interface PrunedDarknet {
  cfgText: string;
  tensors: TensorMap;
}

/** Output of one layer during the walk: kept channels and the constants of the pruned ones. */
interface Flow {
  keep: Uint8Array;
  constant: Float64Array;
}

function f32(tensors: TensorMap, index: number, part: DarknetConvPart): Float32Array {
  const t = tensors.get(darknetTensorName(index, part));
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`prune: float32 tensor ${darknetTensorName(index, part)} is missing`);
  return t.data;
}

function pick(a: Float32Array, keep: Uint8Array): Float32Array {
  const out = new Float32Array(keep.reduce((s, k) => s + k, 0));
  let j = 0;
  for (let i = 0; i < keep.length; i++) if (keep[i]) out[j++] = a[i];
  return out;
}

function count(keep: Uint8Array): number {
  return keep.reduce((s, k) => s + k, 0);
}

/** Replace (or add) `key=value` in a section of the cfg text, by the parsed line numbers. */
function setOption(lines: string[], inserts: Map<number, string[]>, l: DarknetConvSection, key: string, value: number): void {
  const opt = l.options[key];
  if (opt) lines[opt.line - 1] = `${key}=${value}`;
  else inserts.set(l.line, [...(inserts.get(l.line) ?? []), `${key}=${value}`]);
}

/**
 * Apply `plan` (from `planPruning` on the same cfg and tensors). Returns the new cfg text (the
 * original text with only `filters`/`groups` lines changed) and the new tensors.
 */
export function applyPrunePlan(cfgText: string, cfg: DarknetCfg, tensors: TensorMap, plan: PrunePlan): PrunedDarknet {
  const layout = new Map(darknetConvWeightsLayout(cfg).map((i) => [i.layer.index, i]));
  const out: TensorMap = new Map();
  const lines = cfgText.split(/\r?\n/);
  const inserts = new Map<number, string[]>();
  const flows: Flow[] = [];
  const inputFlow: Flow = { keep: new Uint8Array(cfg.net.channels).fill(1), constant: new Float64Array(cfg.net.channels) };
  for (const l of cfg.layers) {
    const prev = l.index === 0 ? inputFlow : flows[l.index - 1];
    const keep = plan.keep[l.index];
    switch (l.type) {
      case 'convolutional': {
        const info = layout.get(l.index);
        if (!info) throw new Error(`prune: no weights layout for layer ${l.index}`);
        const cin = info.inChannels;
        const n = l.filters;
        const k2 = l.size * l.size;
        const w = f32(tensors, l.index, 'weights');
        const bias = Float32Array.from(f32(tensors, l.index, 'biases'));
        const bn = l.batchNormalize
          ? {
              gamma: f32(tensors, l.index, 'scales'),
              mean: Float32Array.from(f32(tensors, l.index, 'rolling_mean')),
              variance: f32(tensors, l.index, 'rolling_variance'),
            }
          : null;
        const act = l.activation as DarknetActivation;
        const constant = new Float64Array(n);
        const nOut = count(keep);
        let kernel: Float32Array;
        let kernelShape: number[];
        if (l.groups === 1) {
          // Fold the constants of the pruned input channels: offset[o] = sum_i c_i sum_p W[p, i, o].
          const offset = new Float64Array(n);
          for (let i = 0; i < cin; i++) {
            const c = prev.constant[i];
            if (prev.keep[i] || c === 0) continue;
            for (let p = 0; p < k2; p++) {
              const base = (p * cin + i) * n;
              for (let o = 0; o < n; o++) offset[o] += c * w[base + o];
            }
          }
          for (let o = 0; o < n; o++) {
            if (bn) bn.mean[o] -= offset[o];
            else bias[o] += offset[o];
            if (!keep[o]) {
              if (!bn) throw new Error(`prune: layer ${l.index} has no batch norm, its channels cannot be pruned`);
              constant[o] = darknetActivationScalar(act, bias[o]);
            }
          }
          const cinOut = count(prev.keep);
          kernel = new Float32Array(k2 * cinOut * nOut);
          let j = 0;
          for (let p = 0; p < k2; p++) {
            for (let i = 0; i < cin; i++) {
              if (!prev.keep[i]) continue;
              const base = (p * cin + i) * n;
              for (let o = 0; o < n; o++) if (keep[o]) kernel[j++] = w[base + o];
            }
          }
          kernelShape = [l.size, l.size, cinOut, nOut];
        } else if (l.groups === cin) {
          // Depthwise: output o = i * m + j reads input channel i only.
          const m = n / cin;
          for (let o = 0; o < n; o++) {
            const i = Math.floor(o / m);
            if (keep[o] !== prev.keep[i]) throw new Error(`prune: depthwise layer ${l.index} channel ${o} does not follow its input`);
            if (keep[o]) continue;
            let s = 0;
            for (let p = 0; p < k2; p++) s += w[(p * cin + i) * m + (o % m)];
            const v = prev.constant[i] * s;
            const y = bn ? (bn.gamma[o] * (v - bn.mean[o])) / Math.sqrt(bn.variance[o] + DARKNET_BN_EPSILON) + bias[o] : v + bias[o];
            constant[o] = darknetActivationScalar(act, y);
          }
          const cinOut = count(prev.keep);
          kernel = new Float32Array(k2 * cinOut * m);
          let j = 0;
          for (let p = 0; p < k2; p++) {
            for (let i = 0; i < cin; i++) {
              if (!prev.keep[i]) continue;
              for (let q = 0; q < m; q++) kernel[j++] = w[(p * cin + i) * m + q];
            }
          }
          kernelShape = [l.size, l.size, cinOut, m];
          setOption(lines, inserts, l, 'groups', cinOut);
        } else {
          if (count(prev.keep) !== cin || nOut !== n) throw new Error(`prune: grouped layer ${l.index} cannot be pruned`);
          kernel = w;
          kernelShape = info.kernelShape;
        }
        const put = (part: DarknetConvPart, shape: number[], data: Float32Array) =>
          out.set(darknetTensorName(l.index, part), { shape, dtype: 'float32', data });
        put('biases', [nOut], pick(bias, keep));
        if (bn) {
          put('scales', [nOut], pick(bn.gamma, keep));
          put('rolling_mean', [nOut], pick(bn.mean, keep));
          put('rolling_variance', [nOut], pick(bn.variance, keep));
        }
        put('weights', kernelShape, kernel);
        if (nOut !== n) setOption(lines, inserts, l, 'filters', nOut);
        flows.push({ keep, constant });
        break;
      }
      case 'route': {
        const parts = l.layers.map((r) => {
          const f = flows[r];
          if (l.groups === 1) return f;
          const size = f.keep.length / l.groups;
          const [a, b] = [l.groupId * size, (l.groupId + 1) * size];
          return { keep: f.keep.subarray(a, b), constant: f.constant.subarray(a, b) };
        });
        const total = parts.reduce((s, p) => s + p.keep.length, 0);
        const flow: Flow = { keep: new Uint8Array(total), constant: new Float64Array(total) };
        let at = 0;
        for (const p of parts) {
          flow.keep.set(p.keep, at);
          flow.constant.set(p.constant, at);
          at += p.keep.length;
        }
        flows.push(flow);
        break;
      }
      case 'shortcut': {
        const constant = Float64Array.from(prev.constant);
        for (const f of l.from) {
          const other = flows[f];
          for (let c = 0; c < constant.length; c++) {
            if (other.keep[c] !== prev.keep[c]) throw new Error(`prune: shortcut layer ${l.index} joins a kept and a pruned channel ${c}`);
            constant[c] += other.constant[c];
          }
        }
        for (let c = 0; c < constant.length; c++) {
          constant[c] = prev.keep[c] ? 0 : darknetActivationScalar(l.activation as DarknetActivation, constant[c]);
        }
        flows.push({ keep: prev.keep, constant });
        break;
      }
      case 'yolo':
        flows.push({ keep: new Uint8Array(0), constant: new Float64Array(0) });
        break;
      default:
        // maxpool (max of a constant), upsample, dropout: channels and constants pass through
        flows.push(prev);
    }
  }
  const text: string[] = [];
  lines.forEach((line, i) => {
    text.push(line);
    for (const extra of inserts.get(i + 1) ?? []) text.push(extra);
  });
  return { cfgText: text.join('\n'), tensors: out };
}
