// When sends leave. Inside a socket's data callback every frame is corked and the callback ends with
// one write; a send made anywhere else (a timer, an HTTP handler, after an await) is corked too, and a
// microtask writes the batch. Published frames wait per subscriber until then, so one subscriber gets
// everything published to it in one callback in one write (as uWebSockets' topic tree drains).
import { flushCorked } from "../server/cork.ts";

/** A socket with published frames waiting. */
export interface Batched {
  flushPublished(): void;
}

let depth = 0;
let scheduled = false;
const waiting: Batched[] = [];

/** A data callback (or ws.cork()) begins: sends inside it wait for its end. */
export function enterCallback(): void {
  depth++;
}

/** ...and ends: if it was the outermost, what it sent leaves now. */
export function leaveCallback(): void {
  if (--depth === 0) flushAll();
}

/** Something was corked or queued; outside a callback, a microtask sends it. */
export function sendSoon(): void {
  if (depth > 0 || scheduled) return;
  scheduled = true;
  queueMicrotask(flushScheduled);
}

/** `s` has published frames waiting (told once per batch). */
export function awaitFlush(s: Batched): void {
  waiting.push(s);
  sendSoon();
}

function flushScheduled(): void {
  scheduled = false;
  if (depth === 0) flushAll();
}

function flushAll(): void {
  // (A flush may publish again, from a drain handler: the loop takes what is added meanwhile.)
  for (let i = 0; i < waiting.length; i++) waiting[i]!.flushPublished();
  waiting.length = 0;
  flushCorked();
}
