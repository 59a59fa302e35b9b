// Starts test/helpers/child-server.ts and reads its port; measures the child's RSS and open descriptors.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Child {
  pid: number;
  port: number;
  kill(): void;
}

export async function startChildServer(root: string): Promise<Child> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "child-server.ts"), root], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("child server exited before printing its port");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { pid: proc.pid, port: Number(text.trim()), kill: () => proc.kill() };
}

/** Resident set size of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function openFdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
