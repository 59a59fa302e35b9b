// Shared command-line parsing for the load-test server entries (bench/servers/*.ts).
//   --port N   (or $PORT; required: the harness picks a free port)
//   --root DIR (static servers)   --file PATH (ceiling: serve this file from memory)
//   --close    (ceiling: answer "Connection: close" and close after each response)
export interface ServerArgs {
  port: number;
  root: string | undefined;
  file: string | undefined;
  close: boolean;
}

export function parseServerArgs(argv = process.argv.slice(2)): ServerArgs {
  const out: ServerArgs = { port: Number(process.env.PORT ?? NaN), root: undefined, file: undefined, close: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--port") out.port = Number(value());
    else if (a === "--root") out.root = value();
    else if (a === "--file") out.file = value();
    else if (a === "--close") out.close = true;
    else if (/^\d+$/.test(a)) out.port = Number(a);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(out.port) || out.port <= 0 || out.port > 65535) throw new Error("need --port N (or $PORT)");
  return out;
}

/** The harness waits for the port to accept; this line is for humans reading bench/.out/*.log. */
export function announce(name: string, port: number): void {
  process.stderr.write(`${name} listening on 127.0.0.1:${port} (pid ${process.pid})\n`);
}
