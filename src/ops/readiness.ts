/**
 * The checks of `stopword-refresh check` that need only the configuration and ops: directories,
 * the Pushgateway, the textfile, and the alert channels. Each returns lines to print; none
 * writes anything, except the test alert that `--alerts` asks for.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { resolveChecked } from '../config/env-refs.js';
import type { Config } from '../config/types.js';
import { testAlert } from './alerts/alert-message.js';
import { alertChannels, deliver } from './alerts/channels.js';
import { httpRequest } from './http.js';
import { endpointOf, failureReason, type Scrubber } from './redact.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckLine {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

const HTTP_TIMEOUT_MS = 10_000;

export async function directoryCheck(name: string, path: string, what: string): Promise<CheckLine> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return { name, status: 'fail', detail: `${path} is not a directory` };
    await access(path, constants.W_OK);
    return { name, status: 'ok', detail: `${path} is writable` };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      return {
        name,
        status: 'fail',
        detail: `${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      };
    }
  }
  // Missing: fine if the run can create it.
  let parent = dirname(path);
  for (;;) {
    try {
      await access(parent, constants.W_OK);
      return { name, status: 'ok', detail: `${path} does not exist yet; the run creates it` };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dirname(parent)) {
        return {
          name,
          status: 'fail',
          detail: `${path} does not exist and ${what} cannot be created under ${parent}`,
        };
      }
      parent = dirname(parent);
    }
  }
}

export async function monitoringChecks(
  config: Config,
  env: NodeJS.ProcessEnv,
  scrubber: Scrubber,
): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  const gateway = config.monitoring.pushgateway.url;
  if (gateway === null) {
    out.push({
      name: 'pushgateway',
      status: 'skip',
      detail: 'monitoring.pushgateway.url is not set',
    });
  } else {
    try {
      const url = resolveChecked(gateway, 'monitoring.pushgateway.url', env);
      scrubber.add(url);
      const ready = new URL('-/ready', url.endsWith('/') ? url : `${url}/`).toString();
      const reply = await httpRequest(ready, { method: 'GET', timeoutMs: HTTP_TIMEOUT_MS });
      out.push({
        name: 'pushgateway',
        status: reply.status === 200 ? 'ok' : 'fail',
        detail: `${endpointOf(url)}: ${reply.status === 200 ? 'ready' : `HTTP ${reply.status} from /-/ready`}`,
      });
    } catch (error) {
      out.push({ name: 'pushgateway', status: 'fail', detail: reason(error, scrubber) });
    }
  }
  const textfile = config.monitoring.textfile.path;
  if (textfile === null) {
    out.push({ name: 'textfile', status: 'skip', detail: 'monitoring.textfile.path is not set' });
  } else {
    const dir = await directoryCheck('textfile', dirname(textfile), 'the textfile directory');
    out.push(
      dir.status === 'ok' && !dir.detail.includes('does not exist')
        ? { ...dir, detail: `${textfile}: directory is writable` }
        : {
            ...dir,
            status: 'fail',
            detail: `${textfile}: the directory must exist and be writable (node_exporter reads it)`,
          },
    );
  }
  return out;
}

export async function alertChecks(
  config: Config,
  env: NodeJS.ProcessEnv,
  scrubber: Scrubber,
  send: boolean,
): Promise<CheckLine[]> {
  const setup = alertChannels(config.alerts, { env, scrubber, timeoutMs: HTTP_TIMEOUT_MS });
  const out: CheckLine[] = setup.problems.map((p) => ({
    name: p.name,
    status: 'fail',
    detail: p.reason,
  }));
  const configured = new Set([
    ...setup.channels.map((c) => c.name),
    ...setup.problems.map((p) => p.name),
  ]);
  for (const name of ['slack', 'webhook', 'email'] as const) {
    if (!configured.has(name)) out.push({ name, status: 'skip', detail: 'not configured' });
  }
  if (send) {
    if (configured.size === 0) {
      out.push({
        name: 'alerts',
        status: 'fail',
        detail: '--alerts: no alert channel is configured',
      });
      return out;
    }
    const results = await deliver(
      testAlert({ host: hostname(), at: new Date() }),
      { channels: setup.channels, problems: [] },
      scrubber,
    );
    for (const channel of setup.channels) {
      const delivery = results.get(channel.name);
      out.push(
        delivery?.ok === true
          ? {
              name: channel.name,
              status: 'ok',
              detail: `${channel.endpoint}: test alert delivered`,
            }
          : {
              name: channel.name,
              status: 'fail',
              detail: `${channel.endpoint}: ${delivery?.ok === false ? delivery.reason : 'not sent'}`,
            },
      );
    }
    return out;
  }
  for (const channel of setup.channels) {
    if (channel.verify === undefined) {
      out.push({
        name: channel.name,
        status: 'ok',
        detail: `${channel.endpoint}: configured (check --alerts sends a test alert)`,
      });
      continue;
    }
    try {
      await channel.verify();
      out.push({
        name: channel.name,
        status: 'ok',
        detail: `${channel.endpoint}: server answered`,
      });
    } catch (error) {
      out.push({
        name: channel.name,
        status: 'fail',
        detail: `${channel.endpoint}: ${failureReason(error, scrubber)}`,
      });
    }
  }
  return out;
}

function reason(error: unknown, scrubber: Scrubber): string {
  const message = error instanceof Error ? error.message : String(error);
  return scrubber.scrub(message.replace(/\n\s*/g, ' '));
}
