// Progressive enhancement: without JavaScript the form still posts and the links still work.
const $ = (id) => document.getElementById(id);

function show(el, lines) {
  el.textContent = lines.join("\n");
  el.classList.add("filled");
}

$("echo-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = $("echo-result");
  try {
    const res = await fetch("/api/echo", { method: "POST", body: new URLSearchParams(new FormData(event.target)) });
    if (res.status === 404) {
      show(out, ["404: the demo app is not running.", "Start it with: bun run src/index.ts --app examples/demo.ts"]);
      return;
    }
    const data = await res.json();
    show(out, [`${res.status} ${res.statusText}`, JSON.stringify(data, null, 2)]);
  } catch (err) {
    show(out, [`request failed: ${err.message}`]);
  }
});

$("range-button").addEventListener("click", async () => {
  const res = await fetch("/files/sample.txt", { headers: { Range: "bytes=0-9" }, cache: "no-store" });
  show($("http-result"), [
    `${res.status} ${res.statusText}`,
    `Content-Range: ${res.headers.get("content-range")}`,
    `Body: ${JSON.stringify(await res.text())}`,
  ]);
});

$("conditional-button").addEventListener("click", async () => {
  const first = await fetch("/files/sample.txt", { cache: "no-store" });
  const etag = first.headers.get("etag");
  await first.arrayBuffer();
  const again = await fetch("/files/sample.txt", { headers: { "If-None-Match": etag }, cache: "no-store" });
  show($("http-result"), [
    `First: ${first.status} ${first.statusText}, ETag: ${etag}`,
    `With If-None-Match: ${again.status} ${again.statusText}, body: ${(await again.text()).length} bytes`,
  ]);
});
