// Bounds for timeout tests. The server checks every deadline on one timer, once a second, so a
// timeout of T ms fires between T and T + 1000 ms after it is armed.
import { expect } from "bun:test";

/**
 * Asserts that `elapsed` ms, from the last byte to the server's 408 or close, is the configured
 * `timeout`: not early (0.8 × T leaves room for scheduling between the server arming the timer and
 * the client's clock), and late by no more than the once-a-second sweep plus slack (`max`: T + 2.5 s).
 */
export function expectTimeout(elapsed: number, timeout: number, max = timeout + 2500): void {
  expect(elapsed).toBeGreaterThanOrEqual(0.8 * timeout);
  expect(elapsed).toBeLessThanOrEqual(max);
}
