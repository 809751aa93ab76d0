/**
 * `require` for Node-only modules (worker_threads, os, optional peers such as tfjs-node, and
 * our own Node-only files), written so that browser bundlers do not try to resolve or bundle
 * them: the module id is never a literal argument of a visible `require(...)` call.
 */

/** Loads a module by id (or a path relative to this folder); throws when there is no `require`. */
export type ModuleLoader = (id: string) => unknown;

/** The real loader: CommonJS `require` of this file's module. */
export const nodeRequire: ModuleLoader = (id: string) => {
  const req: ((id: string) => unknown) | undefined =
    typeof module !== 'undefined' && module && typeof module.require === 'function'
      ? (module.require.bind(module) as (id: string) => unknown)
      : typeof require === 'function'
        ? require
        : undefined;
  if (!req) throw new Error(`cannot load '${id}': no CommonJS require in this environment`);
  return req(id);
};

/** True when an error from a loader means "the module is not installed" (not "it is broken"). */
export function isModuleNotFound(err: unknown, id: string): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND') {
    // A missing *dependency* of an installed package is a broken install, not an absent one.
    return typeof e.message !== 'string' || e.message.includes(`'${id}'`) || !e.message.includes("'");
  }
  return false;
}
