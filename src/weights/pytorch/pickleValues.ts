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
