/** Detection losses of the original implementations (see each file). */
export { bboxIou, boxIouMatrix } from './bboxIou';
export type { IouKind } from './bboxIou';
export { bceWithLogits } from './bceWithLogits';
export { noGrad } from './noGrad';
export { preprocessTrueBoxes, kerasAnchorMask, yoloV3TargetArrays } from './preprocessTrueBoxes';
export type { YoloV3TargetOptions, YoloV3TargetArrays } from './preprocessTrueBoxes';
export { yoloV3Loss } from './yoloV3Loss';
export type { YoloV3LossOptions } from './yoloV3Loss';
export { yoloFastestV2Loss, buildYoloFastestV2Targets } from './yoloFastestV2Loss';
export type { YoloFastestV2LossOptions, YoloFastestV2ScaleTargets } from './yoloFastestV2Loss';
export { efficientDetLoss, assignEfficientDetAnchors } from './efficientDetLoss';
export type { EfficientDetLossOptions, EfficientDetAssignment } from './efficientDetLoss';
export type { GroundTruthBox, LossTerms } from './types';
export { multiboxLoss, matchPriors, mineNegatives } from './multiboxLoss';
export type { MultiboxLossOptions, MultiboxTargets } from './multiboxLoss';
