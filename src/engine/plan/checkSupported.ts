/** Which IR nodes the wasm kernels can run; the first one they cannot is an UnsupportedGraphError. */
import type { IRGraph, IRNode } from '../../infer/ir';
import { UnsupportedGraphError } from './types';

export function checkSupported(n: IRNode, g: IRGraph): void {
  const fail = (why: string) => {
    throw new UnsupportedGraphError(`layer '${n.layer}' (${n.op}): ${why}`);
  };
  const rank3 = (v: number) => g.shapes[v].length === 3;
  switch (n.op) {
    case 'conv':
      if (!rank3(n.inputs[0])) fail('input is not [H, W, C]');
      if (n.depthwise && n.filterShape[3] !== 1) fail(`depthwise channel multiplier ${n.filterShape[3]}`);
      break;
    case 'maxPool':
    case 'pad':
    case 'upsample':
      if (!rank3(n.inputs[0])) fail('input is not [H, W, C]');
      break;
    case 'mul': {
      const [a, b] = n.inputs.map((v) => g.shapes[v]);
      const pa = a.slice(0, -1).reduce((x, y) => x * y, 1);
      const pb = b.slice(0, -1).reduce((x, y) => x * y, 1);
      if (a[a.length - 1] !== b[b.length - 1] || (pa !== pb && pa !== 1 && pb !== 1)) fail(`broadcast of [${a}] * [${b}]`);
      break;
    }
    case 'add':
    case 'weightedSum': {
      const s = n.inputs.map((v) => g.shapes[v].join('x'));
      if (s.some((x) => x !== s[0])) fail(`inputs of different shapes ${s.join(', ')}`);
      break;
    }
    case 'concat': {
      const rank = g.shapes[n.outputs[0]].length;
      if (n.axis !== rank && n.axis !== 1) fail(`concat along axis ${n.axis} of a rank-${rank + 1} tensor`);
      break;
    }
    case 'custom':
      fail(`custom layer ${n.className} has no wasm kernel`);
  }
}
