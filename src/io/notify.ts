/**
 * systemd readiness notification (sd_notify(3)): "READY=1", "STOPPING=1", "STATUS=...",
 * "WATCHDOG=1". A no-op when the daemon was not started by systemd with Type=notify.
 */
import { loadNative } from './native.js';

/**
 * Sends `message` to $NOTIFY_SOCKET. Returns false when there is no NOTIFY_SOCKET or the
 * datagram could not be delivered (systemd gone); never throws for those.
 */
export function sdNotify(message: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const socketPath = env.NOTIFY_SOCKET;
  if (!socketPath) return false;
  return loadNative().sdNotify(socketPath, message);
}
