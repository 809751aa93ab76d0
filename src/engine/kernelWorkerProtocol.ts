/**
 * The shared control block between a {@link KernelThreadPool} and its workers, and the source
 * of the worker (a plain JavaScript string, run by `worker_threads` with `eval: true` in Node
 * or from a `blob:` URL in browsers, so no separate file has to ship next to the bundle).
 *
 * The control block is an Int32Array over a SharedArrayBuffer:
 *   [DONE]        futex word the caller sleeps on; every finished chunk adds 1
 *   [MAIN_SLEEP]  1 while the caller is (about to be) blocked in Atomics.wait on DONE
 *   [STOP]        1 once the pool is disposed: workers leave their loop
 *   [HOLD]        1 while the caller runs a sequence of kernels (one inference): idle workers
 *                 keep spinning instead of sleeping, so each of the ~100 dispatches of an
 *                 inference costs a store, not a futex wake
 *   then one SLOT_INTS slot per worker (offset HEADER_INTS + i * SLOT_INTS):
 *   +SEQ        job sequence number of this worker (the worker sleeps on it; the caller bumps it)
 *   +KERNEL     kernel index (into the names list sent at start)
 *   +PARAMS     byte offset of the parameter block
 *   +R0, +R1    the chunk [r0, r1)
 *   +DONE_SEQ   last job sequence number the worker finished
 *   +ERR_SEQ    last job sequence number that failed (message in the worker's text area)
 *   +STATE      WORKER_STARTING / READY / FAILED / GONE
 *   +SLEEP      1 while the worker is (about to be) blocked in Atomics.wait on SEQ
 *   +MSG_LEN    length of the message in the text area
 *   +CLAIM      2q when job q is posted; the worker sets 2q + 1 (compare-exchange, with the q it
 *               read from SEQ, so a stale q can never claim a newer job) to run it, or the caller
 *               sets -1 to run the chunk itself when the worker has not started it by the time the
 *               caller's own chunk is done (worker asleep, queued on a busy core, or dead).
 *               Sequence numbers wrap at 2^30 so 2q + 1 fits an int32.
 * After the int area, each worker has MSG_CHARS UTF-16 code units for an error message.
 *
 * Waking is conditional: a side notifies only when the other announced it may sleep (the
 * `SLEEP` / `MAIN_SLEEP` flags, written before the wait, which re-checks the value atomically),
 * so back-to-back jobs cost a few atomic stores and no futex calls.
 *
 * Spinning is only worth it while the other side is RUNNING on another core. A thread woken by
 * Atomics.notify is often queued on the waker's core (wake-affine scheduling; always on small
 * VMs), and spinning there just delays it by the whole spin. So each side spins only on evidence
 * that its partner runs: the caller takes over chunks nobody CLAIMed by the time its own chunk
 * is done and spins only for workers that are running theirs; a worker that had to wake the
 * caller keeps spinning for the next job only once it sees the caller awake (MAIN_SLEEP
 * cleared).
 */

export const CTL = {
  DONE: 0,
  MAIN_SLEEP: 1,
  STOP: 2,
  HOLD: 3,
} as const;

export const HEADER_INTS = 16;

export const SLOT = {
  SEQ: 0,
  KERNEL: 1,
  PARAMS: 2,
  R0: 3,
  R1: 4,
  DONE_SEQ: 5,
  ERR_SEQ: 6,
  STATE: 7,
  SLEEP: 8,
  MSG_LEN: 9,
  CLAIM: 10,
} as const;

/** Ints per worker slot (padded to 64 bytes so slots do not share a cache line). */
export const SLOT_INTS = 16;

/** UTF-16 code units of the per-worker error message. */
export const MSG_CHARS = 512;

export const WORKER_STARTING = 0;
export const WORKER_READY = 1;
export const WORKER_FAILED = 2;
export const WORKER_GONE = 3;

/** Bytes of the control block for `workers` workers. */
export function controlBlockBytes(workers: number): number {
  return (HEADER_INTS + workers * SLOT_INTS) * 4 + workers * MSG_CHARS * 2;
}

/** Byte offset of worker `i`'s message area in the control block. */
export function messageOffset(workers: number, i: number): number {
  return (HEADER_INTS + workers * SLOT_INTS) * 4 + i * MSG_CHARS * 2;
}

/** What the worker receives once, at start. */
export interface KernelWorkerStart {
  /** The compiled (threaded) kernel module. */
  module: WebAssembly.Module;
  /** The module's shared memory. */
  memory: WebAssembly.Memory;
  /** The control block. */
  control: SharedArrayBuffer;
  /** Number of workers in the pool (for the layout). */
  workers: number;
  /** This worker's index. */
  index: number;
  /** Byte offset of the top of this worker's private stack. */
  stackTop: number;
  /** Exported kernel names, in index order. */
  names: string[];
  /** How long an idle worker spins before it sleeps, ms. */
  spinMs: number;
  /** After waking the caller: how long to wait for it to show up running before sleeping, ms. */
  wakeGraceMs: number;
  /** Testing only: sleep this long after claiming each chunk (simulates a stuck worker), ms. */
  debugDelayMs: number;
}

/** Reads worker `i`'s error message from the control block. */
export function readWorkerMessage(control: SharedArrayBuffer, workers: number, i: number): string {
  const ctl = new Int32Array(control);
  const n = Math.min(Atomics.load(ctl, HEADER_INTS + i * SLOT_INTS + SLOT.MSG_LEN), MSG_CHARS);
  const text = new Uint16Array(control, messageOffset(workers, i), MSG_CHARS);
  let s = '';
  for (let k = 0; k < n; k++) s += String.fromCharCode(text[k]);
  return s;
}

/**
 * The worker's JavaScript source. It runs in Node (`worker_threads`, eval) and in browsers
 * (dedicated Worker), takes one start message ({@link KernelWorkerStart}), instantiates the
 * module on the shared memory, moves its `__stack_pointer` to its private stack, marks itself
 * ready and then serves jobs until STOP.
 */
export function kernelWorkerSource(): string {
  const C = {
    DONE: CTL.DONE,
    MAIN_SLEEP: CTL.MAIN_SLEEP,
    STOP: CTL.STOP,
    HOLD: CTL.HOLD,
    HEADER: HEADER_INTS,
    SLOT: SLOT_INTS,
    MSG_CHARS,
    READY: WORKER_READY,
    FAILED: WORKER_FAILED,
    ...Object.fromEntries(Object.entries(SLOT).map(([k, v]) => [`S_${k}`, v])),
  };
  return `'use strict';
(function () {
  var C = ${JSON.stringify(C)};
  var isNode = typeof process !== 'undefined' && process && process.versions && typeof process.versions.node === 'string';
  var port = isNode ? require('worker_threads').parentPort : null;
  var now = (typeof performance !== 'undefined' && performance.now) ? function () { return performance.now(); } : function () { return Date.now(); };
  function post(m) { if (port) port.postMessage(m); else self.postMessage(m); }
  function start(msg) {
    var ctl = new Int32Array(msg.control);
    var base = C.HEADER + msg.index * C.SLOT;
    var text = new Uint16Array(msg.control, (C.HEADER + msg.workers * C.SLOT) * 4 + msg.index * C.MSG_CHARS * 2, C.MSG_CHARS);
    function record(e) {
      var s = String(e && e.stack ? (e.name + ': ' + e.message) : e);
      var n = Math.min(s.length, C.MSG_CHARS);
      for (var k = 0; k < n; k++) text[k] = s.charCodeAt(k);
      Atomics.store(ctl, base + C.S_MSG_LEN, n);
    }
    function fail(e) {
      record(e);
      Atomics.store(ctl, base + C.S_STATE, C.FAILED);
      Atomics.add(ctl, C.DONE, 1);
      Atomics.notify(ctl, C.DONE);
      post({ type: 'failed', message: String(e && e.message || e) });
    }
    var fns;
    try {
      var inst = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } });
      var ex = inst.exports;
      if (!(ex.__stack_pointer instanceof WebAssembly.Global)) throw new Error('the kernel module does not export __stack_pointer');
      ex.__stack_pointer.value = msg.stackTop;
      fns = msg.names.map(function (n) { return ex[n]; });
    } catch (e) {
      fail(e);
      return;
    }
    // Read the sequence number BEFORE announcing readiness: the caller bumps it only after.
    var last = Atomics.load(ctl, base + C.S_SEQ);
    var spinMs = msg.spinMs, wakeGraceMs = Math.min(msg.wakeGraceMs, spinMs);
    var watchMain = false;
    Atomics.store(ctl, base + C.S_STATE, C.READY);
    post({ type: 'ready' });
    try {
      for (;;) {
        var s = Atomics.load(ctl, base + C.S_SEQ);
        if (s === last) {
          var t0 = now(), n = 0;
          while ((s = Atomics.load(ctl, base + C.S_SEQ)) === last) {
            if ((++n & 63) === 0) {
              var dt = now() - t0;
              if (watchMain && Atomics.load(ctl, C.MAIN_SLEEP) === 0) watchMain = false;
              if (Atomics.load(ctl, C.STOP) !== 0) return;
              if ((dt >= spinMs || (watchMain && dt >= wakeGraceMs)) && Atomics.load(ctl, C.HOLD) === 0) {
                Atomics.store(ctl, base + C.S_SLEEP, 1);
                Atomics.wait(ctl, base + C.S_SEQ, last);
                Atomics.store(ctl, base + C.S_SLEEP, 0);
                watchMain = false;
                t0 = now();
              }
            }
          }
        }
        if (Atomics.load(ctl, C.STOP) !== 0) return;
        last = s;
        // The caller may have taken this chunk over already.
        if (Atomics.compareExchange(ctl, base + C.S_CLAIM, 2 * s, 2 * s + 1) !== 2 * s) continue;
        if (msg.debugDelayMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msg.debugDelayMs);
        var k = Atomics.load(ctl, base + C.S_KERNEL);
        try {
          var f = fns[k];
          if (typeof f !== 'function') throw new Error('no kernel with index ' + k + ' in the worker');
          f(Atomics.load(ctl, base + C.S_PARAMS), Atomics.load(ctl, base + C.S_R0), Atomics.load(ctl, base + C.S_R1));
        } catch (e) {
          record(e);
          Atomics.store(ctl, base + C.S_ERR_SEQ, s);
        }
        Atomics.store(ctl, base + C.S_DONE_SEQ, s);
        Atomics.add(ctl, C.DONE, 1);
        watchMain = false;
        if (Atomics.load(ctl, C.MAIN_SLEEP) !== 0) {
          Atomics.notify(ctl, C.DONE);
          watchMain = true;
        }
      }
    } catch (e) {
      fail(e);
    }
  }
  if (port) port.once('message', start);
  else self.onmessage = function (ev) { self.onmessage = null; start(ev.data); };
})();
`;
}
