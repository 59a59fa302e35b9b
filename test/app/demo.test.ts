// The demo app behind public/index.html, over TCP: its echo route shows what it received, an
// uploaded file by its name, type and size (as JSON a File would show as {}).
import { afterAll, beforeAll, expect, test } from "bun:test";
import demoApp from "../../examples/demo.ts";
import { serve, type Server } from "../../src/index.ts";

let server: Server;
beforeAll(() => {
  server = serve({ ...demoApp, port: 0, hostname: "127.0.0.1", log: "off" });
});
afterAll(() => server.stop(true));

test("the echo shows form fields, and an uploaded file as its name, type and size", async () => {
  const form = new FormData();
  form.append("note", "hello");
  form.append("upload", new File(["twelve bytes"], "notes.txt", { type: "text/plain" }));
  const res = await fetch(new URL("/api/echo", server.url), { method: "POST", body: form });
  expect(res.status).toBe(200);
  const got = (await res.json()) as { contentType: string; fields: Record<string, unknown> };
  expect(got.contentType).toBe("multipart/form-data");
  expect(got.fields).toEqual({ note: "hello", upload: { name: "notes.txt", type: "text/plain;charset=utf-8", size: 12 } });
});
