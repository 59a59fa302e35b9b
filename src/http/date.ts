// The Date header (RFC 9110 §6.6.1), formatted once a second rather than per response.

const encoder = new TextEncoder();
let lastSecond = -1;
let dateLine: Uint8Array = new Uint8Array(0);

/** `Date: <IMF-fixdate>\r\n` as bytes for the current second. */
export function getDateLine(now = Date.now()): Uint8Array {
  const second = Math.floor(now / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    dateLine = encoder.encode(`Date: ${new Date(second * 1000).toUTCString()}\r\n`);
  }
  return dateLine;
}
