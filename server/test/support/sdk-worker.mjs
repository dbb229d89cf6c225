// A worker process on the SDK (as built) for tests of what only a process shows (signals): claims
// tasks of QUEUE with CONCURRENCY, "works" WORK_MS on each, stops within GRACE_MS on SIGTERM.
// Prints one JSON line per step.
import { createWorker } from '@workflow-factory/sdk';

const { URL: url, TOKEN: token, QUEUE: queue, CONCURRENCY = '1', WORK_MS = '1000', GRACE_MS = '10000' } = process.env;
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
});

const worker = createWorker({
  url: `${url}/graphql`,
  token,
  queues: [queue],
  concurrency: Number(CONCURRENCY),
  graceMs: Number(GRACE_MS),
  handler: async (task, { signal }) => {
    await sleep(Number(WORK_MS), signal);
    return { by: process.pid };
  },
  on: {
    connected: () => say({ connected: true }),
    claimed: (task) => say({ claimed: task.id }),
    completed: (task) => say({ completed: task.id }),
    aborted: (task, reason) => say({ aborted: task.id, reason: reason.reason }),
  },
});
process.once('SIGTERM', () => say({ sigterm: worker.held }));
await worker.start();
