/**
 * A small argv parser for the CLI: `--name value`, `--name=value`, boolean `--flag`, `-h`,
 * positionals. Unknown options are errors that name them.
 */

export interface OptionDef {
  /** Option name without dashes. */
  name: string;
  /** Takes a value (`--score 0.3`) or is a boolean flag. */
  type: 'string' | 'number' | 'boolean';
  /** Short alias, e.g. `m` for `-m`. */
  alias?: string;
  description: string;
  default?: string | number | boolean;
  /** Numbers: the smallest value allowed (inclusive unless `minExclusive`). */
  min?: number;
  /** Numbers: the largest value allowed (inclusive unless `maxExclusive`). */
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  /** Numbers: whole numbers only. */
  integer?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
}

/** A CLI usage error: printed as one line, exit code 1. */
export class UsageError extends Error {}

export function parseArgs(argv: string[], defs: OptionDef[]): ParsedArgs {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const byAlias = new Map(defs.filter((d) => d.alias).map((d) => [d.alias as string, d]));
  const options: ParsedArgs['options'] = {};
  for (const d of defs) if (d.default !== undefined) options[d.name] = d.default;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    let name: string;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      value = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else {
      name = a.slice(1);
    }
    const def = byName.get(name) ?? byAlias.get(name);
    if (!def) throw new UsageError(`unknown option '${a}'`);
    if (def.type === 'boolean') {
      options[def.name] = value === undefined ? true : value !== 'false' && value !== '0';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`option '--${def.name}' needs a value`);
    }
    if (def.type === 'number') {
      options[def.name] = parseNumberOption(def, value);
    } else {
      options[def.name] = value;
    }
  }
  return { positionals, options };
}

/** The range of a numeric option in words, e.g. "a whole number from 1 to 256". */
export function describeRange(def: OptionDef): string {
  const kind = def.integer ? 'a whole number' : 'a number';
  const lo = def.min === undefined ? '' : `${def.minExclusive ? '>' : '>='} ${def.min}`;
  const hi = def.max === undefined ? '' : `${def.maxExclusive ? '<' : '<='} ${def.max}`;
  if (def.min !== undefined && def.max !== undefined && !def.minExclusive && !def.maxExclusive) return `${kind} from ${def.min} to ${def.max}`;
  return [kind, [lo, hi].filter(Boolean).join(' and ')].filter(Boolean).join(' ');
}

function parseNumberOption(def: OptionDef, value: string): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`option '--${def.name}' needs a number, got '${value}'`);
  const ok =
    (!def.integer || Number.isInteger(n)) &&
    (def.min === undefined || (def.minExclusive ? n > def.min : n >= def.min)) &&
    (def.max === undefined || (def.maxExclusive ? n < def.max : n <= def.max));
  if (!ok) throw new UsageError(`option '--${def.name}' must be ${describeRange(def)}, got '${value}'`);
  return n;
}

/** Usage text for a command. */
export function usage(command: string, synopsis: string, defs: OptionDef[]): string {
  const lines = [`usage: yolo-tfjs ${command} ${synopsis}`, '', 'options:'];
  for (const d of defs) {
    const flag = `--${d.name}${d.alias ? `, -${d.alias}` : ''}${d.type === 'boolean' ? '' : ` <${d.type === 'number' ? 'n' : 'value'}>`}`;
    const def = d.default !== undefined && d.type !== 'boolean' ? ` (default ${d.default})` : '';
    lines.push(`  ${flag.padEnd(28)} ${d.description}${def}`);
  }
  return lines.join('\n');
}
