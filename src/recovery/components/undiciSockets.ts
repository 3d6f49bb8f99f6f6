import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/**
 * The sockets undici clients hold open per origin, learnt from undici's documented
 * `undici:client:connected` diagnostics channel. Node's bundled undici (behind `fetch` and the
 * global dispatcher) and the npm package both publish there, whatever wraps the dispatcher: the
 * global dispatcher has no per-origin API (an Agent keeps its pools in a private map, and once
 * composed, as our breaker instrumentation does, even the Agent is out of reach), and closing
 * and replacing it would drop every origin's connections and any interceptor composed on it.
 *
 * Only origins being watched are tracked, and only sockets opened after the watch began; a
 * socket leaves the set when it closes. Costs nothing per request: the channel fires per
 * connection.
 */
const CHANNEL = 'undici:client:connected';
const sockets = new Map<string, { watchers: number; open: Set<Socket> }>();
let subscribed = false;

interface ConnectedMessage {
  connectParams?: { protocol?: string; host?: string };
  socket?: Socket;
}

function onConnected(message: unknown): void {
  try {
    const { connectParams, socket } = message as ConnectedMessage;
    if (!connectParams?.protocol || connectParams.host === undefined || !socket) return;
    const entry = sockets.get(originKey(connectParams.protocol, connectParams.host));
    if (!entry) return;
    entry.open.add(socket);
    socket.once('close', () => entry.open.delete(socket));
  } catch {
    // Never throw into undici's connect path.
  }
}

/** `http://host:port` as undici's URL gives it (`host` without a default port). */
export function originKey(protocol: string, host: string): string {
  return `${protocol.toLowerCase()}//${host.toLowerCase()}`;
}

/** Tracks the undici sockets of `key` (from {@link originKey}) until the returned function is called. */
export function watchOrigin(key: string): () => void {
  let entry = sockets.get(key);
  if (!entry) sockets.set(key, (entry = { watchers: 0, open: new Set() }));
  if (!subscribed) {
    diagnostics.subscribe(CHANNEL, onConnected);
    subscribed = true;
  }
  entry.watchers++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--entry.watchers > 0) return;
    sockets.delete(key);
    if (sockets.size === 0 && subscribed) {
      diagnostics.unsubscribe(CHANNEL, onConnected);
      subscribed = false;
    }
  };
}

/** Takes every tracked undici socket of `key` out of the set, for the caller to destroy; its clients connect afresh on their next request. */
export function takeOriginSockets(key: string): Socket[] {
  const entry = sockets.get(key);
  if (!entry) return [];
  const out = [...entry.open].filter((s) => !s.destroyed);
  entry.open.clear();
  return out;
}
