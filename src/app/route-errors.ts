// The errors Bun.serve throws for a `routes` option it refuses, with Bun 1.4's own messages, so an
// app that fails to start fails the same way on either server (measured in test/compat/routes.test.ts).
// Most are TypeErrors with code ERR_INVALID_ARG_TYPE; the two about parameter names are Bun's
// "TODOError" (a plain Error by that name), as they are limits of its router rather than bad input.

const ROUTES_EXPECTED = `'routes' expects a Record<string, Response | HTMLBundle | {[method: string]: (req: BunRequest) => Response|Promise<Response>}>

To bundle frontend apps on-demand with Bun.serve(), import HTML files.

Example:

\`\`\`js
import { serve } from "bun";
import app from "./app.html";

serve({
  routes: {
    "/index.json": Response.json({ message: "Hello World" }),
    "/app": app,
    "/path/:param": (req) => {
      const param = req.params.param;
      return Response.json({ message: \`Hello \${param}\` });
    },
    "/path": {
      GET(req) {
        return Response.json({ message: "Hello World" });
      },
      POST(req) {
        return Response.json({ message: "Hello World" });
      },
    },
  },

  fetch(request) {
    return new Response("fallback response");
  },
});
\`\`\`

See https://bun.com/docs/api/http for more information.`;

const NEEDS_HANDLER = `Bun.serve() needs either:

  - A routes object:
     routes: {
       "/path": {
         GET: (req) => new Response("Hello")
       }
     }

  - Or a fetch handler:
     fetch: (req) => {
       return new Response("Hello")
     }

Learn more at https://bun.com/docs/api/http`;

const FILE_AN_ISSUE = "\n\nIf you run into this, please file an issue and we will add support for it.";

/** Bun's TypeError for an option it refuses (the routes here, and other options: bun-options.ts). */
export function invalidArg(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_INVALID_ARG_TYPE" });
}

function todo(message: string): Error {
  const err = new Error(message + FILE_AN_ISSUE);
  err.name = "TODOError";
  return err;
}

export const routeErrors = {
  /** A route value that is none of: a function, a Response, a Bun.file, a method map, false. */
  badValue: () => invalidArg(ROUTES_EXPECTED),
  /** No route answers anything and there is no fetch handler. */
  needsHandler: () => invalidArg(NEEDS_HANDLER),
  noLeadingSlash: (pattern: string) => invalidArg(`Invalid route "${pattern}". Path must start with '/'`),
  nonAscii: (pattern: string) => invalidArg(`Invalid route "${pattern}". Please encode all non-ASCII characters in the path.`),
  paramStartsWithDigit: () => todo("Route parameter names cannot start with a number."),
  duplicateParam: () => todo("Support for duplicate route parameter names is not yet implemented."),
  statusZero: () =>
    invalidArg(
      "Cannot use a Response with status 0 as a static route. HTTP status codes must be between 100 and 999 (Response.error() returns status 0).",
    ),
  bodyUsed: () => invalidArg("Response body has already been used"),
  notBuffered: () =>
    invalidArg(
      "Body must be fully buffered before it can be used in a static route. Consider calling new Response(await response.blob()) to buffer the body.",
    ),
} as const;
