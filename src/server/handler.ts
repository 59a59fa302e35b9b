// The handler signature: our light request in, what reply.ts describes out. Apart from reply.ts so
// that the reply types do not depend on the request (and the request on them, through HttpException).
import type { HandlerResult } from "./reply.ts";
import type { ServerRequest } from "./request.ts";

/** null/undefined from a handler: "not mine", the next handler (or 404) answers. */
export type Handler = (req: ServerRequest) => HandlerResult | Promise<HandlerResult>;
