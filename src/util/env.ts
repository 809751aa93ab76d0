/**
 * Where the code runs: Node or a browser, and the process environment when there is one.
 * Browser-safe (no Node module is loaded).
 */

/** The process environment when there is one (Node), else undefined (browser). */
export function processEnv(): Record<string, string | undefined> | undefined {
  return typeof process !== 'undefined' && process && typeof process.env === 'object'
    ? process.env
    : undefined;
}

/** True in Node.js (not in a browser, even with a `process` shim). */
export function isNode(): boolean {
  return (
    typeof process !== 'undefined' &&
    process != null &&
    typeof process.versions === 'object' &&
    process.versions != null &&
    typeof process.versions.node === 'string'
  );
}
