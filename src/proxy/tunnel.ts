// After an upstream's 101 (a WebSocket handshake, or any protocol switch): bytes flow both ways as
// they are, each side paused while the other is behind. Either side closing closes both. A tunnel
// with no bytes either way for the proxy timeout is closed, as nginx's proxy_read_timeout does.
import type { Protocol, UpgradedConnection } from "../server/upgrade.ts";
import type { UpstreamConnection, UpstreamUser } from "./upstream.ts";

/** Bytes queued toward the client before the upstream is paused. */
const HIGH_WATER = 256 * 1024;

export class Tunnel implements Protocol {
  #closed = false;
  /** The upstream socket's events (its onData and onDrain are not the client's). */
  readonly #upstreamSide: UpstreamUser = {
    onConnected: () => {},
    onData: (chunk) => this.#fromUpstream(chunk),
    // The upstream took what the client sent: read the client again.
    onDrain: () => this.client.resume(),
    onClosed: () => this.#close(),
  };

  constructor(
    private readonly client: UpgradedConnection,
    private readonly upstream: UpstreamConnection,
    private readonly timeout: number,
    /** What the upstream sent after its 101 head. */
    fromUpstream: Uint8Array,
    /** What the client sent after its handshake. */
    fromClient: Uint8Array,
  ) {
    upstream.user = this.#upstreamSide;
    if (upstream.closed) {
      this.#close();
      return;
    }
    this.#touch();
    upstream.resume(); // (paused since its 101)
    if (fromUpstream.length > 0) this.#fromUpstream(fromUpstream);
    if (fromClient.length > 0) this.onData(fromClient);
  }

  #touch(): void {
    if (this.timeout > 0) this.client.setDeadline(this.timeout); // (ms from now)
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.upstream.close();
    this.client.end();
  }

  // ---- the client's side (Protocol) ------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#touch();
    // The upstream keeps what it did not take yet; the client waits until it does.
    if (!this.upstream.write(chunk)) this.client.pause();
  }

  onDrain(): void {
    this.upstream.resume();
  }

  onEnd(): void {
    this.#close();
  }

  onClose(): void {
    this.#closed = true;
    this.upstream.close();
  }

  onTimeout(): void {
    this.#close();
  }

  // ---- the upstream's side ---------------------------------------------------------------------

  #fromUpstream(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#touch();
    const output = this.client.output;
    output.send(chunk);
    if (output.queued > HIGH_WATER) this.upstream.pause();
  }
}
