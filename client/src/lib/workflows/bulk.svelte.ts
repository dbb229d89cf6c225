/**
 * A bulk action driven from the dashboard: a dry run counts what the filter matches, then the
 * action runs one batch per call (bulkWorkflows' `limit`), so the progress shows after each
 * batch and a stop takes effect between two of them (the batch in flight finishes).
 */
import { client, errorMessage } from '$lib/graphql/client';
import { BulkWorkflowsDocument, type BulkAction, type WorkflowFilter } from '$lib/graphql/generated/graphql';

/** Workflows per call: the server's transaction size, so each call is one batch. */
export const BULK_STEP = 100;

export type BulkPhase = 'idle' | 'counting' | 'counted' | 'running' | 'stopping' | 'done' | 'stopped' | 'failed';

export class BulkRun {
  phase = $state<BulkPhase>('idle');
  /** what the dry run matched */
  matched = $state(0);
  /** changed so far by this run */
  changed = $state(0);
  error = $state<string | null>(null);
  /** asked to stop: the loop ends before its next batch */
  private stopAsked = false;

  constructor(
    private readonly filter: () => WorkflowFilter,
    private readonly action: () => BulkAction,
  ) {}

  private call(dryRun: boolean) {
    return client.mutation(BulkWorkflowsDocument, { filter: this.filter(), action: this.action(), dryRun, limit: dryRun ? null : BULK_STEP }, { requestPolicy: 'network-only' }).toPromise();
  }

  /** Forgets a count that no longer fits the filter or action. */
  reset(): void {
    if (this.phase === 'running' || this.phase === 'stopping') return;
    [this.phase, this.matched, this.changed, this.error] = ['idle', 0, 0, null];
  }

  async count(): Promise<void> {
    [this.phase, this.error, this.changed] = ['counting', null, 0];
    const result = await this.call(true);
    if (result.error || !result.data) return this.fail(errorMessage(result.error));
    this.matched = result.data.bulkWorkflows.matched;
    this.phase = 'counted';
  }

  async run(): Promise<void> {
    [this.phase, this.changed, this.error, this.stopAsked] = ['running', 0, null, false];
    for (;;) {
      if (this.stopAsked) {
        this.phase = 'stopped';
        return;
      }
      const result = await this.call(false);
      if (result.error || !result.data) return this.fail(errorMessage(result.error));
      const { matched, changed } = result.data.bulkWorkflows;
      this.changed += changed;
      // Nothing left, or nothing changed (others changed them meanwhile): done either way.
      if (changed === 0 || matched <= changed) {
        this.phase = this.stopAsked ? 'stopped' : 'done';
        return;
      }
    }
  }

  stop(): void {
    if (this.phase !== 'running') return;
    this.stopAsked = true;
    this.phase = 'stopping';
  }

  private fail(message: string): void {
    this.error = message;
    this.phase = 'failed';
  }
}
