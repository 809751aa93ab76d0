/**
 * Darknet activations applied to one number. Pruning needs them to know the constant a pruned
 * channel still emits (act(beta) when its gamma is ~0) so that it can be folded into the next
 * layer; the tensor versions live in `layers/darknetConv2D`.
 */
import { DARKNET_LEAKY_SLOPE, DarknetActivation } from '../layers/darknetConv2D';

/** Darknet's softplus threshold (`softplus_activate(x, 20)`), as the Mish layer uses. */
const SOFTPLUS_THRESHOLD = 20;

function softplus(x: number): number {
  if (x > SOFTPLUS_THRESHOLD) return x;
  if (x < -SOFTPLUS_THRESHOLD) return Math.exp(x);
  return Math.log1p(Math.exp(x));
}

/** `act(x)` for a Darknet activation name. */
export function darknetActivationScalar(activation: DarknetActivation, x: number): number {
  switch (activation) {
    case 'linear':
      return x;
    case 'leaky':
      return x > 0 ? x : DARKNET_LEAKY_SLOPE * x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'logistic':
      return 1 / (1 + Math.exp(-x));
    case 'swish':
      return x / (1 + Math.exp(-x));
    case 'mish':
      return x * Math.tanh(softplus(x));
  }
}
