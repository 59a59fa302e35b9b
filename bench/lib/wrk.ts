// One wrk run, pinned to a core (`taskset -c CORE wrk -t1 -cN -dDs`) or not, its output parsed: requests,
// req/s, bytes read, error counts, and wrk's own CPU time (near the run's length: wrk was the limit).
import { spawn } from "./children.ts";

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  /** "N MB read": all the bytes wrk received, heads and framing included (to 3 significant digits). */
  readBytes: number;
  non2xx: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  transfer: string;
  /** wrk's own CPU time (user + system), seconds: near the run's length means wrk was the bottleneck. */
  cpu: number;
  raw: string;
}

export interface WrkOptions {
  url: string;
  duration: number;
  /** The core(s) it runs on (`taskset -c`); unpinned when absent. */
  core?: string;
  connections: number;
  /** wrk's threads (default 1). */
  threads?: number;
  /** Header lines, each sent with -H. */
  headers?: string[];
  /** A Lua script (-s). */
  script?: string;
}

const SIZE_UNIT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [...(o.core === undefined ? [] : ["taskset", "-c", o.core]), "wrk", `-t${o.threads ?? 1}`, `-c${o.connections}`, `-d${o.duration}s`];
  for (const h of o.headers ?? []) args.push("-H", h);
  if (o.script !== undefined) args.push("-s", o.script);
  args.push(o.url);
  const proc = spawn(args, null);
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout as ReadableStream).text(),
    new Response(proc.stderr as ReadableStream).text(),
    proc.exited,
  ]);
  const raw = out + err;
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${raw}`);
  const m = /(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)([KMGT]?B) read/.exec(raw);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(raw);
  if (!m || !rps) throw new Error(`cannot parse wrk output:\n${raw}`);
  const unit = { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[m[3] as "us" | "ms" | "s" | "m"];
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  return {
    requests: Number(m[1]),
    seconds: Number(m[2]) * unit,
    rps: Number(rps[1]),
    readBytes: Number(m[4]) * SIZE_UNIT[m[5]!]!,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0),
    connect: Number(sock?.[1] ?? 0),
    read: Number(sock?.[2] ?? 0),
    write: Number(sock?.[3] ?? 0),
    timeout: Number(sock?.[4] ?? 0),
    transfer: /Transfer\/sec:\s+(\S+)/.exec(raw)?.[1] ?? "?",
    cpu: Number(proc.resourceUsage()?.cpuTime.total ?? NaN) / 1e6,
    raw,
  };
}

/** wrk's error counts as text ("" when none). */
export function wrkErrors(w: WrkResult): string {
  const parts: string[] = [];
  if (w.non2xx) parts.push(`non-2xx/3xx ${w.non2xx}`);
  if (w.connect) parts.push(`connect ${w.connect}`);
  if (w.read) parts.push(`read ${w.read}`);
  if (w.write) parts.push(`write ${w.write}`);
  if (w.timeout) parts.push(`timeout ${w.timeout}`);
  return parts.join(", ");
}
