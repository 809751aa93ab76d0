/**
 * A minimal YAML reader for the model files of the ScaledYOLOv4 / YOLOv5 family
 * (`models/yolov4-p5.yaml` ...): a top-level block mapping whose values are scalars, flow
 * sequences (`[[-1, 1, Conv, [32, 3, 1]], ...]`, possibly over several lines) or block
 * sequences of such values (`anchors:\n  - [13,17, 31,25]`). `#` comments are dropped.
 * Anything outside that subset (nested mappings, anchors/aliases, multi-documents, flow
 * mappings) is an error naming the line, never a silent misreading.
 *
 * Scalars follow YAML 1.1 as PyYAML reads them: integers, floats, `true`/`false`, `null`/`~`,
 * quoted strings; any other plain word (e.g. `Conv`, `nn.Upsample`, `None`, `nc`) stays a string.
 */

/** A value of the subset: number, boolean, null, string or a list of values. */
export type YamlValue = number | boolean | null | string | YamlValue[];

/** Largest model file accepted (the upstream ones are ~2-6 kB). */
const MAX_YAML_CHARS = 1 << 20;
/** Deepest flow nesting accepted (the model files use 3). */
const MAX_DEPTH = 16;

class YamlError extends Error {
  constructor(line: number, message: string) {
    super(`model YAML line ${line}: ${message}`);
  }
}

/** A line with its comment removed (a `#` at the line start or after a blank, outside quotes). */
function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      return text.slice(0, i);
    }
  }
  return text;
}

function indentOf(text: string): number {
  let i = 0;
  while (i < text.length && text[i] === ' ') i++;
  if (text[i] === '\t') return -1;
  return i;
}

/** A plain or quoted scalar. */
function scalar(raw: string, line: number): YamlValue {
  const s = raw.trim();
  if (s === '') return null;
  if ((s.startsWith("'") && s.endsWith("'") && s.length >= 2) || (s.startsWith('"') && s.endsWith('"') && s.length >= 2)) {
    return s.slice(1, -1);
  }
  if (s.startsWith("'") || s.startsWith('"')) throw new YamlError(line, `unterminated quoted string ${s}`);
  if (/^[&*!|>{}%@`]/.test(s)) throw new YamlError(line, `unsupported YAML syntax '${s}' (only scalars and lists are read)`);
  if (s === 'null' || s === 'Null' || s === 'NULL' || s === '~') return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  return s;
}

/** Parse one flow sequence `[a, [b, c], 'd']` (the whole text must be that sequence). */
function flowSequence(text: string, line: number): YamlValue[] {
  let pos = 0;
  const skip = (): void => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const value = (depth: number): YamlValue => {
    skip();
    if (text[pos] === '[') return list(depth + 1);
    if (text[pos] === '{') throw new YamlError(line, 'flow mappings ({...}) are not supported');
    const start = pos;
    let quote: string | null = null;
    while (pos < text.length) {
      const c = text[pos];
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === ',' || c === ']' || c === '[') break;
      pos++;
    }
    return scalar(text.slice(start, pos), line);
  };
  const list = (depth: number): YamlValue[] => {
    if (depth > MAX_DEPTH) throw new YamlError(line, `lists nested deeper than ${MAX_DEPTH}`);
    pos++; // '['
    const out: YamlValue[] = [];
    skip();
    if (text[pos] === ']') {
      pos++;
      return out;
    }
    for (;;) {
      out.push(value(depth));
      skip();
      if (text[pos] === ',') {
        pos++;
        skip();
        if (text[pos] === ']') {
          pos++;
          return out; // trailing comma
        }
        continue;
      }
      if (text[pos] === ']') {
        pos++;
        return out;
      }
      throw new YamlError(line, pos >= text.length ? 'unclosed [' : `unexpected '${text[pos]}' in a list`);
    }
  };
  skip();
  if (text[pos] !== '[') throw new YamlError(line, 'expected a [ list ]');
  const out = list(0);
  skip();
  if (pos < text.length) throw new YamlError(line, `unexpected text after a list: '${text.slice(pos, pos + 20)}'`);
  return out;
}

/** Bracket balance of a comment-free line (quotes respected). */
function bracketDelta(text: string): number {
  let d = 0;
  let quote: string | null = null;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') d++;
    else if (c === ']') d--;
  }
  return d;
}

/**
 * Parse a model YAML text into a plain object (`{nc, depth_multiple, width_multiple, anchors,
 * backbone, head, ...}`). Throws naming the line for anything outside the supported subset.
 */
export function parseModelYaml(text: string): Record<string, YamlValue> {
  if (typeof text !== 'string') throw new Error('model YAML must be a string');
  if (text.length > MAX_YAML_CHARS) throw new Error(`model YAML is ${text.length} characters; at most ${MAX_YAML_CHARS} are accepted`);
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((t, i) => ({ n: i + 1, text: stripComment(t).replace(/\s+$/, '') }));
  const out: Record<string, YamlValue> = {};
  let i = 0;
  // Reads a value starting on line `i` at column text `first`; continues over lines while
  // brackets are open. Returns the value and the next line index.
  const readValue = (first: string, at: number): [YamlValue, number] => {
    const t = first.trim();
    if (!t.startsWith('[')) return [scalar(t, lines[at].n), at + 1];
    let joined = t;
    let depth = bracketDelta(t);
    let j = at + 1;
    while (depth > 0) {
      if (j >= lines.length) throw new YamlError(lines[at].n, 'unclosed [ at the end of the file');
      joined += ' ' + lines[j].text.trim();
      depth += bracketDelta(lines[j].text);
      j++;
    }
    return [flowSequence(joined, lines[at].n), j];
  };
  while (i < lines.length) {
    const { n, text: t } = lines[i];
    if (t.trim() === '') {
      i++;
      continue;
    }
    if (t.trim() === '---' || t.trim() === '...') throw new YamlError(n, 'multi-document YAML is not supported');
    const ind = indentOf(t);
    if (ind < 0) throw new YamlError(n, 'tabs are not allowed for indentation');
    if (ind !== 0) throw new YamlError(n, `unexpected indentation (expected a top-level 'key: value')`);
    const m = /^([A-Za-z_][\w.-]*)\s*:(?:\s+(.*)|$)/.exec(t);
    if (!m) throw new YamlError(n, `expected 'key: value', got '${t.trim().slice(0, 40)}'`);
    const key = m[1];
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new YamlError(n, `duplicate key '${key}'`);
    const rest = (m[2] ?? '').trim();
    if (rest !== '') {
      const [v, next] = readValue(rest, i);
      out[key] = v;
      i = next;
      continue;
    }
    // Value on the following, more indented lines: a block sequence or a flow sequence.
    i++;
    while (i < lines.length && lines[i].text.trim() === '') i++;
    if (i >= lines.length || indentOf(lines[i].text) <= 0) {
      out[key] = null;
      continue;
    }
    const body = lines[i].text.trim();
    if (body.startsWith('- ') || body === '-') {
      const items: YamlValue[] = [];
      const itemIndent = indentOf(lines[i].text);
      while (i < lines.length) {
        const l = lines[i];
        if (l.text.trim() === '') {
          i++;
          continue;
        }
        const ind2 = indentOf(l.text);
        if (ind2 < itemIndent) break;
        const s = l.text.trim();
        if (ind2 !== itemIndent || !(s.startsWith('- ') || s === '-')) {
          throw new YamlError(l.n, 'nested block structures are not supported (use [ ] lists)');
        }
        const [v, next] = readValue(s.slice(1), i);
        items.push(v);
        i = next;
      }
      out[key] = items;
    } else if (body.startsWith('[')) {
      const [v, next] = readValue(body, i);
      out[key] = v;
      i = next;
      if (i < lines.length && lines[i].text.trim() !== '' && indentOf(lines[i].text) > 0) {
        throw new YamlError(lines[i].n, `unexpected text after the list of '${key}'`);
      }
    } else {
      throw new YamlError(lines[i].n, `nested mappings are not supported (value of '${key}')`);
    }
  }
  return out;
}
