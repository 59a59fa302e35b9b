// Reading what the metrics endpoint answers: a scrape over TCP, and the text exposition format parsed
// into samples (keyed by name and labels exactly as written) and the families' HELP and TYPE lines.
import { exchange, type RawResponse } from "../helpers/raw-client.ts";

export interface Exposition {
  /** `name{labels}` (as written) → value. */
  samples: Map<string, number>;
  /** Family name → its TYPE. */
  types: Map<string, string>;
  /** Family names with a HELP line. */
  helped: Set<string>;
  text: string;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/;

export function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helped = new Set<string>();
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) helped.add(line.split(" ")[2]!);
    else if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (types.has(name!)) throw new Error(`two TYPE lines for ${name}`);
      types.set(name!, type!);
    } else {
      const m = SAMPLE.exec(line);
      if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
      if (samples.has(m[1]!)) throw new Error(`sample ${m[1]} twice`);
      samples.set(m[1]!, Number(m[2]));
    }
  }
  return { samples, types, helped, text };
}

/** GET `path` on a connection of its own (which it closes): the response and its parsed body. */
export async function scrape(port: number, path = "/metrics"): Promise<{ res: RawResponse; metrics: Exposition }> {
  const res = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  if (res.status !== 200) throw new Error(`scrape: ${res.status} ${res.text()}`);
  return { res, metrics: parseExposition(res.text()) };
}

/** A sample's value; throws when it is missing, so a test cannot pass on an absent line. */
export function value(e: Exposition, key: string): number {
  const v = e.samples.get(key);
  if (v === undefined) throw new Error(`no sample ${key} in:\n${e.text}`);
  return v;
}
