// A worker process for tests of lost attempts: claims a task of QUEUE over HTTP, heart-beats it
// every HEARTBEAT_MS, and completes it after WORK_MS (never, when unset), naming its attempt,
// then exits. Prints one JSON line per step, so a test knows when to kill it.
const { URL: url, TOKEN: token, QUEUE: queue, WORKER_ID: workerId, HEARTBEAT_MS = '500', WORK_MS } = process.env;

const gql = async (query, variables) => {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
};
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

for (;;) {
  const claimed = await gql('mutation ($q: String, $w: String) { claimTask(queue: $q, workerId: $w) { id attempts leaseExpiresAt } }', { q: queue, w: workerId });
  const task = claimed.data?.claimTask;
  if (!task) {
    if (claimed.errors) say({ error: claimed.errors[0].message });
    await sleep(100);
    continue;
  }
  say({ claimed: task.id, attempt: task.attempts, leaseExpiresAt: task.leaseExpiresAt });
  const doneAt = WORK_MS === undefined ? Infinity : Date.now() + Number(WORK_MS);
  let held = true;
  while (held && Date.now() < doneAt) {
    await sleep(Math.min(Number(HEARTBEAT_MS), Math.max(0, doneAt - Date.now())));
    if (Date.now() >= doneAt) break;
    const beat = await gql('mutation ($id: ID!, $a: Int!) { heartbeatTask(id: $id, attempt: $a, details: { alive: true }) { status leaseExpiresAt } }', { id: task.id, a: task.attempts });
    held = beat.data?.heartbeatTask?.status === 'RUNNING';
    say(held ? { heartbeat: task.id, leaseExpiresAt: beat.data.heartbeatTask.leaseExpiresAt } : { dropped: task.id, why: beat.errors?.[0]?.message ?? beat.data?.heartbeatTask?.status });
  }
  if (held) {
    const done = await gql('mutation ($id: ID!, $a: Int!, $o: JSON) { completeTask(id: $id, attempt: $a, output: $o) { status } }', { id: task.id, a: task.attempts, o: { by: workerId } });
    say(done.errors ? { error: done.errors[0].message } : { completed: task.id, attempt: task.attempts });
    process.exit(0);
  }
}
