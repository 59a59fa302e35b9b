// What a response says on the wire, less what differs by design between Bun.serve and us (Date,
// Server, header order and case): for comparing the two in test/compat/.
import type { RawResponse } from "./raw-client.ts";

export interface WireSummary {
  status: number;
  reason: string;
  /** The representation and framing fields, lower-cased; absent ones are left out. */
  headers: Record<string, string>;
  body: string;
}

const FIELDS = ["content-type", "content-length", "transfer-encoding", "content-range", "accept-ranges"];

export function summarize(res: RawResponse): WireSummary {
  const headers: Record<string, string> = {};
  for (const name of FIELDS) {
    const v = res.header(name);
    if (v !== undefined) headers[name] = v.toLowerCase() === "chunked" ? "chunked" : v;
  }
  return { status: res.status, reason: res.reason, headers, body: res.text() };
}

export const GET = (path = "/", extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
export const HEAD = (path = "/", extra = "") => `HEAD ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
