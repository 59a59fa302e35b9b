// Access log in Common or Combined Log Format, buffered and written in batches (not once per request).
import type { ServerRequest } from "./request.ts";

export type LogFormat = "off" | "common" | "combined";

export interface AccessLog {
  write(req: ServerRequest | null, status: number, bytes: number, remote: string, now: number): void;
  flush(): void;
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
  // Header values can hold any byte but CR/LF/NUL (parser); escape the rest that would confuse a reader.
  return s.replace(/[\\"\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function createAccessLog(format: LogFormat, writeOut?: (text: string) => void): AccessLog {
  const out = writeOut ?? ((text: string) => process.stdout.write(text));
  let lines: string[] = [];
  let size = 0;
  const combined = format === "combined";
  const log: AccessLog = {
    write(req, status, bytes, remote, now) {
      const requestLine = req === null ? "-" : quote(`${req.method} ${req.url} ${req.httpVersion}`);
      let line = `${remote || "-"} - - ${logTime(now)} "${requestLine}" ${status} ${bytes === 0 ? "-" : bytes}`;
      if (combined) line += ` "${quote(req?.header("referer"))}" "${quote(req?.header("user-agent"))}"`;
      lines.push(line);
      size += line.length;
      if (size > 64 * 1024) log.flush();
    },
    flush() {
      if (lines.length === 0) return;
      const text = `${lines.join("\n")}\n`;
      lines = [];
      size = 0;
      out(text);
    },
  };
  return log;
}
