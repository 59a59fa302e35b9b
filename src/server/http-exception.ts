// An error that knows its HTTP status: thrown by body parsers (400, 413) or by handlers, it becomes
// that response instead of a 500.
import { STATUS_TEXT } from "../http/errors.ts";
import type { Reply } from "./connection.ts";

export class HttpException extends Error {
  constructor(
    readonly status: number,
    message?: string,
  ) {
    super(message ?? STATUS_TEXT[status] ?? "Error");
  }

  toReply(): Reply {
    const text = STATUS_TEXT[this.status] ?? "Error";
    const detail = this.message && this.message !== text ? `: ${this.message}` : "";
    return {
      status: this.status,
      headers: [["Content-Type", "text/plain; charset=utf-8"]],
      body: `${this.status} ${text}${detail}\n`,
    };
  }
}
