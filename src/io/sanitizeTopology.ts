/**
 * Repairs of LayersModel topologies (the `modelTopology` JSON of model.json) for known
 * tfjs-layers 4.22 serialisation bugs. Browser-safe, pure JSON in / JSON out.
 *
 * - `DepthwiseConv2D.getConfig()` writes the depthwise REGULARIZER into `depthwise_constraint`.
 *   On load, that "constraint" is applied to the weights when they are assigned and turns the
 *   kernel into a scalar (`shape of the new value () and previous value (3,3,C,1) must match`).
 *   A regularizer class (L1L2 / L1 / L2) is never a valid constraint, so it is dropped.
 */

const REGULARIZER_CLASSES = new Set(['L1L2', 'L1', 'L2', 'l1_l2', 'l1', 'l2']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fixLayerConfig(cfg: Json): number {
  let fixes = 0;
  for (const key of ['depthwise_constraint', 'depthwiseConstraint']) {
    const c = cfg[key];
    if (isObject(c) && typeof c.class_name === 'string' && REGULARIZER_CLASSES.has(c.class_name)) {
      cfg[key] = null;
      fixes++;
    }
  }
  return fixes;
}

/** Walk a topology (nested models included) and repair it in place; returns the number of fixes. */
export function sanitizeLayersTopology(topology: unknown): number {
  let fixes = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    if (typeof node.class_name === 'string' && isObject(node.config)) fixes += fixLayerConfig(node.config);
    for (const v of Object.values(node)) if (typeof v === 'object') visit(v);
  };
  visit(topology);
  return fixes;
}
