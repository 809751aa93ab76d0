/**
 * EfficientDet anchors: the shared anchor grid of `src/decode/anchors` under the names the
 * EfficientDet code uses.
 */
export { gridAnchors as efficientDetAnchors, anchorCount as efficientDetAnchorCount } from '../../decode/anchors';
export type { AnchorGridOptions as EfficientDetAnchorOptions } from '../../decode/anchors';
