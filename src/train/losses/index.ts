/** Detection losses of the original implementations (see each file). */
export { bboxIou, boxIouMatrix } from '../../loss/bboxIou';
export type { IouKind } from '../../loss/bboxIou';
export { bceWithLogits } from '../../loss/bceWithLogits';
export { noGrad } from '../../loss/noGrad';
export { preprocessTrueBoxes, kerasAnchorMask, yoloV3TargetArrays } from '../../models/darknet/preprocessTrueBoxes';
export type { YoloV3TargetOptions, YoloV3TargetArrays } from '../../models/darknet/preprocessTrueBoxes';
export { yoloV3Loss } from '../../models/darknet/yoloV3Loss';
export type { YoloV3LossOptions } from '../../models/darknet/yoloV3Loss';
export { yoloFastestV2Loss, buildYoloFastestV2Targets } from '../../models/yoloFastestV2/yoloFastestV2Loss';
export type { YoloFastestV2LossOptions, YoloFastestV2ScaleTargets } from '../../models/yoloFastestV2/yoloFastestV2Loss';
export { efficientDetLoss, assignEfficientDetAnchors } from '../../models/efficientDet/efficientDetLoss';
export type { EfficientDetLossOptions, EfficientDetAssignment } from '../../models/efficientDet/efficientDetLoss';
export type { GroundTruthBox, LossTerms } from '../../loss/types';
export { multiboxLoss, matchPriors, mineNegatives } from '../../models/rfsong/multiboxLoss';
export type { MultiboxLossOptions, MultiboxTargets } from '../../models/rfsong/multiboxLoss';
