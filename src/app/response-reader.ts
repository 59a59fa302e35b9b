// Response objects for the writer, the app's way: a body we saw being made from a string or bytes
// (known-bodies.ts) is taken as it is, without reading its stream; any other goes the engine's way.
import { readResponse } from "../server/body.ts";
import type { ResponseParts } from "../server/body.ts";
import { knownBody } from "./known-bodies.ts";

export function readAppResponse(res: Response): ResponseParts | Promise<ResponseParts> {
  const known = knownBody(res);
  if (known === undefined) return readResponse(res);
  const status = res.status;
  const headers = res.headers;
  const { body, type } = known;
  if (body instanceof Promise) return body.then((b) => ({ status, headers, body: b, defaultType: type }));
  return { status, headers, body, defaultType: type };
}
