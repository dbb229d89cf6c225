/** Schedule actions: the mutation, then a toast saying what happened or why not. */
import { client } from '$lib/graphql/client';
import {
  BackfillScheduleDocument,
  CreateScheduleDocument,
  DeleteScheduleDocument,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  TriggerScheduleDocument,
  type ScheduleInput,
} from '$lib/graphql/generated/graphql';
import { madeOrRefusal, madeOrReported, reported } from '$lib/mutations';

export const createSchedule = (input: ScheduleInput) =>
  madeOrRefusal(client.mutation(CreateScheduleDocument, { input }).toPromise(), (d) => d.createSchedule, (s) => `Schedule “${s.cron}” (${s.timezone}) created.`);

export const pauseSchedule = (id: string) => reported(client.mutation(PauseScheduleDocument, { id }).toPromise(), 'Schedule paused: no slot runs until it is resumed.');
export const resumeSchedule = (id: string) => reported(client.mutation(ResumeScheduleDocument, { id }).toPromise(), 'Schedule resumed from the next slot.');
export const deleteSchedule = (id: string) => reported(client.mutation(DeleteScheduleDocument, { id }).toPromise(), 'Schedule deleted; its runs stay.');

/** The workflow it started, or null when refused (toasted). */
export const triggerSchedule = (id: string) =>
  madeOrReported(madeOrRefusal(client.mutation(TriggerScheduleDocument, { id }).toPromise(), (d) => d.triggerSchedule, (w) => `Triggered: “${w.name}” started now.`));

export const backfillSchedule = (id: string, from: string, to: string) =>
  madeOrRefusal(
    client.mutation(BackfillScheduleDocument, { id, from, to }).toPromise(),
    (d) => d.backfillSchedule,
    (made) => (made === 0 ? 'Every slot in that range has run already.' : `Backfilled ${made} ${made === 1 ? 'slot' : 'slots'}.`),
  );
