/**
 * Learning-rate schedules for `train`: linear warm-up, then cosine decay (to
 * `lr * finalLrFactor`), step decay (x gamma at milestones) or constant.
 */

/** Schedule settings. */
export interface LrScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  /** Total optimisation steps. */
  totalSteps: number;
  /** Linear warm-up steps from `lr * warmupStartFactor` to `lr`. Default 0. */
  warmupSteps?: number;
  /** Default 0.1. */
  warmupStartFactor?: number;
  /** Default 'cosine'. */
  schedule?: 'cosine' | 'step' | 'constant';
  /** Cosine: final lr = lr * this. Default 0.01 (YOLOv5's lrf). */
  finalLrFactor?: number;
  /** Step: milestones as fractions of totalSteps. Default [0.7, 0.9]. */
  milestones?: number[];
  /** Step: multiplier at each milestone. Default 0.1. */
  gamma?: number;
}

/** The learning rate at optimisation step `step` (0-based). */
export function learningRateAt(step: number, o: LrScheduleOptions): number {
  const warm = o.warmupSteps ?? 0;
  if (step < warm) {
    const f0 = o.warmupStartFactor ?? 0.1;
    return o.lr * (f0 + ((1 - f0) * step) / warm);
  }
  const kind = o.schedule ?? 'cosine';
  if (kind === 'constant') return o.lr;
  if (kind === 'step') {
    const passed = (o.milestones ?? [0.7, 0.9]).filter((m) => step >= m * o.totalSteps).length;
    return o.lr * (o.gamma ?? 0.1) ** passed;
  }
  if (kind !== 'cosine') throw new Error(`unknown lr schedule '${kind as string}' (cosine | step | constant)`);
  const span = Math.max(1, o.totalSteps - warm);
  const t = Math.min(1, (step - warm) / span);
  const f = o.finalLrFactor ?? 0.01;
  return o.lr * (f + ((1 - f) * (1 + Math.cos(Math.PI * t))) / 2);
}
