// Bun.serve in a child process, for the checks whose Bun side logs an uncaught error (a fetch error
// with no `error` handler): inside `bun test`, that error would fail the test that provoked it.
// `options` is the source of an object expression, evaluated in the child.

/** Serves `options` with Bun.serve in a child, runs `check` against its port, then kills it. */
export async function withBunServeChild<T>(options: string, check: (port: number) => Promise<T>): Promise<T> {
  const script = `const s = Bun.serve({ port: 0, hostname: "127.0.0.1", ...(${options}) }); console.log(s.port);`;
  const child = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
  try {
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the child exited before printing its port: ${await new Response(child.stderr).text()}`);
      out += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return await check(Number(out.trim()));
  } finally {
    child.kill();
    await child.exited;
  }
}
