// Bun.serve in a child process, for the checks whose Bun side logs an uncaught error (a fetch error
// with no `error` handler): inside `bun test`, that error would fail the test that provoked it.
// `options` is the source of an object expression, evaluated in the child.
import { spawnChild } from "./child.ts";

/** Serves `options` with Bun.serve in a child, runs `check` against its port, then kills it. */
export async function withBunServeChild<T>(options: string, check: (port: number) => Promise<T>): Promise<T> {
  const script = `const s = Bun.serve({ port: 0, hostname: "127.0.0.1", ...(${options}) }); console.log(s.port);`;
  const child = spawnChild([process.execPath, "-e", script]);
  try {
    await child.until(() => child.stdout().includes("\n") || child.dead, 10_000, "the child's port");
    if (!child.stdout().includes("\n")) throw new Error(`the child exited before printing its port: ${child.stderr()}`);
    return await check(Number(child.stdout().trim()));
  } finally {
    child.kill();
    await child.exited;
  }
}
