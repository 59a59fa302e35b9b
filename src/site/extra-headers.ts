// A site's header rules on a reply: each field given replaces the reply's own of that name (as
// serve-handler's custom headers override its defaults) or is added. A pre-encoded whole response
// (`raw`, `writeRaw`) is set aside for the reply's parts, so only replies that get fields pay.
import type { HeaderList, HandlerResult, Reply } from "../server/reply.ts";
import type { HeaderPairs } from "./rule-set.ts";

const latin1 = new TextDecoder("latin1");

/** The reply's fields as pairs (from a list, a record, Headers, or pre-encoded lines). */
function fieldsOf(headers: Reply["headers"]): [string, string][] {
  if (headers === undefined) return [];
  if (headers instanceof Uint8Array) {
    const out: [string, string][] = [];
    for (const line of latin1.decode(headers).split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) out.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
    return out;
  }
  if (headers instanceof Headers) return [...headers];
  if (Array.isArray(headers)) return headers.map(([k, v]) => [k, v]);
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(headers as Exclude<HeaderList, readonly unknown[]>)) {
    if (Array.isArray(v)) for (const one of v) out.push([k, String(one)]);
    else out.push([k, String(v)]);
  }
  return out;
}

/** `reply` with `pairs` laid over its fields. */
export function withFields(reply: Reply, pairs: HeaderPairs): Reply {
  const names = new Set(pairs.map(([k]) => k.toLowerCase()));
  const fields = fieldsOf(reply.headers).filter(([k]) => !names.has(k.toLowerCase()));
  for (const [k, v] of pairs) fields.push([k, v]);
  return {
    status: reply.status,
    headers: fields,
    body: reply.body,
    length: reply.length,
    defaultType: reply.defaultType,
    upgrade: reply.upgrade,
  };
}

/** A handler's result with the fields laid over it (a Response is answered through its Headers). */
export function addFields(result: HandlerResult | Promise<HandlerResult>, pairs: HeaderPairs): HandlerResult | Promise<HandlerResult> {
  if (pairs.length === 0) return result;
  if (result instanceof Promise) return result.then((r) => addFields(r, pairs));
  if (result === null || result === undefined || typeof result === "string" || result instanceof Uint8Array) return result;
  if (result instanceof Response) {
    for (const [k] of pairs) result.headers.delete(k);
    for (const [k, v] of pairs) result.headers.append(k, v); // (several Set-Cookie fields stay several)
    return result;
  }
  if ("wait" in result) return result; // a PendingReply: not the static handler's
  return withFields(result as Reply, pairs);
}
