/**
 * Kernel initialisation choice of the EfficientDet builders: `random` (tfjs defaults, for
 * training from scratch) or `zeros` (much faster for large models; for weights that are loaded
 * right after building, e.g. from a PyTorch state dict).
 */
export type WeightInit = 'random' | 'zeros';

/** Initializer identifier for a conv kernel: undefined (the layer's default) or 'zeros'. */
export function kernelInitializer(init: WeightInit | undefined): 'zeros' | undefined {
  if (init !== undefined && init !== 'random' && init !== 'zeros') throw new Error(`weight init must be 'random' or 'zeros', got '${init as string}'`);
  return init === 'zeros' ? 'zeros' : undefined;
}
