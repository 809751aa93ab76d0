/**
 * A tiny XML parser, enough for Pascal VOC annotation files: elements, attributes, text,
 * comments, CDATA, processing instructions / doctype (skipped), the five named entities and
 * numeric character references. Each element records the 1-based line it starts on.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (entities decoded, not trimmed). */
  text: string;
  /** 1-based line of the element's start tag. */
  line: number;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string, line: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return String.fromCodePoint(code);
    }
    if (body in ENTITIES) return ENTITIES[body];
    throw new Error(`XML line ${line}: unknown entity ${m}`);
  });
}

/**
 * Parses an XML document and returns its root element. Throws an Error with the line number
 * on malformed input (unclosed or mismatched tags, text outside the root, ...).
 */
export function parseXml(src: string): XmlElement {
  let i = 0;
  let line = 1;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const advance = (to: number): void => {
    for (let k = i; k < to; k++) if (src.charCodeAt(k) === 10) line++;
    i = to;
  };
  const fail = (msg: string): never => {
    throw new Error(`XML line ${line}: ${msg}`);
  };
  if (src.charCodeAt(0) === 0xfeff) i = 1;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt === -1 ? src.length : lt;
    if (textEnd > i) {
      const text = src.slice(i, textEnd);
      if (stack.length) stack[stack.length - 1].text += decodeEntities(text, line);
      else if (text.trim()) fail(`text outside the root element: "${text.trim().slice(0, 30)}"`);
      advance(textEnd);
    }
    if (lt === -1) break;
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end === -1) fail('unterminated comment');
      advance(end + 3);
    } else if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i + 9);
      if (end === -1) fail('unterminated CDATA section');
      if (!stack.length) fail('CDATA outside the root element');
      stack[stack.length - 1].text += src.slice(i + 9, end);
      advance(end + 3);
    } else if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i + 2);
      if (end === -1) fail('unterminated processing instruction');
      advance(end + 2);
    } else if (src.startsWith('<!', i)) {
      const end = src.indexOf('>', i + 2);
      if (end === -1) fail('unterminated declaration');
      advance(end + 1);
    } else if (src.startsWith('</', i)) {
      const end = src.indexOf('>', i + 2);
      if (end === -1) fail('unterminated end tag');
      const name = src.slice(i + 2, end).trim();
      const open = stack.pop();
      if (!open) fail(`end tag </${name}> without a start tag`);
      if (open!.name !== name) fail(`end tag </${name}> does not match <${open!.name}> (line ${open!.line})`);
      advance(end + 1);
    } else {
      // start tag: find the closing '>' outside quotes
      let k = i + 1;
      let quote = '';
      while (k < src.length) {
        const ch = src[k];
        if (quote) {
          if (ch === quote) quote = '';
        } else if (ch === '"' || ch === "'") quote = ch;
        else if (ch === '>') break;
        k++;
      }
      if (k >= src.length) fail('unterminated start tag');
      let body = src.slice(i + 1, k);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = /^([A-Za-z_:][-A-Za-z0-9_:.]*)/.exec(body);
      if (!m) fail(`bad tag name in "<${body.slice(0, 30)}>"`);
      const name = m![1];
      const attributes: Record<string, string> = {};
      const attrRe = /\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/g;
      let rest = body.slice(name.length);
      let am: RegExpExecArray | null;
      while ((am = attrRe.exec(rest)) !== null) attributes[am[1]] = decodeEntities(am[3] ?? am[4] ?? '', line);
      rest = rest.replace(attrRe, '');
      if (rest.trim()) fail(`bad attribute syntax in <${name}>: "${rest.trim().slice(0, 30)}"`);
      const el: XmlElement = { name, attributes, children: [], text: '', line };
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) fail(`second root element <${name}>`);
      else root = el;
      if (!selfClosing) stack.push(el);
      advance(k + 1);
    }
  }
  if (stack.length) throw new Error(`XML: element <${stack[stack.length - 1].name}> (line ${stack[stack.length - 1].line}) is never closed`);
  if (!root) throw new Error('XML: no root element');
  return root;
}

/** The first child element with this name, or undefined. */
export function xmlChild(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** Every child element with this name. */
export function xmlChildren(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** The trimmed text of the first child with this name, or undefined. */
export function xmlChildText(el: XmlElement, name: string): string | undefined {
  const c = xmlChild(el, name);
  return c === undefined ? undefined : c.text.trim();
}
