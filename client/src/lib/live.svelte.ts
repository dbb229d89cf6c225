/**
 * The state of the live (WebSocket) connection, shown in the header. `resumed` counts the
 * times the connection came back after a drop: pages refetch when it changes, so nothing that
 * happened while offline is missed.
 */
import { untrack } from 'svelte';

export type LiveStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting';

export const live = $state({
  status: 'idle' as LiveStatus,
  /** when the status last changed */
  since: new Date(),
  resumed: 0,
});

let everConnected = false;

export function liveConnecting(): void {
  setStatus(everConnected ? 'reconnecting' : 'connecting');
}

export function liveConnected(): void {
  if (everConnected && live.status !== 'connected') live.resumed += 1;
  everConnected = true;
  setStatus('connected');
}

export function liveClosed(event: unknown): void {
  // 1000 is graphql-ws closing on purpose (no page subscribed any more): idle, not a drop.
  if ((event as { code?: number } | null)?.code === 1000) setStatus('idle');
  else if (live.status === 'connected') setStatus('reconnecting');
}

export function liveIdle(): void {
  setStatus('idle');
}

function setStatus(status: LiveStatus): void {
  if (live.status === status) return;
  live.status = status;
  live.since = new Date();
}

/** In a component: calls `refetch` each time the live connection is back after a drop, so nothing missed offline stays missing. */
export function refetchOnResume(refetch: () => void): void {
  $effect(() => {
    if (live.resumed) untrack(refetch);
  });
}
