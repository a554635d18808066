/**
 * Stopping the servers the tests start: SIGTERM, then SIGKILL if the process is still there
 * after five seconds. Resolves once it has exited.
 */
import type { ChildProcess } from 'node:child_process';

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}
