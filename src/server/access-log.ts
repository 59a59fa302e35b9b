// Access log in Common, Combined or JSON format, buffered and written in batches (at most once a
// second or per 64 KiB), to stdout or a file that SIGHUP reopens (for logrotate).
import { closeSync, openSync, writeSync } from "node:fs";
import type { ServerRequest } from "./request.ts";

export type LogFormat = "off" | "common" | "combined" | "json";

export interface AccessLog {
  write(req: ServerRequest | null, status: number, bytes: number, remote: string, now: number, ms: number): void;
  flush(): void;
  /** Closes and reopens the log file (after rotation); a no-op for stdout. */
  reopen(): void;
  close(): void;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => (n < 10 ? `0${n}` : `${n}`);

let stampSecond = -1;
let stamp = "";
/** `[10/Oct/2000:13:55:36 +0000]`, formatted once a second. */
function logTime(now: number): string {
  const s = Math.floor(now / 1000);
  if (s !== stampSecond) {
    stampSecond = s;
    const d = new Date(s * 1000);
    stamp = `[${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
      d.getUTCMinutes(),
    )}:${pad(d.getUTCSeconds())} +0000]`;
  }
  return stamp;
}

/** Quotes a logged field: escapes '"', '\' and control bytes so a client cannot forge log lines. */
function quote(s: string | undefined): string {
  if (s === undefined) return "-";
  return s.replace(/[\\"\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export interface LogTarget {
  write(text: string): void;
  reopen(): void;
  close(): void;
}

export function stdoutTarget(): LogTarget {
  return { write: (text) => void process.stdout.write(text), reopen() {}, close() {} };
}

/** Appends to a file; reopen() picks up a new file after rotation. */
export function fileTarget(path: string): LogTarget {
  let fd = openSync(path, "a");
  return {
    write(text) {
      writeSync(fd, text);
    },
    reopen() {
      const next = openSync(path, "a");
      closeSync(fd);
      fd = next;
    },
    close() {
      closeSync(fd);
    },
  };
}

export function createAccessLog(format: LogFormat, target: LogTarget | ((text: string) => void) = stdoutTarget()): AccessLog {
  const out: LogTarget = typeof target === "function" ? { write: target, reopen() {}, close() {} } : target;
  let lines: string[] = [];
  let size = 0;
  const log: AccessLog = {
    write(req, status, bytes, remote, now, ms) {
      const client = req?.clientAddress ?? remote;
      let line: string;
      if (format === "json") {
        line = JSON.stringify({
          time: new Date(now).toISOString(),
          remote: client || null,
          method: req?.method ?? null,
          target: req?.url ?? null,
          version: req?.httpVersion ?? null,
          status,
          bytes,
          ms: Math.round(ms * 1000) / 1000,
          referer: req?.header("referer") ?? null,
          userAgent: req?.header("user-agent") ?? null,
          // (the user Basic auth let in, never the password: the Authorization field is never logged)
          ...(req?.remoteUser != null ? { user: req.remoteUser } : null),
        });
      } else {
        const requestLine = req === null ? "-" : quote(`${req.method} ${req.url} ${req.httpVersion}`);
        // %u is the user Basic auth let in (nginx's $remote_user), quoted as a logged field is.
        const user = req?.remoteUser == null ? "-" : quote(req.remoteUser);
        line = `${client || "-"} - ${user} ${logTime(now)} "${requestLine}" ${status} ${bytes === 0 ? "-" : bytes}`;
        if (format === "combined") line += ` "${quote(req?.header("referer"))}" "${quote(req?.header("user-agent"))}"`;
      }
      lines.push(line);
      size += line.length;
      if (size > 64 * 1024) log.flush();
    },
    flush() {
      if (lines.length === 0) return;
      const text = `${lines.join("\n")}\n`;
      lines = [];
      size = 0;
      out.write(text);
    },
    reopen() {
      log.flush();
      out.reopen();
    },
    close() {
      log.flush();
      out.close();
    },
  };
  return log;
}
