// The in-place re-packers of the training engine write exactly the kernels' packed layouts.
import { packConvInto, packConvInputGradInto } from '../../../src/engine/training/packInPlace';
import { packConvWeights } from '../../../src/engine/kernelModule';
import { packConvInputGradWeights } from '../../../src/engine/gradPacking';

describe('packInPlace', () => {
  for (const shape of [[3, 3, 5, 11], [1, 1, 16, 8], [2, 3, 9, 3]] as [number, number, number, number][]) {
    it(`conv and input-gradient packing of [${shape.join(', ')}]`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const f = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) + i * 1e-3);
      const want = packConvWeights(f, shape, null).weights;
      const got = new Float32Array(want.length);
      packConvInto(got, f, shape);
      expect(Array.from(got)).toEqual(Array.from(want));
      const wantG = packConvInputGradWeights(f, shape).weights;
      const gotG = new Float32Array(wantG.length);
      packConvInputGradInto(gotG, f, shape);
      expect(Array.from(gotG)).toEqual(Array.from(wantG));
    });
  }
});
