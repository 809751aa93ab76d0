/**
 * `freeze: 'backbone'` on Scaled-YOLOv4 models: the yolov4-csp cfg Darknet loaded from its
 * PyTorch checkpoint (layers named by cfg index, not `model.<row>`: this used to throw "no SPPCSP
 * layer") freezes CSPDarknet53 up to the transition conv before the SPP, as the YAML models
 * freeze the rows before their SPPCSP; headOnly leaves exactly the three head convs trainable.
 */
import * as fs from 'fs';
import { loadPytorch } from '../../../src/models/loadPytorch';
import { applyFreeze } from '../../../src/train/modelParts';
import { parseDarknetCfg } from '../../../src/weights/parseDarknetCfg';
import { describeFixtures, fixturePath } from '../../helpers/fixtures';

const DIR = 'scaled-yolov4';

describeFixtures(DIR, 'Scaled-YOLOv4 freeze on the yolov4-csp cfg Darknet', () => {
  it('backbone = cfg layers up to the conv after the last concat route before the SPP', () => {
    const cfgText = fs.readFileSync(fixturePath(DIR, 'csp', 'yolov4-csp-div4.cfg'), 'utf8');
    const det = loadPytorch('darknet', fs.readFileSync(fixturePath(DIR, 'csp', 'yolov4-csp.pt')), { cfg: cfgText, inputSize: 64 });
    try {
      // the boundary from the cfg itself: first stride-1 maxpool, last multi-layer route before it, next conv
      const layers = parseDarknetCfg(cfgText).layers;
      const spp = layers.find((l) => l.type === 'maxpool' && l.stride === 1)!.index;
      const route = layers.filter((l) => l.type === 'route' && l.layers.length > 1 && l.index < spp).pop()!.index;
      const end = layers.find((l) => l.type === 'convolutional' && l.index > route)!.index;
      expect(end).toBeLessThan(spp);

      const frozen = applyFreeze(det.model, det.spec, 'backbone');
      const idx = frozen.map((n) => Number(/^conv_(\d+)_/.exec(n)![1]));
      expect(Math.max(...idx)).toBe(end);
      // every conv of the backbone (and its BN) is frozen, none after it
      const convs = layers.filter((l) => l.type === 'convolutional' && l.index <= end).length;
      expect(frozen.filter((n) => n.endsWith('_conv'))).toHaveLength(convs);
      expect(det.model.getLayer(`conv_${end + 1}_conv`).trainable).toBe(true);
      expect(det.model.getLayer(`conv_${end}_bn`).trainable).toBe(false);

      const notHeads = applyFreeze(det.model, det.spec, 'headOnly');
      const trainable = det.model.layers.filter((l) => l.trainable && l.weights.length > 0).map((l) => l.name);
      expect(trainable).toEqual(det.model.outputs.map((o) => o.sourceLayer.name));
      expect(notHeads.length).toBeGreaterThan(100);
    } finally {
      det.dispose();
    }
  });
});
