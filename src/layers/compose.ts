/**
 * Left-to-right function composition, as keras-yolo3's `compose`:
 * `compose(f, g, h)(x) === h(g(f(x)))`.
 */
export function compose<T>(...fns: Array<(x: T) => T>): (x: T) => T {
  if (fns.length === 0) throw new Error('compose needs at least one function');
  return (x: T) => fns.reduce((acc, f) => f(acc), x);
}
