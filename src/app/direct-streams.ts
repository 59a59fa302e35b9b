// Direct streams (`new ReadableStream({ type: "direct", pull(controller) { … } })`, a Bun
// extension): their body is what `pull` writes, and it ends when `pull` returns or its promise
// settles. Read through a reader, Bun 1.4.5 calls `pull` again after each return, so the body never
// ends (a stream that writes "a" gives "aaaa…"). Only Bun's own consumers know better, and a
// ReadableStream cannot say whether it is direct. So, as known-bodies.ts does for Responses, we
// watch them being made: the global ReadableStream is replaced by a constructor that makes the very
// same native stream and notes the underlying source of the direct ones, which the response reader
// then drives itself (DirectSource, src/server/direct-source.ts).
import type { DirectUnderlyingSource } from "../server/direct-source.ts";
import { hiddenField } from "./hidden-field.ts";

const direct = hiddenField<ReadableStream, DirectUnderlyingSource>();
let native: typeof ReadableStream | null = null;

/** Replaces globalThis.ReadableStream (once per process) so that direct streams are noted. */
export function trackDirectStreams(): void {
  if (native !== null) return;
  const Native = globalThis.ReadableStream;
  native = Native;
  function ReadableStream(this: unknown, source?: unknown, strategy?: unknown): globalThis.ReadableStream {
    if (new.target === undefined) return (Native as unknown as (s?: unknown, q?: unknown) => globalThis.ReadableStream)(source, strategy);
    const stream: globalThis.ReadableStream =
      new.target === ReadableStream ? new Native(source as never, strategy as never) : Reflect.construct(Native, [source, strategy], new.target);
    if (source !== null && typeof source === "object" && (source as { type?: unknown }).type === "direct") {
      const pull = (source as { pull?: unknown }).pull;
      if (typeof pull === "function") direct.set(stream, source as DirectUnderlyingSource);
    }
    return stream;
  }
  Object.setPrototypeOf(ReadableStream, Native); // statics (ReadableStream.from) and `extends`
  Object.defineProperty(ReadableStream, "prototype", { value: Native.prototype, writable: false });
  Object.defineProperty(ReadableStream, "length", { value: Native.length });
  Object.defineProperty(Native.prototype, "constructor", { value: ReadableStream, writable: true, configurable: true });
  Object.defineProperty(globalThis, "ReadableStream", { value: ReadableStream, writable: true, enumerable: false, configurable: true });
}

/** Undoes trackDirectStreams() (for tests). */
export function untrackDirectStreams(): void {
  if (native === null) return;
  Object.defineProperty(native.prototype, "constructor", { value: native, writable: true, configurable: true });
  Object.defineProperty(globalThis, "ReadableStream", { value: native, writable: true, enumerable: false, configurable: true });
  native = null;
}

/** The underlying source of a direct stream we saw being made, if `stream` is one and unread. */
export function directSourceOf(stream: ReadableStream): DirectUnderlyingSource | undefined {
  const source = direct.get(stream);
  return source !== undefined && !stream.locked ? source : undefined;
}
