/**
 * JavaScript stand-ins for the Python objects a safe unpickler can produce. Nothing here can
 * execute code: a global is only a name, and "calling" it is a lookup in an allow-list.
 */

/** A Python global (`module.name`) that the unpickler allowed; only a name, never code. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * A Python `dict` / `OrderedDict`. Keys are JS primitives (str -> string, int -> number or
 * bigint, None -> null, bool -> boolean); insertion order is kept.
 */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** Attributes set by BUILD (e.g. an OrderedDict state dict's `_metadata`). */
  attributes: unknown = undefined;

  constructor(readonly className: string = 'dict') {}

  set(key: unknown, value: unknown): void {
    this.map.set(key, value);
  }

  get(key: unknown): unknown {
    return this.map.get(key);
  }

  keys(): unknown[] {
    return [...this.map.keys()];
  }
}

/** A marker for a torch dtype object (`torch.float32` ...) met in a pickle. */
export class PyDtype {
  constructor(readonly name: string) {}
}

/** How much of a value {@link describePickled} prints. */
const DESCRIBE_ITEMS = 4;
const DESCRIBE_DEPTH = 2;
const DESCRIBE_STRING = 60;

/**
 * A short, bounded description of an unpickled value for error messages: at most a few items
 * per container, two levels deep, long strings cut. Pickles share sub-objects through the memo,
 * so a few hundred bytes can describe a structure with 2^30 leaves; `String(v)` or
 * `JSON.stringify(v)` would expand it all (minutes, gigabytes), and a cyclic or very deep one
 * would overflow the stack. This never visits more than ~25 nodes.
 */
export function describePickled(v: unknown, depth = DESCRIBE_DEPTH): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') {
    const s = String(v);
    return s.length > DESCRIBE_STRING ? `${s.slice(0, DESCRIBE_STRING)}...(${s.length} digits)` : s;
  }
  if (typeof v === 'string') {
    return v.length > DESCRIBE_STRING ? `'${v.slice(0, DESCRIBE_STRING)}'...(${v.length} chars)` : `'${v}'`;
  }
  if (v instanceof PyGlobal) return v.qualifiedName;
  if (v instanceof PyDtype) return `torch.${v.name}`;
  if (v instanceof Uint8Array) return `bytes of length ${v.length}`;
  if (Array.isArray(v)) {
    const head = `list of ${v.length} item${v.length === 1 ? '' : 's'}`;
    if (depth <= 0 || v.length === 0) return head;
    const items = v.slice(0, DESCRIBE_ITEMS).map((x) => describePickled(x, depth - 1));
    return `${head}: [${items.join(', ')}${v.length > DESCRIBE_ITEMS ? ', ...' : ''}]`;
  }
  if (v instanceof PyDict) {
    const head = `${v.className} of ${v.map.size} item${v.map.size === 1 ? '' : 's'}`;
    if (depth <= 0 || v.map.size === 0) return head;
    const items: string[] = [];
    for (const [k, x] of v.map) {
      if (items.length === DESCRIBE_ITEMS) {
        items.push('...');
        break;
      }
      items.push(`${describePickled(k, 0)}: ${describePickled(x, depth - 1)}`);
    }
    return `${head}: {${items.join(', ')}}`;
  }
  if (typeof v === 'object') {
    // inert records of allowed classes carry their Python class name
    const cls = (v as { className?: unknown }).className;
    if (typeof cls === 'string') return `${cls.length > DESCRIBE_STRING ? `${cls.slice(0, DESCRIBE_STRING)}...` : cls} object`;
    const name = (v as object).constructor?.name;
    return name ? `a ${name}` : 'an object';
  }
  return typeof v;
}

/**
 * An instance of an allow-listed class (e.g. a pickled `nn.Module`): only its class name, the
 * arguments it was created with and the state BUILD gave it (usually the instance `__dict__`).
 * Inert data: nothing of the class is imported or run.
 */
export class PyObject {
  /** BUILD state (the instance `__dict__` for plain Python objects). */
  state: unknown = undefined;

  constructor(readonly className: string, readonly args: unknown[]) {}

  /** An attribute of the instance `__dict__` (undefined when absent). */
  attr(name: string): unknown {
    return this.state instanceof PyDict ? this.state.get(name) : undefined;
  }
}
