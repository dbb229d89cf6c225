/**
 * A handler that runs a shell command per task (`wf worker -- COMMAND`): the environment carries
 * the task, exit code 0 completes it (stdout as output when it is JSON), any other fails it.
 */
import { spawn } from 'node:child_process';
import type { Handler } from './worker.js';

export interface ShellOptions {
  /** after SIGTERM, how long the command has before SIGKILL; default 5 s */
  killAfterMs?: number;
  /** stdout kept for the output; default 256 KiB (the server's limit) */
  maxOutputBytes?: number;
  /** where the command's stdout goes when it is not JSON, and its stderr; default this process' */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

const ERROR_TAIL_BYTES = 2_000;

export function shellHandler(command: string, options: ShellOptions = {}): Handler {
  const { killAfterMs = 5_000, maxOutputBytes = 256 * 1024, stdout = process.stdout, stderr = process.stderr } = options;
  return (task, { signal }) =>
    new Promise((resolve, reject) => {
      const input = JSON.stringify(task.input);
      const child = spawn(command, {
        shell: true,
        // Its own process group: stopping it reaches what the shell started too.
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          WF_TASK_ID: task.id,
          WF_TASK_NAME: task.name,
          WF_TASK_ATTEMPT: String(task.attempt),
          WF_TASK_QUEUE: task.queue,
          WF_TASK_INPUT: input,
          WF_WORKFLOW_ID: task.workflow.id,
          WF_WORKFLOW_NAME: task.workflow.name,
        },
      });
      // The input on stdin too; a command that does not read it closes the pipe early.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
      const out: Buffer[] = [];
      let outBytes = 0;
      let errTail = '';
      child.stdout.on('data', (chunk: Buffer) => {
        if (outBytes < maxOutputBytes) out.push(chunk);
        outBytes += chunk.length;
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.write(chunk);
        errTail = (errTail + chunk.toString()).slice(-ERROR_TAIL_BYTES);
      });
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          // already gone
        }
      };
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        kill('SIGTERM');
        killTimer = setTimeout(() => kill('SIGKILL'), killAfterMs);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(Object.assign(new Error(`cannot run ${command}: ${error.message}`), { name: 'SpawnError' }));
      });
      child.once('close', (code, killedBy) => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
        if (signal.aborted) return reject(signal.reason);
        const text = Buffer.concat(out).toString();
        if (code === 0) {
          if (outBytes > maxOutputBytes) {
            return reject(Object.assign(new Error(`stdout is over ${maxOutputBytes} bytes`), { name: 'OutputTooLarge' }));
          }
          if (!text.trim()) return resolve(null);
          try {
            return resolve(JSON.parse(text));
          } catch {
            // Not JSON: shown, not kept.
            stdout.write(text);
            return resolve(null);
          }
        }
        stdout.write(text);
        const how = code === null ? `killed by ${killedBy}` : `exit code ${code}`;
        const message = errTail.trim() ? `${how}: ${errTail.trim()}` : how;
        reject(Object.assign(new Error(message), { name: code === null ? String(killedBy) : `ExitCode${code}` }));
      });
    });
}
