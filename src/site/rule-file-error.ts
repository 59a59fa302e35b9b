// A problem in a site's rule file (serve.json, _redirects, _headers): which file, which line, what.
// At start-up it stops the server with one clear line; when the file changes at run time it is
// logged, and the rules read before stay in force.

export class RuleFileError extends Error {
  constructor(
    /** The file's path as the user knows it (relative to the working directory when inside it). */
    readonly file: string,
    /** 1-based; 0 when the problem is the file as a whole (unreadable, not JSON). */
    readonly line: number,
    readonly problem: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
  }
}
