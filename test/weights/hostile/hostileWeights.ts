/**
 * The hostile weight files of issue 12, items 4-5, rebuilt byte by byte. Each case is a small
 * input that used to cost seconds-to-minutes and gigabytes (or crash the process); the tests
 * run each in its own child process (runHostileCase.ts) with a time and memory limit.
 */
import { readPytorchStateDict } from '../../../src/weights/readPytorchStateDict';
import { f32Bytes, PickleWriter, torchZip } from './pickleWriter';

export interface HostileCase {
  /** What the input is and what it used to do. */
  about: string;
  /** The hostile bytes. */
  input(): Uint8Array;
  /** The clear error the loader must now give. */
  expect: RegExp;
}

/**
 * A list nested `levels` deep where every level holds its child twice through the memo:
 * 2^levels leaves in a few bytes per level.
 */
function sharedNest(w: PickleWriter, levels: number, memoBase: number): PickleWriter {
  w.emptyList().put(memoBase).pop();
  for (let i = 0; i < levels; i++) {
    w.mark().get(memoBase + i).get(memoBase + i).list().put(memoBase + i + 1);
    if (i < levels - 1) w.pop();
  }
  return w;
}

/** A zip .pth with one tensor whose storage offset is pushed by `offset`. */
function tensorWithOffset(offset: (w: PickleWriter) => void): Uint8Array {
  const w = new PickleWriter().proto(2).emptyDict().str('w');
  w.tensor('0', 1, [1], [1], offset).setitem().stop();
  return torchZip(w.bytes(), { '0': f32Bytes([1]) });
}

/** A zip .pth with one tensor of `shape`/`stride` over a 1-element storage. */
function expandedTensor(shape: number[], stride: number[]): Uint8Array {
  const w = new PickleWriter().proto(2).emptyDict().str('w');
  w.tensor('0', 1, shape, stride).setitem().stop();
  return torchZip(w.bytes(), { '0': f32Bytes([0.5]) });
}

export const HOSTILE_WEIGHTS: Record<string, HostileCase> = {
  'memo-expansion-message': {
    about: 'a 24-level memo-shared list as a storage offset: its 2^24-leaf text went into the error message',
    input: () => tensorWithOffset((w) => sharedNest(w, 24, 100)),
    expect: /storage offset is not an integer \(list/,
  },
  'memo-expansion-pid': {
    about: 'a 26-level memo-shared list as a persistent id: JSON.stringify expanded it in full',
    input: () => {
      const w = new PickleWriter().proto(2);
      sharedNest(w, 26, 100).binpersid().stop();
      return torchZip(w.bytes());
    },
    expect: /unsupported persistent id in \.pth \(list/,
  },
  'long4-1mb': {
    about: 'a LONG4 integer of 1 MB (superlinear BigInt parsing)',
    input: () => torchZip(new PickleWriter().proto(2).long4(1 << 20).stop().bytes()),
    expect: /integer of 1048576 bytes .*refused/,
  },
  'long-text-1m-digits': {
    about: 'a text LONG of a million digits',
    input: () => torchZip(new PickleWriter().proto(2).longText(1_000_000).stop().bytes()),
    expect: /integer of 1000000 digits .*refused/,
  },
  'stride0-1gb': {
    about: 'a stride-0 view of a 1-element storage with 2^28 elements (1 GB of float32)',
    input: () => expandedTensor([1 << 28], [0]),
    expect: /tensor 'w'.*268435456 elements.*storage of 1 element.*allowExpandedViews/,
  },
  'shape-2^32': {
    about: 'a [65536, 65536] stride-0 tensor over one element (2^32 elements, 16 GB)',
    input: () => expandedTensor([65536, 65536], [0, 0]),
    expect: /tensor 'w'.*4294967296 elements.*storage of 1 element/,
  },
  'deep-nesting': {
    about: 'a tuple nested 200,000 deep (was a bare "Maximum call stack size exceeded")',
    input: () => tensorWithOffset((w) => {
      w.none();
      for (let i = 0; i < 200_000; i++) w.tuple1();
    }),
    expect: /nested deeper than \d+ levels/,
  },
  'shared-reduce': {
    about: 'OrderedDict(...) called 60,000 times on one memo-shared list of 60,000 pairs',
    input: () => {
      const n = 60_000;
      const w = new PickleWriter().proto(2).emptyList().put(0).mark();
      for (let i = 0; i < n; i++) w.int(i).int(i).tuple2();
      w.appends().pop().global('collections', 'OrderedDict').put(1).pop().emptyList();
      for (let i = 0; i < n; i++) w.get(1).get(0).tuple1().reduce().append();
      return torchZip(w.stop().bytes());
    },
    expect: /pickle work budget exceeded/,
  },
  'shared-tensor': {
    about: 'one 1 MB tensor under 20,000 names through the memo (20 GB once materialised)',
    input: () => {
      const n = 20_000;
      const numel = 1 << 18;
      const w = new PickleWriter().proto(2).emptyDict().str('t0');
      w.tensor('0', numel, [numel], [1]).put(0).setitem();
      for (let i = 1; i < n; i++) w.str(`t${i}`).get(0).setitem();
      return torchZip(w.stop().bytes(), { '0': new Uint8Array(4 * numel) });
    },
    expect: /output budget/,
  },
};

/** Run the loader on a case; what every child process does. */
export function loadHostile(bytes: Uint8Array): unknown {
  return readPytorchStateDict(bytes);
}
