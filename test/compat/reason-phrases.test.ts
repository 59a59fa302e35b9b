// Status lines as Bun.serve writes them: for every status a Response can carry (101 aside, which
// only a real upgrade sends here), the reason phrase Bun gives, "HM" included for codes it does not know.
import { describe, expect, test } from "bun:test";
import { statusLine } from "../../src/http/response.ts";
import { onBoth } from "../helpers/compat.ts";
import { RawClient } from "../helpers/raw-client.ts";

const decoder = new TextDecoder();

/** The status line of every code 200-599, asked one after another on one keep-alive connection. */
async function statusLines(port: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const lines: string[] = [];
    for (let status = 200; status <= 599; status++) {
      await c.send(`GET /${status} HTTP/1.1\r\nHost: t\r\n\r\n`);
      const res = await c.response();
      const raw = decoder.decode(res.raw);
      lines.push(raw.slice(0, raw.indexOf("\r\n")));
    }
    return lines;
  } finally {
    c.close();
  }
}

describe("reason phrases", () => {
  test("every status 200-599 gets the phrase Bun.serve sends", async () => {
    const { bun, ours } = await onBoth(
      () => ({ fetch: (req: Request) => new Response(null, { status: Number(new URL(req.url).pathname.slice(1)) }) }),
      (s) => statusLines(s.port),
    );
    expect(bun.length).toBe(400);
    // Bun's wording where it differs from IANA, the codes we used to call "Unknown", and unknown codes.
    for (const line of [
      "HTTP/1.1 207 Multi-Status", "HTTP/1.1 208 Already Reported", "HTTP/1.1 226 IM Used",
      "HTTP/1.1 305 Use Proxy", "HTTP/1.1 306 Switch Proxy", "HTTP/1.1 413 Payload Too Large",
      "HTTP/1.1 418 I'm a Teapot", "HTTP/1.1 422 Unprocessable Entity", "HTTP/1.1 423 Locked",
      "HTTP/1.1 424 Failed Dependency", "HTTP/1.1 506 Variant Also Negotiates", "HTTP/1.1 507 Insufficient Storage",
      "HTTP/1.1 508 Loop Detected", "HTTP/1.1 510 Not Extended", "HTTP/1.1 511 Network Authentication Required",
      "HTTP/1.1 299 HM", "HTTP/1.1 509 HM", "HTTP/1.1 599 HM",
    ]) {
      expect(bun).toContain(line);
    }
    expect(ours).toEqual(bun);
  });

  test("1xx lines a Response cannot carry keep IANA's wording", () => {
    const line = (s: number) => decoder.decode(statusLine(s));
    expect([100, 101, 102, 103].map(line)).toEqual([
      "HTTP/1.1 100 Continue\r\n",
      "HTTP/1.1 101 Switching Protocols\r\n",
      "HTTP/1.1 102 Processing\r\n",
      "HTTP/1.1 103 Early Hints\r\n",
    ]);
  });
});
