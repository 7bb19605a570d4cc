// Says plainly whether the panel reaches sockpitd: an alert while it can't (the bridge keeps retrying by
// itself), a quiet status line with the daemon's vital signs while it can.

import { CONNECTING, describeDisconnection } from '../bridge/connection';
import { formatBytes } from '../lib/format';
import { useConnection } from '../stores';

function uptime(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function ConnectionBanner() {
  const connection = useConnection((s) => s.connection);
  const status = useConnection((s) => s.status);

  // the page shows how to sign in instead of the views (SignedOut)
  if (connection.state === 'signed-out') return null;
  if (connection.state === 'disconnected') {
    if (connection.reason === CONNECTING) {
      return (
        <div role="status" className="banner banner-info">
          Connecting to sockpitd…
        </div>
      );
    }
    return (
      <div role="alert" className="banner banner-error">
        <strong>{describeDisconnection(connection.reason)}</strong>
        <span className="banner-hint">Start it with <code>sudo sockpit daemon</code>; the panel reconnects by itself.</span>
      </div>
    );
  }
  return (
    <div role="status" className="banner banner-ok">
      <span className="dot" aria-hidden="true" />
      Connected to sockpitd
      {status && (
        <span className="vitals">
          {' '}
          {status.version} · pid {status.pid} · up {uptime(status.uptimeSeconds)} · cgroups {status.cgroupMode} · pool {status.pool.free}/{status.pool.size} free ·{' '}
          {status.functions} function{status.functions === 1 ? '' : 's'} · {status.instances.live} instance{status.instances.live === 1 ? '' : 's'} ({status.instances.idle} idle) ·{' '}
          {status.zygotes.enabled ? `${status.zygotes.count} Zygote${status.zygotes.count === 1 ? '' : 's'} (${formatBytes(status.zygotes.memoryBytes)})` : 'Zygotes off'}
        </span>
      )}
    </div>
  );
}
