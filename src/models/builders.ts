/**
 * Model builders by name (random init), for the CLI's `--model <name>` (e.g. training from
 * scratch). Interim list until the families table (issue 10) provides each family's builders.
 */
import { Detector } from '../detector';
import { rfsong } from './rfsong/rfsong';

/** Options every named builder accepts. */
export interface NamedBuilderOptions {
  classNames?: string[];
  inputSize?: number;
}

export const MODEL_BUILDERS: Readonly<Record<string, (o: NamedBuilderOptions) => Detector>> = Object.freeze({
  rfsong: (o: NamedBuilderOptions) => rfsong({ classNames: o.classNames, inputSize: o.inputSize }),
});
