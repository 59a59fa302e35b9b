// Which media types are worth compressing: text and the text-like formats (JavaScript, JSON, XML,
// SVG, wasm, manifests, uncompressed fonts). Images, audio, video, archives and woff/woff2 fonts
// are compressed already, and an unknown type (application/octet-stream) is left alone.

const TYPES = new Set([
  "application/javascript",
  "application/x-javascript",
  "application/ecmascript",
  "application/json",
  "application/xml",
  "application/wasm",
  "application/manifest+json",
  "application/xhtml+xml",
  "application/graphql",
  "application/yaml",
  "application/x-yaml",
  "application/toml",
  "application/x-sh",
  "application/rtf",
  "application/x-ndjson",
  "application/vnd.ms-fontobject",
  "font/ttf",
  "font/otf",
  "font/collection",
  "application/x-font-ttf",
  "image/svg+xml",
  "image/x-icon",
  "image/vnd.microsoft.icon",
  "image/bmp",
]);

const memo = new Map<string, boolean>();

/** Whether a Content-Type value (parameters and case allowed) names a type we compress. */
export function isCompressibleType(contentType: string | null | undefined): boolean {
  if (contentType == null || contentType === "") return false;
  let known = memo.get(contentType);
  if (known === undefined) {
    known = decide(contentType);
    if (memo.size >= 256) memo.clear();
    memo.set(contentType, known);
  }
  return known;
}

function decide(contentType: string): boolean {
  const semi = contentType.indexOf(";");
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type.startsWith("text/")) return true;
  if (TYPES.has(type)) return true;
  // Structured syntax suffixes (RFC 6839): anything +json or +xml is text.
  return type.startsWith("application/") && (type.endsWith("+json") || type.endsWith("+xml"));
}
