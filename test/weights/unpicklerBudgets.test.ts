/**
 * Issue 12 item 4: the unpickler's budgets, on hand-made pickles (the hostile cases that need a
 * process of their own are in hostileWeights.test.ts): the limits refuse what they should,
 * accept what real files need, and the options that relax them work.
 */
import { readPytorchStateDict } from '../../src/weights/readPytorchStateDict';
import { unpickle } from '../../src/weights/pytorch/safeUnpickler';
import { describePickled, PyDict } from '../../src/weights/pytorch/pickleValues';
import { f32Bytes, PickleWriter, torchZip } from './hostile/pickleWriter';

const plainHooks = {
  resolveGlobal: () => undefined,
  call: () => {
    throw new Error('no calls');
  },
};

/** A one-tensor .pth over a 3-element storage [1, 2, 3]. */
function oneTensor(shape: number[], stride: number[], offset = 0): Uint8Array {
  const w = new PickleWriter().proto(2).emptyDict().str('t');
  w.tensor('0', 3, shape, stride, offset).setitem().stop();
  return torchZip(w.bytes(), { '0': f32Bytes([1, 2, 3]) });
}

describe('tensor materialisation is bounded by its storage unless the caller opts in', () => {
  test('a stride-0 view larger than its storage is refused by default, read with allowExpandedViews', () => {
    const bytes = oneTensor([2, 4], [1, 0]);
    expect(() => readPytorchStateDict(bytes)).toThrow(/tensor 't' \(shape \[2,4\], stride \[1,0\]\) has 8 elements but its storage of 3 elements holds fewer/);
    const t = readPytorchStateDict(bytes, { allowExpandedViews: true }).get('t')!;
    expect(Array.from(t.data as Float32Array)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });

  test('a stride-0 view within its storage size reads without the option (torch keeps such views)', () => {
    expect(Array.from(readPytorchStateDict(oneTensor([3], [0], 1)).get('t')!.data as Float32Array)).toEqual([2, 2, 2]);
  });

  test('maxOutputBytes bounds the total of all tensors', () => {
    const w = new PickleWriter().proto(2).emptyDict();
    w.str('a').tensor('0', 3, [3], [1]).put(0).setitem().str('b').get(0).setitem().str('c').get(0).setitem().stop();
    const bytes = torchZip(w.bytes(), { '0': f32Bytes([1, 2, 3]) });
    expect(readPytorchStateDict(bytes).size).toBe(3);
    expect(() => readPytorchStateDict(bytes, { maxOutputBytes: 30 })).toThrow(/need more than 30 bytes once materialised \(at 'c'/);
  });
});

describe('unpickler limits', () => {
  test('integers: the torch legacy magic (10 bytes) reads; 33 bytes are refused; the limit can be raised', () => {
    const magic = new PickleWriter().proto(2).raw(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).stop().bytes();
    expect(unpickle(magic, 0, plainHooks).value).toBe(0x1950a86a20f9469cfc6cn);
    const big = new PickleWriter().proto(2).raw(0x8a, 33, ...new Array(33).fill(1)).stop().bytes();
    expect(() => unpickle(big, 0, plainHooks)).toThrow(/integer of 33 bytes at offset 2 is larger than the 32-byte limit/);
    expect(typeof unpickle(big, 0, plainHooks, { maxIntegerBytes: 64 }).value).toBe('bigint');
    expect(() => unpickle(new PickleWriter().raw(0x49, ...Buffer.from('12x\n')).stop().bytes(), 0, plainHooks)).toThrow(/'12x' at offset 0 is not an integer/);
  });

  test('nesting: 200 levels read, 300 are refused with a clear error, maxDepth raises it', () => {
    const nested = (n: number): Uint8Array => {
      const w = new PickleWriter().none();
      for (let i = 0; i < n; i++) w.tuple1();
      return w.stop().bytes();
    };
    expect(Array.isArray(unpickle(nested(200), 0, plainHooks).value)).toBe(true);
    expect(() => unpickle(nested(300), 0, plainHooks)).toThrow(/nested deeper than 256 levels at offset 257/);
    expect(Array.isArray(unpickle(nested(300), 0, plainHooks, { maxDepth: 400 }).value)).toBe(true);
  });

  test('nesting through APPEND into an existing list counts too', () => {
    const w = new PickleWriter().emptyList();
    for (let i = 0; i < 300; i++) w.emptyList().put(i).pop();
    // list_i = [list_{i-1}] built by appends on memoized lists
    for (let i = 1; i < 300; i++) w.get(i).get(i - 1).append().pop();
    w.get(299).append().stop();
    expect(() => unpickle(w.bytes(), 0, plainHooks)).toThrow(/nested deeper than 256 levels/);
  });

  test('APPENDS of 300,000 items (push(...items) overflowed the stack)', () => {
    const w = new PickleWriter().emptyList().mark();
    for (let i = 0; i < 300_000; i++) w.none();
    const v = unpickle(w.appends().stop().bytes(), 0, plainHooks).value as unknown[];
    expect(v.length).toBe(300_000);
  });

  test('work budget: repeated calls on a memo-shared list are refused; workPerByte raises it', () => {
    const hooks = { resolveGlobal: (m: string, n: string) => `${m}.${n}`, call: (_f: unknown, a: unknown[]) => (a[0] as unknown[]).length };
    const w = new PickleWriter().emptyList().put(0).mark();
    for (let i = 0; i < 20_000; i++) w.none();
    w.appends().pop().global('m', 'f').put(1).pop();
    for (let i = 0; i < 400; i++) w.get(1).get(0).tuple1().reduce().pop();
    const bytes = w.none().stop().bytes();
    expect(() => unpickle(bytes, 0, hooks)).toThrow(/pickle work budget exceeded at offset \d+ \(\d+ units for \d+ bytes\)/);
    expect(unpickle(bytes, 0, hooks, { workPerByte: 2000 }).value).toBe(null);
  });

  test('memo-shared and cyclic values are described in bounded length', () => {
    const a: unknown[] = [];
    a.push(a, a);
    const d = new PyDict();
    d.set('x'.repeat(500), a);
    const s = describePickled([d, a, 2n ** 300n, 'y'.repeat(1000)]);
    expect(s.length).toBeLessThan(400);
    expect(s).toMatch(/^list of 4 items: \[dict of 1 item: \{'x+'\.\.\.\(500 chars\): list of 2 items\}, list of 2 items: \[list of 2 items, list of 2 items\], \d+\.\.\.\(91 digits\), 'y+'\.\.\.\(1000 chars\)\]$/);
  });
});

describe('found by fuzzing', () => {
  test('a BINSTRING with a negative length is an error, not a read before the start (was a TypeError)', () => {
    const bytes = new PickleWriter().proto(2).raw(0x54, 0xf0, 0xff, 0xff, 0xff).stop().bytes();
    expect(() => unpickle(bytes, 0, plainHooks)).toThrow(/negative length -16 for data at offset 2/);
  });
});
