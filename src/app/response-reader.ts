// Response objects for the writer, the app's way: a body we saw being made (known-bodies.ts) is
// taken as it is, without reading its stream: a string, bytes, a Blob, a file (file-bodies.ts); a
// direct stream (direct-streams.ts) is driven from its source; any other goes the engine's way.
import { readResponse } from "../server/body.ts";
import { DirectSource } from "../server/direct-source.ts";
import type { ResponseParts } from "../server/body.ts";
import { directSourceOf } from "./direct-streams.ts";
import { fileParts, filePart } from "./file-bodies.ts";
import { knownBody } from "./known-bodies.ts";

/**
 * `range`: the request's Range field, for a GET whose Response may be a file (fetch.ts); a file
 * that is gone rejects, which goes to the error hook like a handler's error.
 */
export function readAppResponse(res: Response, range: string | null = null): ResponseParts | Promise<ResponseParts> {
  const known = knownBody(res);
  if (known === undefined) return readUnknown(res);
  const status = res.status;
  const headers = res.headers;
  const { body, type } = known;
  if (body instanceof Promise) return body.then((b) => ({ status, headers, body: b, defaultType: type }));
  if (body instanceof Blob) {
    const part = filePart(body);
    if (part !== undefined) {
      try {
        return { ...fileParts(part, status, headers, range), defaultType: type };
      } catch (err) {
        return Promise.reject(err);
      }
    }
  }
  return { status, headers, body, defaultType: type };
}

function readUnknown(res: Response): ResponseParts {
  const headers = res.headers; // before the body: see readResponse
  const stream = res.body;
  if (stream !== null) {
    const source = directSourceOf(stream);
    if (source !== undefined) return { status: res.status, headers, body: new DirectSource(source) };
  }
  return readResponse(res);
}
