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

/**
 * Budgets that keep one pickle's cost proportional to its size. Every value can be raised by
 * the caller; the defaults are far above what any real state dict or checkpoint needs.
 */
export interface UnpickleLimits {
  /** Deepest nesting of containers (lists, tuples, dicts, objects built by hooks). Default 256. */
  maxDepth?: number;
  /** Largest integer: bytes of a LONG1/LONG4 payload. Default 32 (256 bits). */
  maxIntegerBytes?: number;
  /** Largest text integer (INT/LONG opcodes), in characters. Default 80. */
  maxIntegerDigits?: number;
  /**
   * Work allowed per byte of pickle, on top of a fixed 1 Mi units. One unit is one opcode or
   * one element a container operation or an allowed call touches (a call on a memo-shared list
   * of a million items costs a million units however few bytes invoked it). Default 8; real
   * state dicts and checkpoints use about 2.
   */
  workPerByte?: number;
}

/** Default {@link UnpickleLimits}. */
export const DEFAULT_UNPICKLE_LIMITS: Required<UnpickleLimits> = {
  maxDepth: 256,
  maxIntegerBytes: 32,
  maxIntegerDigits: 80,
  workPerByte: 8,
};

const BASE_WORK = 1024 * 1024;

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
 *
 * Cost is bounded by `limits`: memo references stay shared (nothing is ever copied or expanded
 * by reference count), huge integers are refused before they are parsed, nesting deeper than
 * `maxDepth` is an error (so any recursive consumer of the result is safe), and the total work,
 * including what allowed calls do with their arguments, is proportional to the pickle's size.
 */
export function unpickle(bytes: Uint8Array, offset: number, hooks: UnpickleHooks, limits: UnpickleLimits = {}): UnpickleResult {
  const lim = { ...DEFAULT_UNPICKLE_LIMITS, ...limits };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = offset;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  // Nesting depth of every container built so far (scalars are 0, absent objects 1). A Map,
  // not a WeakMap: at most one entry per opcode, freed on return, and V8 collects garbage
  // around a large WeakMap much more slowly.
  const depths = new Map<object, number>();
  const workBudget = BASE_WORK + lim.workPerByte * Math.max(0, bytes.length - offset);
  let work = 0;
  let opPos = offset;

  const charge = (units: number): void => {
    work += units;
    if (work > workBudget) {
      throw new Error(
        `pickle work budget exceeded at offset ${opPos} (${workBudget} units for ${bytes.length - offset} bytes): ` +
          'memo-shared data is being copied or iterated over and over; not a plain state dict',
      );
    }
  };
  const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? depths.get(v) ?? 1 : 0);
  /** Record that `container` holds `items` (new or added); refuse nesting beyond the limit. */
  const nest = <T>(container: T, items: readonly unknown[]): T => {
    if (typeof container !== 'object' || container === null) return container;
    let d = depths.get(container) ?? 1;
    for (const x of items) {
      const dx = depthOf(x) + 1;
      if (dx > d) d = dx;
    }
    if (d > lim.maxDepth) {
      throw new Error(
        `pickle nested deeper than ${lim.maxDepth} levels at offset ${opPos} (a state dict needs a handful): refused`,
      );
    }
    depths.set(container, d);
    return container;
  };
  /**
   * Elements an allowed call may touch in its arguments: two levels, stops once over budget.
   * Four units each: a call usually builds something per element (an OrderedDict entry).
   */
  const chargeArgs = (v: unknown, levels: number): void => {
    if (levels <= 0) return;
    if (Array.isArray(v)) {
      charge(4 * v.length);
      for (const x of v) chargeArgs(x, levels - 1);
    } else if (v instanceof PyDict) {
      charge(4 * v.map.size);
      for (const x of v.map.values()) chargeArgs(x, levels - 1);
    }
  };
  const checkIntegerBytes = (n: number): void => {
    if (n > lim.maxIntegerBytes) {
      throw new Error(
        `pickle integer of ${n} bytes at offset ${opPos} is larger than the ${lim.maxIntegerBytes}-byte limit: refused ` +
          '(no state dict holds such a number)',
      );
    }
  };
  const intText = (s: string): number | bigint => {
    if (s.length > lim.maxIntegerDigits) {
      throw new Error(
        `pickle integer of ${s.length} digits at offset ${opPos} is longer than the ${lim.maxIntegerDigits}-digit limit: refused`,
      );
    }
    return parseIntText(s, opPos);
  };

  const need = (n: number, what: string): void => {
    if (n < 0) throw new Error(`malformed pickle: negative length ${n} for ${what} at offset ${opPos}`);
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
    charge(kv.length);
    nest(dict, kv);
    for (let i = 0; i < kv.length; i += 2) dict.set(kv[i], kv[i + 1]);
  };
  const append = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) throw new Error('malformed pickle: APPEND(S) on a non-list');
    charge(items.length);
    nest(list, items);
    // one by one: push(...items) overflows the call stack for a few hundred thousand items
    for (const x of items) list.push(x);
  };

  for (;;) {
    if (pos >= bytes.length) throw new Error(`pickle truncated: no STOP opcode (started at offset ${offset})`);
    opPos = pos;
    charge(1);
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
      case 0x8a: { // LONG1
        const n = u8();
        checkIntegerBytes(n);
        stack.push(readLong(take(n)));
        break;
      }
      case 0x8b: { // LONG4
        const n = u32();
        checkIntegerBytes(n);
        stack.push(readLong(take(n)));
        break;
      }
      case 0x49: { // INT 'I' (text)
        const s = line().trim();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else stack.push(intText(s));
        break;
      }
      case 0x4c: // LONG 'L' (text)
        stack.push(intText(line().trim().replace(/L$/, '')));
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
      case 0x6c: { // LIST 'l'
        const items = popMark();
        charge(items.length);
        stack.push(nest(items, items));
        break;
      }
      case 0x29: // EMPTY_TUPLE ')'
        stack.push([]);
        break;
      case 0x74: { // TUPLE 't'
        const items = popMark();
        charge(items.length);
        stack.push(nest(items, items));
        break;
      }
      case 0x85: { // TUPLE1
        const t = [pop()];
        stack.push(nest(t, t));
        break;
      }
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        const t = [a, b];
        stack.push(nest(t, t));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        const t = [a, b, c];
        stack.push(nest(t, t));
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
      case 0x91: { // FROZENSET
        const items = popMark();
        charge(items.length);
        stack.push(nest(items, items));
        break;
      }
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
        memo.set(memoIndex(line(), opPos), top());
        break;
      case 0x68: // BINGET 'h'
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET 'j'
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET 'g'
        stack.push(memoGet(memoIndex(line(), opPos)));
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
        chargeArgs(args, 2);
        stack.push(nest(hooks.call(fn, args), [args]));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!Array.isArray(args)) throw new Error('malformed pickle: NEWOBJ arguments are not a tuple');
        chargeArgs(args, 2);
        stack.push(nest(hooks.call(cls, args), [args]));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!Array.isArray(args)) throw new Error('malformed pickle: NEWOBJ_EX arguments are not a tuple');
        chargeArgs(args, 2);
        chargeArgs(kwargs, 2);
        stack.push(nest(hooks.call(cls, args), [args]));
        break;
      }
      case 0x62: { // BUILD 'b'
        const state = pop();
        const obj = pop();
        chargeArgs(state, 2);
        if (obj instanceof PyDict) {
          obj.attributes = state;
          stack.push(nest(obj, [state]));
        } else if (hooks.build) {
          stack.push(nest(hooks.build(obj, state), [state]));
        } else {
          throw new Error('malformed pickle: BUILD on an unsupported object');
        }
        break;
      }
      case 0x51: { // BINPERSID 'Q'
        const pid = pop();
        if (!hooks.persistentLoad) throw new Error('pickle uses persistent ids but none are expected here');
        chargeArgs(pid, 2);
        stack.push(nest(hooks.persistentLoad(pid), [pid]));
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

function parseIntText(s: string, at: number): number | bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`malformed pickle: '${s.slice(0, 40)}' at offset ${at} is not an integer`);
  const v = BigInt(s);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function memoIndex(s: string, at: number): number {
  const t = s.trim();
  if (!/^\d{1,15}$/.test(t)) throw new Error(`malformed pickle: memo index '${t.slice(0, 40)}' at offset ${at}`);
  return Number(t);
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

