#!/usr/bin/env bun
// Public API. Run as a program (`bun run src/index.ts`), it is the command-line server.
export { serve, DEFAULT_OPTIONS, type ServeOptions, type Server } from "./serve.ts";
export type { Handler } from "./server/handler.ts";
export type { HandlerResult, Reply, HeaderList } from "./server/reply.ts";
export { ServerRequest } from "./server/request.ts";
export { HttpException } from "./server/http-exception.ts";
export { proxy, type ProxyOptions } from "./proxy/proxy.ts";
export type { UpstreamMetrics } from "./metrics/registry.ts";
export { Router, type Routes, type RouteHandler, type RouteValue } from "./app/router.ts";
export { toWebRequest, type FetchHandler } from "./app/fetch.ts";
export { FileSource, StreamSource, type BodySource } from "./server/body.ts";
export { parseRequestHead, INCOMPLETE, FAILED, METHOD, DEFAULT_PARSER_LIMITS, type ParserLimits } from "./http/parser.ts";
export { RequestHead } from "./http/head.ts";
export { ChunkedDecoder, DEFAULT_CHUNKED_LIMITS, type BodySink, type ChunkedLimits } from "./http/chunked.ts";
export { HTTP_ERROR, errorName, errorStatus, errorReason, type HttpErrorCode } from "./http/errors.ts";

if (import.meta.main) {
  const { main } = await import("./cli.ts");
  await main();
}
