// The Date header (RFC 9110 §6.6.1), formatted once a second rather than per response.

const encoder = new TextEncoder();
let lastSecond = -1;
let dateLine: Uint8Array = new Uint8Array(0);
let dateString = "";

function refresh(now: number): void {
  const second = Math.floor(now / 1000);
  if (second === lastSecond) return;
  lastSecond = second;
  dateString = new Date(second * 1000).toUTCString();
  dateLine = encoder.encode(`Date: ${dateString}\r\n`);
}

/** `Date: <IMF-fixdate>\r\n` as bytes for the current second. */
export function getDateLine(now = Date.now()): Uint8Array {
  refresh(now);
  return dateLine;
}

export function getDateString(now = Date.now()): string {
  refresh(now);
  return dateString;
}
