/**
 * The Darknet activations we support, written once: the cfg parser validates `activation=`
 * against this list and the layer builders implement each of them. No tfjs import, so the
 * parser stays light.
 */

/** The activations accepted, for validation and its messages. */
export const DARKNET_ACTIVATIONS = ['leaky', 'linear', 'relu', 'mish', 'swish', 'logistic'] as const;

/** Darknet activations supported by `darknetConv2D` and accepted in a cfg. */
export type DarknetActivation = (typeof DARKNET_ACTIVATIONS)[number];
