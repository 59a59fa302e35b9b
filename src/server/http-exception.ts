// An error that knows its HTTP status: thrown by body parsers (400, 413) or by handlers, it becomes
// that response instead of a 500.
import { STATUS_TEXT } from "../http/errors.ts";
import type { Reply } from "./reply.ts";

export class HttpException extends Error {
  constructor(
    readonly status: number,
    message?: string,
    /** Extra response fields, e.g. Retry-After for a 503. */
    readonly headers: [string, string][] = [],
  ) {
    super(message ?? STATUS_TEXT[status] ?? "Error");
  }

  toReply(): Reply {
    const text = STATUS_TEXT[this.status] ?? "Error";
    const detail = this.message && this.message !== text ? `: ${this.message}` : "";
    return {
      status: this.status,
      headers: [["Content-Type", "text/plain; charset=utf-8"], ...this.headers],
      body: `${this.status} ${text}${detail}\n`,
    };
  }
}

/** Out of file descriptors (EMFILE/ENFILE): a passing condition, answered 503 with Retry-After. */
export function isOutOfDescriptors(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

export function serviceUnavailable(): HttpException {
  return new HttpException(503, "out of file descriptors, retry shortly", [["Retry-After", "1"]]);
}
