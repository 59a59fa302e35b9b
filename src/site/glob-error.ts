// A glob serve.json may not use (or that makes no RegExp): a bad pattern, reported with its line.
export class GlobError extends Error {}
