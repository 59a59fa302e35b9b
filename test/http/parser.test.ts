// Request-head parser: one row per case; every row runs whole, in poison, guarded, byte by byte and split.
import { describe, expect, test } from "bun:test";
import { HTTP_ERROR } from "../../src/http/errors.ts";
import { RequestHead } from "../../src/http/head.ts";
import { DEFAULT_PARSER_LIMITS, FAILED, INCOMPLETE, METHOD, type ParserLimits, parseRequestHead } from "../../src/http/parser.ts";
import { checkHead, fieldsOf, latin1, POISONS, poisoned } from "../helpers/split.ts";

type ErrorName = keyof typeof HTTP_ERROR;

interface OkExpect {
  method: string;
  target: string;
  headers: [string, string][];
  /** Defaults: path and query split at the first '?' of the target. */
  path?: string;
  query?: string;
  minor?: 0 | 1;
  contentLength?: number;
  chunked?: boolean;
  /** Default: true for HTTP/1.1, false for HTTP/1.0. */
  keepAlive?: boolean;
  expectContinue?: boolean;
  /** Default: the whole input. */
  consumed?: number;
  /** Default: 0 (no leading CRLFs). */
  headStart?: number;
  methodCode?: number;
}

interface ErrExpect {
  error: ErrorName;
  status: number;
  /** Offset of the byte blamed, relative to the input's start. */
  offset?: number;
}

interface Row {
  name: string;
  raw: string;
  expect: OkExpect | ErrExpect | "incomplete";
  limits?: ParserLimits;
}

/** Small limits so the limit rows stay readable. */
const SMALL: ParserLimits = { maxRequestLine: 64, maxHeaderSize: 256, maxHeaders: 4 };

const H = "Host: example.com\r\n";
const HOST: [string, string] = ["Host", "example.com"];

const get = (target: string, extra = "", version = "HTTP/1.1"): string => `GET ${target} ${version}\r\n${H}${extra}\r\n`;
const withFields = (fields: string, version = "HTTP/1.1"): string => `GET / ${version}\r\n${fields}\r\n`;
const err = (error: ErrorName, status = 400, offset?: number): ErrExpect =>
  offset === undefined ? { error, status } : { error, status, offset };

const BROWSER =
  "GET /articles/42?ref=home&lang=en HTTP/1.1\r\n" +
  "Host: www.example.org\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
  "Accept-Language: en-US,en;q=0.5\r\n" +
  "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
  "Referer: https://www.example.org/\r\n" +
  "Connection: keep-alive\r\n" +
  'Cookie: session=abc123; theme="dark"; _ga=GA1.2.3.4\r\n' +
  "Upgrade-Insecure-Requests: 1\r\n" +
  "Sec-Fetch-Dest: document\r\n" +
  "Sec-Fetch-Mode: navigate\r\n" +
  "If-None-Match: W/\"5e-1a2b3c\"\r\n" +
  "\r\n";

// Request line of exactly SMALL.maxRequestLine bytes: "GET " + target + " HTTP/1.1" = 4 + 51 + 9.
const LINE_AT_LIMIT = `/${"a".repeat(50)}`;
const LINE_OVER_LIMIT = `/${"a".repeat(51)}`;
// A head of exactly SMALL.maxHeaderSize bytes.
const padHead = (size: number): string => {
  const base = `GET / HTTP/1.1\r\n${H}X-Pad: \r\n\r\n`;
  return `GET / HTTP/1.1\r\n${H}X-Pad: ${"p".repeat(size - base.length)}\r\n\r\n`;
};

const ROWS: Row[] = [
  // --- well-formed requests -------------------------------------------------------------------------------------
  { name: "simple GET", raw: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", expect: { method: "GET", target: "/", headers: [["Host", "a"]], methodCode: METHOD.GET } },
  {
    name: "browser GET with 12 fields",
    raw: BROWSER,
    expect: {
      method: "GET",
      target: "/articles/42?ref=home&lang=en",
      path: "/articles/42",
      query: "ref=home&lang=en",
      headers: [
        ["Host", "www.example.org"],
        ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
        ["Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
        ["Accept-Language", "en-US,en;q=0.5"],
        ["Accept-Encoding", "gzip, deflate, br, zstd"],
        ["Referer", "https://www.example.org/"],
        ["Connection", "keep-alive"],
        ["Cookie", 'session=abc123; theme="dark"; _ga=GA1.2.3.4'],
        ["Upgrade-Insecure-Requests", "1"],
        ["Sec-Fetch-Dest", "document"],
        ["Sec-Fetch-Mode", "navigate"],
        ["If-None-Match", 'W/"5e-1a2b3c"'],
      ],
    },
  },
  {
    name: "POST with Content-Length, body not consumed",
    raw: `POST /submit HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello`,
    expect: {
      method: "POST",
      target: "/submit",
      headers: [HOST, ["Content-Type", "text/plain"], ["Content-Length", "5"]],
      contentLength: 5,
      consumed: 89,
      methodCode: METHOD.POST,
    },
  },
  {
    name: "leading empty lines are ignored (RFC 9112 §2.2)",
    raw: `\r\n\r\n${get("/")}`,
    expect: { method: "GET", target: "/", headers: [HOST], headStart: 4 },
  },
  { name: "HTTP/1.0 without Host", raw: "GET /old HTTP/1.0\r\n\r\n", expect: { method: "GET", target: "/old", headers: [], minor: 0, keepAlive: false } },
  { name: "HTTP/1.0 with Host", raw: get("/", "", "HTTP/1.0"), expect: { method: "GET", target: "/", headers: [HOST], minor: 0, keepAlive: false } },
  {
    name: "pipelined: only the first request is consumed",
    raw: `GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}\r\n`,
    expect: { method: "GET", target: "/a", headers: [HOST], consumed: 38 },
  },
  { name: "no fields at all on HTTP/1.0", raw: "HEAD / HTTP/1.0\r\n\r\n", expect: { method: "HEAD", target: "/", headers: [], minor: 0, keepAlive: false, methodCode: METHOD.HEAD } },
  { name: "OWS around a value is trimmed", raw: withFields(`${H}X-A: \t a  b \t \r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["X-A", "a  b"]] } },
  { name: "empty value", raw: withFields(`${H}X-Empty:\r\nX-Blank:   \r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["X-Empty", ""], ["X-Blank", ""]] } },
  { name: "HTAB inside a value", raw: withFields(`${H}X-Tab: a\tb\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["X-Tab", "a\tb"]] } },
  {
    name: "obs-text (0x80-0xFF) in a value is kept byte for byte",
    raw: withFields(`${H}X-Text: caf\xe9 \x80\xff\r\n`),
    expect: { method: "GET", target: "/", headers: [HOST, ["X-Text", "caf\xe9 \x80\xff"]] },
  },
  {
    name: "every tchar in a field name",
    raw: withFields(`${H}!#$%&'*+-.^_\`|~09azAZ: v\r\n`),
    expect: { method: "GET", target: "/", headers: [HOST, ["!#$%&'*+-.^_`|~09azAZ", "v"]] },
  },
  { name: "empty Host value is allowed", raw: withFields("Host:\r\n"), expect: { method: "GET", target: "/", headers: [["Host", ""]] } },
  { name: "lower-case host counts as Host", raw: withFields("host: a\r\n"), expect: { method: "GET", target: "/", headers: [["host", "a"]] } },

  // --- methods --------------------------------------------------------------------------------------------------
  ...(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"] as const).map(
    (m): Row => ({
      name: `known method ${m}`,
      raw: `${m} /x HTTP/1.1\r\n${H}\r\n`,
      expect: { method: m, target: "/x", headers: [HOST], methodCode: METHOD[m] },
    }),
  ),
  { name: "unknown method PROPFIND", raw: `PROPFIND /dav HTTP/1.1\r\n${H}\r\n`, expect: { method: "PROPFIND", target: "/dav", headers: [HOST], methodCode: METHOD.OTHER } },
  { name: "methods are case-sensitive: get is not GET", raw: `get / HTTP/1.1\r\n${H}\r\n`, expect: { method: "get", target: "/", headers: [HOST], methodCode: METHOD.OTHER } },
  { name: "a method near a known one: GETS", raw: `GETS / HTTP/1.1\r\n${H}\r\n`, expect: { method: "GETS", target: "/", headers: [HOST], methodCode: METHOD.OTHER } },
  { name: "token punctuation in a method", raw: `M-SEARCH! / HTTP/1.1\r\n${H}\r\n`, expect: { method: "M-SEARCH!", target: "/", headers: [HOST], methodCode: METHOD.OTHER } },
  { name: "invalid method char", raw: `G(ET / HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_METHOD", 400, 1) },
  { name: "non-ASCII method", raw: `G\xc9T / HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_METHOD", 400, 1) },
  { name: "NUL in method", raw: `\0GET / HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_METHOD", 400, 0) },
  { name: "space before the method", raw: ` GET / HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_METHOD", 400, 0) },
  { name: "HTAB after the method", raw: `GET\t/ HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_METHOD", 400, 3) },
  { name: "request line with a method only", raw: `GET\r\n${H}\r\n`, expect: err("INVALID_METHOD") },

  // --- request line shape ---------------------------------------------------------------------------------------
  { name: "double space before the target", raw: `GET  / HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_TARGET", 400, 4) },
  { name: "double space before the version", raw: `GET /  HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_VERSION", 400, 6) },
  { name: "missing target", raw: `GET HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_TARGET", 400, 12) },
  { name: "missing version (HTTP/0.9 simple request)", raw: "GET /\r\n\r\n", expect: err("INVALID_TARGET", 400, 5) },
  { name: "trailing space after the version", raw: `GET / HTTP/1.1 \r\n${H}\r\n`, expect: err("INVALID_VERSION", 400, 14) },

  // --- versions -------------------------------------------------------------------------------------------------
  { name: "lower-case http/1.1", raw: `GET / http/1.1\r\n${H}\r\n`, expect: err("INVALID_VERSION", 400, 6) },
  // RFC 9110 §2.5: a higher HTTP/1 minor version is read as the highest we support, 1.1, in every respect.
  { name: "HTTP/1.2 is read as HTTP/1.1", raw: get("/", "", "HTTP/1.2"), expect: { method: "GET", target: "/", headers: [HOST], minor: 1, keepAlive: true } },
  { name: "HTTP/1.9 is read as HTTP/1.1", raw: get("/", "", "HTTP/1.9"), expect: { method: "GET", target: "/", headers: [HOST], minor: 1, keepAlive: true } },
  { name: "HTTP/1.2 without Host → 400, as HTTP/1.1", raw: "GET / HTTP/1.2\r\n\r\n", expect: err("MISSING_HOST", 400, 0) },
  { name: "HTTP/1.2 with Connection: close", raw: withFields(`${H}Connection: close\r\n`, "HTTP/1.2"), expect: { method: "GET", target: "/", headers: [HOST, ["Connection", "close"]], keepAlive: false } },
  {
    name: "HTTP/1.5 takes Transfer-Encoding: chunked, as HTTP/1.1",
    raw: withFields(`${H}Transfer-Encoding: chunked\r\n`, "HTTP/1.5"),
    expect: { method: "GET", target: "/", headers: [HOST, ["Transfer-Encoding", "chunked"]], chunked: true },
  },
  { name: "HTTP/2.0 → 505", raw: get("/", "", "HTTP/2.0"), expect: err("UNSUPPORTED_VERSION", 505, 11) },
  { name: "HTTP/2.1 → 505", raw: get("/", "", "HTTP/2.1"), expect: err("UNSUPPORTED_VERSION", 505, 11) },
  { name: "HTTP/9.9 → 505", raw: get("/", "", "HTTP/9.9"), expect: err("UNSUPPORTED_VERSION", 505, 11) },
  { name: "HTTP/0.9 → 505", raw: get("/", "", "HTTP/0.9"), expect: err("UNSUPPORTED_VERSION", 505, 11) },
  { name: "HTTP/0.2 → 505", raw: get("/", "", "HTTP/0.2"), expect: err("UNSUPPORTED_VERSION", 505, 11) },
  { name: "HTTP/1.10 → 400", raw: get("/", "", "HTTP/1.10"), expect: err("INVALID_VERSION", 400, 14) },
  { name: "HTTP/1 → 400", raw: get("/", "", "HTTP/1"), expect: err("INVALID_VERSION", 400, 12) },
  { name: "HTTP/11 → 400", raw: get("/", "", "HTTP/11"), expect: err("INVALID_VERSION", 400, 12) },
  { name: "HTTP/1.x → 400", raw: get("/", "", "HTTP/1.x"), expect: err("INVALID_VERSION", 400, 13) },
  { name: "HTTPS/1.1 → 400", raw: get("/", "", "HTTPS/1.1"), expect: err("INVALID_VERSION", 400, 10) },

  // --- targets --------------------------------------------------------------------------------------------------
  { name: "query split at the first '?'", raw: get("/search?q=a?b&c"), expect: { method: "GET", target: "/search?q=a?b&c", path: "/search", query: "q=a?b&c", headers: [HOST] } },
  { name: "empty query", raw: get("/p?"), expect: { method: "GET", target: "/p?", path: "/p", query: "", headers: [HOST] } },
  { name: "percent-encoding is left alone", raw: get("/a%20b/%E2%82%AC"), expect: { method: "GET", target: "/a%20b/%E2%82%AC", headers: [HOST] } },
  { name: "space inside the target", raw: get("/a b"), expect: err("INVALID_VERSION", 400, 7) },
  { name: "CTL inside the target", raw: get("/a\x01b"), expect: err("INVALID_TARGET", 400, 6) },
  { name: "HTAB inside the target", raw: get("/a\tb"), expect: err("INVALID_TARGET", 400, 6) },
  { name: "DEL inside the target", raw: get("/a\x7f"), expect: err("INVALID_TARGET", 400, 6) },
  { name: "non-ASCII inside the target", raw: get("/caf\xc3\xa9"), expect: err("INVALID_TARGET", 400, 8) },
  // RFC 9112 §3.2: a request-target has no fragment, so a raw '#' (RFC 3986 §3.5) is refused wherever it is.
  { name: "'#' in the path", raw: get("/hash#.txt"), expect: err("FRAGMENT_IN_TARGET", 400, 9) },
  { name: "'#' ending the path", raw: get("/#"), expect: err("FRAGMENT_IN_TARGET", 400, 5) },
  { name: "'#' as the whole target", raw: get("#"), expect: err("FRAGMENT_IN_TARGET", 400, 4) },
  { name: "'#' in the query", raw: get("/p?a=1#top"), expect: err("FRAGMENT_IN_TARGET", 400, 10) },
  { name: "'#' in an absolute-form target", raw: get("http://h/p#f"), expect: err("FRAGMENT_IN_TARGET", 400, 14) },
  { name: "'#' in an authority-form target", raw: `CONNECT h#:443 HTTP/1.1\r\nHost: h\r\n\r\n`, expect: err("FRAGMENT_IN_TARGET", 400, 9) },
  { name: "'#' after a CTL: the first bad byte is blamed", raw: get("/a\x01#"), expect: err("INVALID_TARGET", 400, 6) },
  { name: "a '#' past the request-line limit → 414 first", raw: get(`/${"x".repeat(70)}#`), limits: SMALL, expect: err("URI_TOO_LONG", 414, 64) },
  { name: "%23 (an encoded '#') is allowed", raw: get("/hash%23.txt?q=%23"), expect: { method: "GET", target: "/hash%23.txt?q=%23", headers: [HOST] } },
  { name: "'#' in a field value is allowed", raw: withFields(`${H}Referer: http://h/p#top\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Referer", "http://h/p#top"]] } },
  { name: "absolute-form with an empty path", raw: get("http://example.com"), expect: { method: "GET", target: "http://example.com", path: "/", query: "", headers: [HOST] } },
  { name: "absolute-form with an empty path and a query", raw: get("http://example.com?x=1"), expect: { method: "GET", target: "http://example.com?x=1", path: "/", query: "x=1", headers: [HOST] } },
  {
    name: "absolute-form with port, path and query",
    raw: get("HTTPS://user@example.com:8443/a/b?c=d&e"),
    expect: { method: "GET", target: "HTTPS://user@example.com:8443/a/b?c=d&e", path: "/a/b", query: "c=d&e", headers: [HOST] },
  },
  { name: "absolute-form scheme with + - .", raw: get("svn+ssh.x-y://h/p"), expect: { method: "GET", target: "svn+ssh.x-y://h/p", path: "/p", query: "", headers: [HOST] } },
  { name: "absolute-form with an empty authority", raw: get("http:///p"), expect: err("INVALID_TARGET", 400, 4) },
  { name: "absolute-form without //", raw: get("http:/p"), expect: err("INVALID_TARGET", 400, 4) },
  { name: "scheme starting with a digit", raw: get("1http://h/"), expect: err("INVALID_TARGET", 400, 4) },
  { name: "bare authority without CONNECT", raw: get("example.com:80"), expect: err("INVALID_TARGET", 400, 4) },
  { name: "asterisk-form for OPTIONS", raw: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, expect: { method: "OPTIONS", target: "*", path: "*", query: "", headers: [HOST], methodCode: METHOD.OPTIONS } },
  { name: "asterisk-form for GET", raw: get("*"), expect: err("INVALID_TARGET", 400, 4) },
  { name: "asterisk followed by more", raw: `OPTIONS *x HTTP/1.1\r\n${H}\r\n`, expect: err("INVALID_TARGET", 400, 8) },
  {
    // authority-form has no path; head.path reports "/" for an empty path.
    name: "CONNECT authority-form",
    raw: `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`,
    expect: { method: "CONNECT", target: "example.com:443", path: "/", query: "", headers: [["Host", "example.com:443"]], methodCode: METHOD.CONNECT },
  },
  {
    name: "CONNECT authority-form starting with '*' has no path either",
    raw: `CONNECT *:443 HTTP/1.1\r\n${H}\r\n`,
    expect: { method: "CONNECT", target: "*:443", path: "/", query: "", headers: [HOST], methodCode: METHOD.CONNECT },
  },

  // --- line endings ---------------------------------------------------------------------------------------------
  { name: "bare LF ends the request line", raw: `GET / HTTP/1.1\n${H}\r\n`, expect: err("BARE_LF", 400, 14) },
  { name: "bare LF ends a field line", raw: "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", expect: err("BARE_LF", 400, 23) },
  { name: "bare LF ends the head", raw: `GET / HTTP/1.1\r\n${H}\n`, expect: err("BARE_LF", 400, 35) },
  { name: "bare LF as a leading empty line", raw: `\n${get("/")}`, expect: err("BARE_LF", 400, 0) },
  { name: "bare LF after leading CRLF", raw: `\r\n\n${get("/")}`, expect: err("BARE_LF", 400, 2) },
  { name: "bare LF right after a field value", raw: "GET / HTTP/1.1\r\nHost: a\n\r\n", expect: err("BARE_LF", 400, 23) },
  { name: "bare CR in the request line", raw: `GET / HTTP/1.1\rX${H}\r\n`, expect: err("BARE_CR", 400, 14) },
  { name: "bare CR inside a value", raw: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", expect: err("BARE_CR", 400, 23) },
  { name: "bare CR as the blank line", raw: `GET / HTTP/1.1\r\n${H}\r\r\n`, expect: err("BARE_CR", 400, 35) },
  { name: "bare CR as a leading empty line", raw: `\rGET / HTTP/1.1\r\n${H}\r\n`, expect: err("BARE_CR", 400, 0) },
  { name: "truncated head is incomplete", raw: `GET / HTTP/1.1\r\n${H}`, expect: "incomplete" },
  { name: "head ending in CR is incomplete", raw: `GET / HTTP/1.1\r\n${H}\r`, expect: "incomplete" },
  { name: "empty lines only are incomplete", raw: "\r\n\r\n\r\n", expect: "incomplete" },

  // --- field syntax ---------------------------------------------------------------------------------------------
  { name: "obs-fold with SP", raw: withFields(`${H}X-A: a\r\n  b\r\n`), expect: err("OBS_FOLD", 400, 43) },
  { name: "obs-fold with HTAB", raw: withFields(`${H}X-A: a\r\n\tb\r\n`), expect: err("OBS_FOLD", 400, 43) },
  { name: "whitespace before the first field line", raw: withFields(` ${H}`), expect: err("OBS_FOLD", 400, 16) },
  { name: "SP before the colon", raw: withFields(`Host : a\r\n`), expect: err("WHITESPACE_BEFORE_COLON", 400, 20) },
  { name: "HTAB before the colon", raw: withFields(`${H}X-A\t: a\r\n`), expect: err("WHITESPACE_BEFORE_COLON", 400, 38) },
  { name: "empty field name", raw: withFields(`${H}: a\r\n`), expect: err("INVALID_HEADER_NAME", 400, 35) },
  { name: "'(' in a field name", raw: withFields(`${H}X(A): a\r\n`), expect: err("INVALID_HEADER_NAME", 400, 36) },
  { name: "'@' in a field name", raw: withFields(`${H}X@A: a\r\n`), expect: err("INVALID_HEADER_NAME", 400, 36) },
  { name: "non-ASCII in a field name", raw: withFields(`${H}X\xe9: a\r\n`), expect: err("INVALID_HEADER_NAME", 400, 36) },
  { name: "NUL in a field name", raw: withFields(`${H}X\0: a\r\n`), expect: err("INVALID_HEADER_NAME", 400, 36) },
  { name: "field line without a colon", raw: withFields(`${H}NoColon\r\n`), expect: err("INVALID_HEADER_NAME", 400, 42) },
  { name: "NUL in a value", raw: withFields(`${H}X-A: a\0b\r\n`), expect: err("INVALID_HEADER_VALUE", 400, 41) },
  { name: "CTL 0x01 in a value", raw: withFields(`${H}X-A: \x01\r\n`), expect: err("INVALID_HEADER_VALUE", 400, 40) },
  { name: "CTL 0x1F in a value", raw: withFields(`${H}X-A: a\x1f\r\n`), expect: err("INVALID_HEADER_VALUE", 400, 41) },
  { name: "DEL in a value", raw: withFields(`${H}X-A: a\x7f\r\n`), expect: err("INVALID_HEADER_VALUE", 400, 41) },
  { name: "CTL as the last byte received", raw: withFields(`${H}X-A: a\x0b`).slice(0, -2), expect: err("INVALID_HEADER_VALUE", 400, 41) },

  // --- Host -----------------------------------------------------------------------------------------------------
  { name: "HTTP/1.1 without Host", raw: "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", expect: err("MISSING_HOST", 400, 0) },
  { name: "HTTP/1.1 with two Hosts", raw: withFields(`${H}HOST: other\r\n`), expect: err("DUPLICATE_HOST") },
  { name: "HTTP/1.0 with two Hosts", raw: withFields(`${H}${H}`, "HTTP/1.0"), expect: err("DUPLICATE_HOST") },
  { name: "X-Host is not Host", raw: "GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", expect: err("MISSING_HOST") },

  // --- Content-Length -------------------------------------------------------------------------------------------
  { name: "Content-Length: 0", raw: withFields(`${H}Content-Length: 0\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Content-Length", "0"]], contentLength: 0 } },
  { name: "Content-Length with leading zeros and OWS", raw: withFields(`${H}content-length:  007 \r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["content-length", "007"]], contentLength: 7 } },
  { name: "Content-Length of 15 digits", raw: withFields(`${H}Content-Length: 999999999999999\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Content-Length", "999999999999999"]], contentLength: 999999999999999 } },
  { name: "Content-Length of 16 digits", raw: withFields(`${H}Content-Length: 1000000000000000\r\n`), expect: err("INVALID_CONTENT_LENGTH", 400, 51) },
  { name: "Content-Length with a + sign", raw: withFields(`${H}Content-Length: +5\r\n`), expect: err("INVALID_CONTENT_LENGTH", 400, 51) },
  { name: "Content-Length with a - sign", raw: withFields(`${H}Content-Length: -5\r\n`), expect: err("INVALID_CONTENT_LENGTH", 400, 51) },
  { name: "Content-Length with a space inside", raw: withFields(`${H}Content-Length: 1 2\r\n`), expect: err("INVALID_CONTENT_LENGTH", 400, 52) },
  { name: "Content-Length in hex", raw: withFields(`${H}Content-Length: 0x10\r\n`), expect: err("INVALID_CONTENT_LENGTH", 400, 52) },
  { name: "Content-Length empty", raw: withFields(`${H}Content-Length: \r\n`), expect: err("INVALID_CONTENT_LENGTH") },
  { name: "Content-Length list 5, 5", raw: withFields(`${H}Content-Length: 5, 5\r\n`), expect: err("INVALID_CONTENT_LENGTH", 400, 52) },
  { name: "Content-Length 1e3", raw: withFields(`${H}Content-Length: 1e3\r\n`), expect: err("INVALID_CONTENT_LENGTH", 400, 52) },
  {
    name: "duplicate equal Content-Length",
    raw: withFields(`${H}Content-Length: 5\r\nContent-Length: 05\r\n`),
    expect: { method: "GET", target: "/", headers: [HOST, ["Content-Length", "5"], ["Content-Length", "05"]], contentLength: 5 },
  },
  { name: "duplicate different Content-Length", raw: withFields(`${H}Content-Length: 5\r\nContent-Length: 6\r\n`), expect: err("CONFLICTING_CONTENT_LENGTH", 400, 70) },

  // --- Transfer-Encoding ----------------------------------------------------------------------------------------
  { name: "Transfer-Encoding: chunked", raw: withFields(`${H}Transfer-Encoding: chunked\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Transfer-Encoding", "chunked"]], chunked: true } },
  { name: "Transfer-Encoding: CHUNKED", raw: withFields(`${H}transfer-encoding: CHUNKED \r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["transfer-encoding", "CHUNKED"]], chunked: true } },
  { name: "Transfer-Encoding: gzip, chunked → 501", raw: withFields(`${H}Transfer-Encoding: gzip, chunked\r\n`), expect: err("UNSUPPORTED_TRANSFER_CODING", 501) },
  { name: "Transfer-Encoding: gzip then chunked on two lines → 501", raw: withFields(`${H}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n`), expect: err("UNSUPPORTED_TRANSFER_CODING", 501) },
  { name: "Transfer-Encoding: chunked, gzip", raw: withFields(`${H}Transfer-Encoding: chunked, gzip\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: gzip", raw: withFields(`${H}Transfer-Encoding: gzip\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: identity", raw: withFields(`${H}Transfer-Encoding: identity\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: chunked, chunked", raw: withFields(`${H}Transfer-Encoding: chunked, chunked\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: chunked , chunked (OWS before the comma)", raw: withFields(`${H}Transfer-Encoding: chunked\t, chunked\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: gzip , chunked (OWS before the comma) → 501", raw: withFields(`${H}Transfer-Encoding: gzip , chunked\r\n`), expect: err("UNSUPPORTED_TRANSFER_CODING", 501) },
  { name: "Transfer-Encoding: chunked on two lines", raw: withFields(`${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: chunked then gzip on two lines", raw: withFields(`${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding with a trailing comma", raw: withFields(`${H}Transfer-Encoding: chunked,\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding with a leading comma", raw: withFields(`${H}Transfer-Encoding: , chunked\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding with a parameter", raw: withFields(`${H}Transfer-Encoding: chunked;x=1\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: a parameter before chunked", raw: withFields(`${H}Transfer-Encoding: gzip;q=1, chunked\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: junk between codings", raw: withFields(`${H}Transfer-Encoding: gzip/chunked\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: codings without a comma", raw: withFields(`${H}Transfer-Encoding: gzip chunked\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding empty", raw: withFields(`${H}Transfer-Encoding:\r\n`), expect: err("INVALID_TRANSFER_ENCODING") },
  { name: "Transfer-Encoding: chunked with Content-Length", raw: withFields(`${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n`), expect: err("TRANSFER_ENCODING_WITH_CONTENT_LENGTH", 400, 0) },
  { name: "Content-Length with Transfer-Encoding: chunked", raw: withFields(`${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n`), expect: err("TRANSFER_ENCODING_WITH_CONTENT_LENGTH") },
  { name: "Transfer-Encoding on HTTP/1.0", raw: withFields(`${H}Transfer-Encoding: chunked\r\n`, "HTTP/1.0"), expect: err("TRANSFER_ENCODING_ON_HTTP10", 400, 0) },

  // --- Connection and Expect ------------------------------------------------------------------------------------
  { name: "HTTP/1.1 Connection: close", raw: withFields(`${H}Connection: close\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Connection", "close"]], keepAlive: false } },
  { name: "HTTP/1.1 Connection: CLOSE in a list", raw: withFields(`${H}Connection: Upgrade,CLOSE\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Connection", "Upgrade,CLOSE"]], keepAlive: false } },
  { name: "HTTP/1.1 Connection: closed is not close", raw: withFields(`${H}Connection: closed, xclose\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Connection", "closed, xclose"]], keepAlive: true } },
  { name: "HTTP/1.1 close on a second Connection line", raw: withFields(`${H}Connection: keep-alive\r\nConnection: close\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Connection", "keep-alive"], ["Connection", "close"]], keepAlive: false } },
  { name: "HTTP/1.0 Connection: keep-alive", raw: withFields(`Connection: Keep-Alive\r\n`, "HTTP/1.0"), expect: { method: "GET", target: "/", headers: [["Connection", "Keep-Alive"]], minor: 0, keepAlive: true } },
  { name: "HTTP/1.0 keep-alive in a list", raw: withFields(`Connection: foo ,\tkeep-alive , bar\r\n`, "HTTP/1.0"), expect: { method: "GET", target: "/", headers: [["Connection", "foo ,\tkeep-alive , bar"]], minor: 0, keepAlive: true } },
  { name: "HTTP/1.0 keep-alive and close", raw: withFields(`Connection: keep-alive, close\r\n`, "HTTP/1.0"), expect: { method: "GET", target: "/", headers: [["Connection", "keep-alive, close"]], minor: 0, keepAlive: false } },
  { name: "Expect: 100-continue", raw: withFields(`${H}Expect: 100-continue\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Expect", "100-continue"]], expectContinue: true } },
  { name: "Expect: 100-Continue, any case", raw: withFields(`${H}expect:  100-CONTINUE \r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["expect", "100-CONTINUE"]], expectContinue: true } },
  { name: "Expect: something else", raw: withFields(`${H}Expect: 100-continues\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Expect", "100-continues"]], expectContinue: false } },
  { name: "X-Expect is not Expect", raw: withFields(`${H}Expect-X: 100-continue\r\n`), expect: { method: "GET", target: "/", headers: [HOST, ["Expect-X", "100-continue"]], expectContinue: false } },

  // --- limits (SMALL: request line 64, head 256, 4 fields) ------------------------------------------------------
  { name: "request line exactly at the limit", raw: get(LINE_AT_LIMIT), limits: SMALL, expect: { method: "GET", target: LINE_AT_LIMIT, headers: [HOST] } },
  { name: "request line one byte over → 414", raw: get(LINE_OVER_LIMIT), limits: SMALL, expect: err("URI_TOO_LONG", 414, 64) },
  { name: "request line over with a bad version → 414 first", raw: get(LINE_OVER_LIMIT, "", "HTTP/9.9"), limits: SMALL, expect: err("URI_TOO_LONG", 414, 64) },
  { name: "method running past the request-line limit → 414", raw: `${"M".repeat(70)} / HTTP/1.1\r\n${H}\r\n`, limits: SMALL, expect: err("URI_TOO_LONG", 414, 64) },
  { name: "target running past the request-line limit → 414", raw: get(`/${"x".repeat(80)}`), limits: SMALL, expect: err("URI_TOO_LONG", 414, 64) },
  { name: "request line limit counts from after leading CRLFs", raw: `\r\n\r\n${get(LINE_AT_LIMIT)}`, limits: SMALL, expect: { method: "GET", target: LINE_AT_LIMIT, headers: [HOST], headStart: 4 } },
  { name: "head exactly at the limit", raw: padHead(256), limits: SMALL, expect: { method: "GET", target: "/", headers: [HOST, ["X-Pad", "p".repeat(256 - 46)]] } },
  // The blank line's CR is the last byte that fits; its LF would be byte 257.
  { name: "head one byte over → 431", raw: padHead(257), limits: SMALL, expect: err("HEADERS_TOO_LARGE", 431, 255) },
  { name: "head over the limit in the blank line's LF → 431", raw: `${padHead(256).slice(0, -4)}q\r\n\r\n`, limits: SMALL, expect: err("HEADERS_TOO_LARGE", 431) },
  { name: "leading CRLFs count toward the head limit → 431", raw: `${"\r\n".repeat(130)}GET / HTTP/1.1\r\n`, limits: SMALL, expect: err("HEADERS_TOO_LARGE", 431) },
  {
    // The request line starts at 200, so its own limit (264) lies past the head limit (256).
    name: "leading CRLFs, then a request line crossing the head limit → 431",
    raw: `${"\r\n".repeat(100)}GET /${"x".repeat(60)} HTTP/1.1\r\n${H}\r\n`,
    limits: SMALL,
    expect: err("HEADERS_TOO_LARGE", 431, 256),
  },
  {
    name: "leading CRLFs, then a method crossing the head limit → 431",
    raw: `${"\r\n".repeat(110)}${"M".repeat(40)} / HTTP/1.1\r\n${H}\r\n`,
    limits: SMALL,
    expect: err("HEADERS_TOO_LARGE", 431, 256),
  },
  {
    name: "leading CRLFs, then a request line at its limit whose version crosses the head limit → 431",
    raw: `${"\r\n".repeat(100)}${get(LINE_AT_LIMIT)}`,
    limits: SMALL,
    expect: err("HEADERS_TOO_LARGE", 431, 256),
  },
  { name: "OWS running past the head limit → 431", raw: withFields(`${H}X-Pad:${" ".repeat(300)}v\r\n`), limits: SMALL, expect: err("HEADERS_TOO_LARGE", 431, 256) },
  { name: "a value running past the head limit → 431", raw: withFields(`${H}X-Pad: ${"v".repeat(300)}\r\n`), limits: SMALL, expect: err("HEADERS_TOO_LARGE", 431, 256) },
  { name: "a field name running past the head limit → 431", raw: withFields(`${H}X-${"n".repeat(300)}: v\r\n`), limits: SMALL, expect: err("HEADERS_TOO_LARGE", 431, 256) },
  {
    name: "maxRequestLine above maxHeaderSize: the head limit still ends a long target → 431",
    raw: get(`/${"t".repeat(200)}`),
    limits: { maxRequestLine: 300, maxHeaderSize: 100, maxHeaders: 4 },
    expect: err("HEADERS_TOO_LARGE", 431, 100),
  },
  { name: "exactly maxHeaders fields", raw: withFields(`${H}A: 1\r\nB: 2\r\nC: 3\r\n`), limits: SMALL, expect: { method: "GET", target: "/", headers: [HOST, ["A", "1"], ["B", "2"], ["C", "3"]] } },
  { name: "one field over maxHeaders → 431", raw: withFields(`${H}A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n`), limits: SMALL, expect: err("TOO_MANY_HEADERS", 431, 53) },
  { name: "default limits: a 9000-byte target → 414", raw: get(`/${"z".repeat(9000)}`), expect: err("URI_TOO_LONG", 414, 8192) },
];

function expectedFields(e: OkExpect): Record<string, unknown> {
  const q = e.target.indexOf("?");
  const minor = e.minor ?? 1;
  return {
    method: e.method,
    target: e.target,
    path: e.path ?? (q >= 0 ? e.target.slice(0, q) : e.target),
    query: e.query ?? (q >= 0 ? e.target.slice(q + 1) : ""),
    minor,
    headers: e.headers,
    contentLength: e.contentLength ?? -1,
    chunked: e.chunked ?? false,
    keepAlive: e.keepAlive ?? minor === 1,
    expectContinue: e.expectContinue ?? false,
    headStart: e.headStart ?? 0,
  };
}

describe("parseRequestHead: table", () => {
  const names = new Set<string>();
  for (const row of ROWS) {
    if (names.has(row.name)) throw new Error(`duplicate row name: ${row.name}`);
    names.add(row.name);
    test(row.name, () => {
      const got = checkHead(row.raw, row.limits ?? DEFAULT_PARSER_LIMITS);
      const e = row.expect;
      if (e === "incomplete") {
        expect(got).toEqual({ kind: "incomplete" });
      } else if ("error" in e) {
        expect(got.kind).toBe("failed");
        if (got.kind !== "failed") return;
        expect(got.error).toBe(e.error);
        expect(got.status).toBe(e.status);
        expect(got.offset).toBeGreaterThanOrEqual(0);
        expect(got.offset).toBeLessThanOrEqual(row.raw.length);
        if (e.offset !== undefined) expect(got.offset).toBe(e.offset);
      } else {
        if (got.kind !== "ok") throw new Error(`expected success, got ${JSON.stringify(got)}`);
        expect(got.consumed).toBe(e.consumed ?? row.raw.length);
        const { methodCode, ...fields } = got.fields!;
        expect(fields).toEqual(expectedFields(e) as typeof fields);
        if (e.methodCode !== undefined) expect(methodCode).toBe(e.methodCode);
      }
    });
  }
});

describe("parseRequestHead: pipelining and windows", () => {
  test("two requests in one poisoned buffer parse back to back", () => {
    const one = `POST /a HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`;
    const two = `GET /b?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`;
    for (const poison of POISONS) {
      const raw = latin1(one + two);
      const buf = poisoned(raw, 9, raw.length + 20, poison);
      const head = new RequestHead();
      const end = 9 + raw.length;
      const n1 = parseRequestHead(buf, 9, end, head);
      expect(n1).toBe(one.length);
      expect(fieldsOf(head, 9)).toMatchObject({ method: "POST", target: "/a", contentLength: 0, keepAlive: true });
      const n2 = parseRequestHead(buf, 9 + n1, end, head);
      expect(n2).toBe(two.length);
      expect(fieldsOf(head, 9 + n1)).toMatchObject({ method: "GET", path: "/b", query: "x", minor: 0, keepAlive: true });
      expect(parseRequestHead(buf, 9 + n1 + n2, end, head)).toBe(INCOMPLETE);
    }
  });

  test("an empty window is incomplete", () => {
    const buf = latin1("GET / HTTP/1.1\r\n\r\n");
    expect(parseRequestHead(buf, 5, 5, new RequestHead())).toBe(INCOMPLETE);
  });

  test("a failed parse does not poison the next one on the same head", () => {
    const head = new RequestHead();
    expect(parseRequestHead(latin1("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 0, 31, head)).toBe(FAILED);
    expect(head.error).toBe(HTTP_ERROR.WHITESPACE_BEFORE_COLON);
    const ok = latin1(`GET /fine HTTP/1.1\r\n${H}\r\n`);
    expect(parseRequestHead(ok, 0, ok.length, head)).toBe(ok.length);
    expect(head.error).toBe(0);
    expect(head.errorOffset).toBe(-1);
    expect(head.path).toBe("/fine");
  });

  test("maxHeaders can grow between calls on one head", () => {
    const head = new RequestHead();
    const raw = latin1(withFields(`${H}A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n`));
    expect(parseRequestHead(raw, 0, raw.length, head, SMALL)).toBe(FAILED);
    expect(head.error).toBe(HTTP_ERROR.TOO_MANY_HEADERS);
    expect(parseRequestHead(raw, 0, raw.length, head, { ...SMALL, maxHeaders: 6 })).toBe(raw.length);
    expect(head.headerCount).toBe(6);
    expect(head.valueAt(5)).toBe("5");
  });
});

describe("RequestHead accessors", () => {
  const raw =
    "PUT /up?a=1 HTTP/1.1\r\nHost: h\r\nX-Multi: one\r\nContent-Length: 3\r\nx-multi: two\r\nX-MULTI:\r\nAccept: */*\r\n\r\n";
  const parse = (): RequestHead => {
    const head = new RequestHead();
    expect(parseRequestHead(latin1(raw), 0, raw.length, head)).toBe(raw.length);
    return head;
  };

  test("header() is case-insensitive and joins repeats with ', '", () => {
    const head = parse();
    expect(head.header("host")).toBe("h");
    expect(head.header("HOST")).toBe("h");
    expect(head.header("x-multi")).toBe("one, two, ");
    expect(head.header("X-Multi")).toBe("one, two, ");
    expect(head.header("accept")).toBe("*/*");
    expect(head.header("missing")).toBeUndefined();
    expect(head.header("X-Mult")).toBeUndefined();
    expect(head.header("")).toBeUndefined();
  });

  test("indexOf finds each occurrence in order", () => {
    const head = parse();
    expect(head.indexOf("x-multi")).toBe(1);
    expect(head.indexOf("x-multi", 2)).toBe(3);
    expect(head.indexOf("x-multi", 4)).toBe(4);
    expect(head.indexOf("x-multi", 5)).toBe(-1);
    expect(head.indexOf("CONTENT-LENGTH")).toBe(2);
  });

  test("entries() keeps arrival order and names as sent", () => {
    const head = parse();
    expect(head.entries()).toEqual([
      ["Host", "h"],
      ["X-Multi", "one"],
      ["Content-Length", "3"],
      ["x-multi", "two"],
      ["X-MULTI", ""],
      ["Accept", "*/*"],
    ]);
    expect(head.nameAt(3)).toBe("x-multi");
    expect(head.valueAt(3)).toBe("two");
  });

  test("lowerNameAt: lower case for every name (common ones and others alike)", () => {
    const head = parse();
    expect(Array.from({ length: head.headerCount }, (_, i) => head.lowerNameAt(i))).toEqual([
      "host",
      "x-multi",
      "content-length",
      "x-multi",
      "x-multi",
      "accept",
    ]);
    // a name as long as a common one but not it, and one that differs from it in the last byte
    const r = latin1("GET / HTTP/1.1\r\nHost: h\r\nHoss: 1\r\nSec-Fetch-Modx: 2\r\n\r\n");
    const other = new RequestHead();
    expect(parseRequestHead(r, 0, r.length, other)).toBe(r.length);
    expect([other.lowerNameAt(1), other.lowerNameAt(2)]).toEqual(["hoss", "sec-fetch-modx"]);
  });

  test("host: the Host value whichever the case of its name, and release() forgets the fields", () => {
    const parseOne = (text: string): RequestHead => {
      const head = new RequestHead();
      const bytes = latin1(text);
      expect(parseRequestHead(bytes, 0, bytes.length, head)).toBe(bytes.length);
      return head;
    };
    const a = parseOne("GET /x HTTP/1.1\r\nHost: example.test:8080\r\n\r\n");
    const b = parseOne("GET /y HTTP/1.1\r\nAccept: */*\r\nHOST: example.test:8080\r\n\r\n");
    const c = parseOne("GET /z HTTP/1.1\r\nHost: example.test:8081\r\n\r\n");
    expect(a.host).toBe("example.test:8080");
    expect(b.host).toBe("example.test:8080"); // (the string made for `a`: JS cannot tell two equal strings apart)
    expect(c.host).toBe("example.test:8081");
    expect(a.host).toBe("example.test:8080"); // and back
    expect(parseOne("GET / HTTP/1.0\r\n\r\n").host).toBeUndefined();
    // release() forgets the fields; the next head parsed into it has its own.
    a.release();
    expect(a.headerCount).toBe(0);
    expect(a.host).toBeUndefined();
    const again = latin1("GET / HTTP/1.1\r\nHost: h2\r\nX-A: 1\r\n\r\n");
    expect(parseRequestHead(again, 0, again.length, a)).toBe(again.length);
    expect(a.entries()).toEqual([["Host", "h2"], ["X-A", "1"]]);
    expect(b.entries()).toEqual([["Accept", "*/*"], ["HOST", "example.test:8080"]]); // untouched by a's reuse
  });

  test("version, hasBody, methodName", () => {
    const head = parse();
    expect(head.version).toBe("HTTP/1.1");
    expect(head.hasBody).toBe(true);
    expect(head.method).toBe(METHOD.PUT);
    expect(head.methodName).toBe("PUT");
    const h10 = new RequestHead();
    const r = latin1("FOO / HTTP/1.0\r\n\r\n");
    expect(parseRequestHead(r, 0, r.length, h10)).toBe(r.length);
    expect(h10.version).toBe("HTTP/1.0");
    expect(h10.hasBody).toBe(false);
    expect(h10.methodName).toBe("FOO");
  });

  test("errorStatus and describeError", () => {
    const head = new RequestHead();
    expect(head.errorStatus).toBe(0);
    expect(head.describeError()).toBe("");
    const r = latin1(get("/", "", "HTTP/2.0"));
    expect(parseRequestHead(r, 0, r.length, head)).toBe(FAILED);
    expect(head.errorStatus).toBe(505);
    expect(head.describeError()).toContain("UNSUPPORTED_VERSION");
    expect(head.describeError()).toContain(`at byte ${head.errorOffset}`);
  });
});
