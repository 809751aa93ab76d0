/**
 * A small, SAFE reader of Python pickles (protocols 0..5, the binary opcodes state dicts and
 * checkpoints use). It never executes anything: a GLOBAL is resolved only through the caller's
 * allow-list, and REDUCE / BUILD / NEWOBJ only "call" what that allow-list returned.
 * Any other global is an error: `unsupported pickle global 'module.name': a .pth must not
 * execute code`.
 */
import { PyDict, PyGlobal } from './pickleValues';

/** Hooks that give meaning to the few globals and persistent ids a caller accepts. */
export interface UnpickleHooks {
  /**
   * Resolve `module.name` to a value (usually a `PyGlobal` marker) or return `undefined` to
   * reject it.
   */
  resolveGlobal(module: string, name: string): unknown;
  /** Apply an allowed callable (REDUCE / NEWOBJ) to its arguments. */
  call(fn: unknown, args: unknown[]): unknown;
  /** BINPERSID / PERSID: turn a persistent id into a value (e.g. a storage reference). */
  persistentLoad?(pid: unknown): unknown;
  /** BUILD on an object that is not a dict (return the object to keep on the stack). */
  build?(obj: unknown, state: unknown): unknown;
}

/** Result of one `unpickle` call: the object and where the pickle ended (after STOP). */
export interface UnpickleResult {
  value: unknown;
  end: number;
}

const MARK = Symbol('MARK');

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Error for an unsupported global: the one message users will see for a malicious file. */
export function unsupportedGlobalError(module: string, name: string): Error {
  return new Error(`unsupported pickle global '${module}.${name}': a .pth must not execute code`);
}

/**
 * Read one pickle from `bytes` starting at `offset`. Returns the unpickled value and the
 * offset just after its STOP opcode (legacy .pth files hold several pickles back to back).
 */
export function unpickle(bytes: Uint8Array, offset: number, hooks: UnpickleHooks): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = offset;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number, what: string): void => {
    if (pos + n > bytes.length) {
      throw new Error(`pickle truncated: ${what} needs ${n} bytes at offset ${pos}, only ${bytes.length - pos} left`);
    }
  };
  const u8 = (): number => {
    need(1, 'argument');
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2, 'argument');
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4, 'argument');
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4, 'argument');
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8, 'argument');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`pickle length ${v} too large`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n, 'data');
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    let end = pos;
    while (end < bytes.length && bytes[end] !== 0x0a) end++;
    if (end >= bytes.length) throw new Error(`pickle truncated: unterminated text line at offset ${pos}`);
    const s = textDecoder.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new Error(`malformed pickle: stack underflow at offset ${pos - 1}`);
    const v = stack.pop();
    if (v === MARK) throw new Error(`malformed pickle: unexpected MARK at offset ${pos - 1}`);
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new Error(`malformed pickle: empty stack at offset ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new Error(`malformed pickle: no MARK at offset ${pos - 1}`);
    const items = stack.splice(m);
    items.shift(); // the MARK itself
    return items;
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) throw new Error(`malformed pickle: memo key ${i} not found`);
    return memo.get(i);
  };
  const global = (module: string, name: string): unknown => {
    const v = hooks.resolveGlobal(module, name);
    if (v === undefined) throw unsupportedGlobalError(module, name);
    return v;
  };
  const setItems = (dict: unknown, kv: unknown[]): void => {
    if (!(dict instanceof PyDict)) throw new Error('malformed pickle: SETITEM(S) on a non-dict');
    if (kv.length % 2 !== 0) throw new Error('malformed pickle: odd number of items in SETITEMS');
    for (let i = 0; i < kv.length; i += 2) dict.set(kv[i], kv[i + 1]);
  };
  const append = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) throw new Error('malformed pickle: APPEND(S) on a non-list');
    list.push(...items);
  };

  for (;;) {
    if (pos >= bytes.length) throw new Error(`pickle truncated: no STOP opcode (started at offset ${offset})`);
    const opPos = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new Error(`unsupported pickle protocol ${bytes[pos - 1]}`);
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP '.'
        return { value: pop(), end: pos };
      case 0x28: // MARK '('
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x30: // POP '0'
        if (stack.length && stack[stack.length - 1] === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK '1'
        popMark();
        break;
      case 0x32: // DUP '2'
        stack.push(top());
        break;
      // --- constants
      case 0x4e: // NONE 'N'
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      // --- numbers
      case 0x4b: // BININT1 'K'
        stack.push(u8());
        break;
      case 0x4d: // BININT2 'M'
        stack.push(u16());
        break;
      case 0x4a: // BININT 'J'
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(readLong(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(readLong(take(u32())));
        break;
      case 0x49: { // INT 'I' (text)
        const s = line().trim();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else stack.push(parseIntText(s));
        break;
      }
      case 0x4c: // LONG 'L' (text)
        stack.push(parseIntText(line().trim().replace(/L$/, '')));
        break;
      case 0x47: // BINFLOAT 'G' (big-endian double)
        need(8, 'BINFLOAT');
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: // FLOAT 'F' (text)
        stack.push(parseFloat(line()));
        break;
      // --- strings and bytes
      case 0x58: // BINUNICODE 'X'
        stack.push(textDecoder.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(textDecoder.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(textDecoder.decode(take(u64())));
        break;
      case 0x55: // SHORT_BINSTRING 'U' (py2 str)
        stack.push(latin1(take(u8())));
        break;
      case 0x54: // BINSTRING 'T'
        stack.push(latin1(take(i32())));
        break;
      case 0x43: // SHORT_BINBYTES 'C'
        stack.push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES 'B'
        stack.push(take(u32()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      // --- containers
      case 0x7d: // EMPTY_DICT '}'
        stack.push(new PyDict());
        break;
      case 0x64: { // DICT 'd'
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x5d: // EMPTY_LIST ']'
        stack.push([]);
        break;
      case 0x6c: // LIST 'l'
        stack.push(popMark());
        break;
      case 0x29: // EMPTY_TUPLE ')'
        stack.push([]);
        break;
      case 0x74: // TUPLE 't'
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x73: { // SETITEM 's'
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS 'u'
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: { // APPEND 'a'
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS 'e'
        const items = popMark();
        append(top(), items);
        break;
      }
      // --- memo
      case 0x71: // BINPUT 'q'
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT 'r'
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT 'p'
        memo.set(parseInt(line(), 10), top());
        break;
      case 0x68: // BINGET 'h'
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET 'j'
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET 'g'
        stack.push(memoGet(parseInt(line(), 10)));
        break;
      // --- globals and calls (allow-listed only)
      case 0x63: { // GLOBAL 'c'
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new Error('malformed pickle: STACK_GLOBAL needs two strings');
        }
        stack.push(global(module, name));
        break;
      }
      case 0x52: { // REDUCE 'R'
        const args = pop();
        const fn = pop();
        if (!Array.isArray(args)) throw new Error('malformed pickle: REDUCE arguments are not a tuple');
        stack.push(hooks.call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!Array.isArray(args)) throw new Error('malformed pickle: NEWOBJ arguments are not a tuple');
        stack.push(hooks.call(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        if (!Array.isArray(args)) throw new Error('malformed pickle: NEWOBJ_EX arguments are not a tuple');
        stack.push(hooks.call(cls, args));
        break;
      }
      case 0x62: { // BUILD 'b'
        const state = pop();
        const obj = pop();
        if (obj instanceof PyDict) {
          obj.attributes = state;
          stack.push(obj);
        } else if (hooks.build) {
          stack.push(hooks.build(obj, state));
        } else {
          throw new Error('malformed pickle: BUILD on an unsupported object');
        }
        break;
      }
      case 0x51: { // BINPERSID 'Q'
        const pid = pop();
        if (!hooks.persistentLoad) throw new Error('pickle uses persistent ids but none are expected here');
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      case 0x50: { // PERSID 'P'
        const pid = line();
        if (!hooks.persistentLoad) throw new Error('pickle uses persistent ids but none are expected here');
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      case 0x69: // INST 'i'
      case 0x6f: // OBJ 'o'
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw new Error(`unsupported pickle opcode 0x${op.toString(16)} at offset ${opPos}: not used by state dicts`);
      default:
        throw new Error(`invalid pickle opcode 0x${op.toString(16)} at offset ${opPos} (corrupt or not a pickle)`);
    }
  }
}

/** Little-endian two's complement integer of any length; a number when it is safe. */
function readLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseIntText(s: string): number | bigint {
  const v = BigInt(s);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

