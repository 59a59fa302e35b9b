// What the server (listen.ts) gives each connection: its options, the shared budgets and clock, and
// the hooks that dispatch a request, turn a failure into a response, filter and log replies.
import type { ChunkedLimits } from "../http/chunked.ts";
import type { ParserLimits } from "../http/parser.ts";
import type { ResponseParts } from "./body.ts";
import type { Budget } from "./budget.ts";
import type { Connection } from "./connection.ts";
import type { TrustFn } from "./proxy.ts";
import type { HandlerResult, Reply } from "./reply.ts";
import type { ServerRequest } from "./request.ts";

export interface ConnectionOptions extends ParserLimits, ChunkedLimits {
  headerTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
  sendTimeout: number;
  /** How long a response may go without a byte sent or received: a handler at work, a stream waiting (0: never). */
  handlerTimeout: number;
  /** Request-body bytes held per connection for a handler that has not read them yet (then reading pauses). */
  bodyBufferSize: number;
  /** Response bytes queued per connection beyond what the kernel took before its next requests wait. */
  outputHighWater: number;
}

export interface ServerContext {
  readonly options: ConnectionOptions;
  readonly connections: Set<Connection>;
  readonly budget: Budget;
  /** Milliseconds, refreshed by the server's sweep timer and at each read. */
  now: number;
  dispatch(req: ServerRequest): HandlerResult | Promise<HandlerResult>;
  /** Turns a thrown error into a response (500 unless an error hook says otherwise). */
  failure(err: unknown, req: ServerRequest): HandlerResult | Promise<HandlerResult>;
  /** A Response's status, headers and body, for the writer. */
  readResponse(res: Response): ResponseParts | Promise<ResponseParts>;
  /**
   * A last look at a handler's reply before it is written (compression), or undefined. A whole
   * pre-encoded response (`raw`: a cached file) is not shown to it.
   */
  readonly filter: ((reply: Reply, req: ServerRequest) => Reply | Promise<Reply>) | undefined;
  log(req: ServerRequest | null, status: number, bytes: number, remote: string, ms: number): void;
  readonly logging: boolean;
  /** Expect a PROXY protocol header before the first request. */
  readonly proxyProtocol: boolean;
  /** Which peers' forwarding headers count (null: none). */
  readonly trust: TrustFn | null;
  /** Sockets are plain TCP (no TLS): bytes may be written to their descriptor directly (writev.ts). */
  readonly plainTcp: boolean;
  /** Streamed files may go by sendfile(2) on plain TCP (ListenOptions.sendfile). */
  readonly sendfile: boolean;
}
