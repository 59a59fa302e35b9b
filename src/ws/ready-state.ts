// A WebSocket's states, as Bun's ServerWebSocket.readyState numbers them (the WHATWG WebSocket's).
export const READY = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
