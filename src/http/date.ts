// The Date header (RFC 9110 §6.6.1), formatted once a second rather than per response.

const encoder = new TextEncoder();
let lastSecond = -1;
let dateLine: Uint8Array = new Uint8Array(0);

/**
 * `Date: <IMF-fixdate>\r\n` as bytes for the current second. Callers pass clocks read at slightly
 * different times (a connection's, refreshed per read, and Date.now()): near a second's end they
 * would flip the line back and forth, and every flip makes cached whole responses be rebuilt. So the
 * line never steps back by less than a few seconds (a real clock change still takes effect).
 */
export function getDateLine(now = Date.now()): Uint8Array {
  const second = Math.floor(now / 1000);
  if (second > lastSecond || second < lastSecond - 2) {
    lastSecond = second;
    dateLine = encoder.encode(`Date: ${new Date(second * 1000).toUTCString()}\r\n`);
  }
  return dateLine;
}
