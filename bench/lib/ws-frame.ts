// A masked WebSocket client frame (RFC 6455 §5.2), FIN set: what the load client and the in-process
// bench send to a server.

export function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + n);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (ext === 0 ? n : ext === 2 ? 126 : 127);
  if (ext === 2) new DataView(out.buffer).setUint16(2, n);
  if (ext === 8) new DataView(out.buffer).setBigUint64(2, BigInt(n));
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, 2 + ext);
  const at = 2 + ext + 4;
  for (let i = 0; i < n; i++) out[at + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}
