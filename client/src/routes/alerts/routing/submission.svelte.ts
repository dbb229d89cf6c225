/** A routing form's sending state: saving while the server answers, its refusal to show, a reset once it worked. */
export class Submission {
  saving = $state(false);
  refusal = $state<string | null>(null);

  /** Sends; on success calls `reset` (the form empties), else keeps the refusal. */
  async send(work: () => Promise<string | null>, reset: () => void): Promise<void> {
    this.saving = true;
    this.refusal = await work();
    this.saving = false;
    if (!this.refusal) reset();
  }
}
