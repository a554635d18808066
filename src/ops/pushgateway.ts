/**
 * Pushing a run's registry to the Pushgateway under the grouping key {job, instance}.
 *
 * A success sets every family, so it replaces the whole group (PUT): series of a language that is
 * no longer live disappear with it, which a POST of an empty family would not do. Any other run
 * adds (POST): that replaces only the families it carries and keeps the others, so the last
 * success and the live-list families survive a failed run.
 */
import { Pushgateway, type Registry } from 'prom-client';

export const PUSH_JOB = 'stopword-refresh';

export interface PushOptions {
  readonly url: string;
  readonly registry: Registry;
  readonly instance: string;
  readonly timeoutMs: number;
  /** PUT (replace the group) rather than POST (replace only the pushed families). */
  readonly replace: boolean;
}

export async function pushMetrics(options: PushOptions): Promise<void> {
  const gateway = new Pushgateway(options.url, { timeout: options.timeoutMs }, options.registry);
  const params = { jobName: PUSH_JOB, groupings: { instance: options.instance } };
  if (options.replace) await gateway.push(params);
  else await gateway.pushAdd(params);
}
