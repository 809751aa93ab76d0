/**
 * Base64 -> bytes in Node (Buffer) and in browsers (atob), for the assets generated into
 * TypeScript modules (wasm kernels, the embedded default model), which bundlers inline as
 * plain strings.
 */
export function decodeBase64(b64: string): Uint8Array {
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (B) return new Uint8Array(B.from(b64, 'base64'));
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
