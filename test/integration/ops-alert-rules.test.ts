/**
 * The Prometheus alert rules in docs/ops/ with `promtool` (Debian package `prometheus`): they
 * parse, their unit tests pass, and those tests notice when a rule changes. The rules and the
 * Grafana dashboard only name metrics the job writes.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_FAMILIES } from '../../src/ops/metrics.js';
import { ROOT } from '../support/cli.js';

const OPS = join(ROOT, 'docs/ops');
const RULES = 'stopword-refresh.rules.yml';
const RULE_TESTS = 'stopword-refresh.rules.test.yml';
const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';

function promtool(args: readonly string[], cwd: string): { code: number | null; output: string } {
  const run = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined) {
    throw new Error(
      `cannot run ${PROMTOOL} (${run.error.message}); the rule tests need it: apt-get install prometheus`,
    );
  }
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swr-rules-'));
});

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const run = promtool(['check', 'rules', RULES], OPS);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/SUCCESS: 5 rules found/);
  });

  it('pass their promtool unit tests', () => {
    const run = promtool(['test', 'rules', RULE_TESTS], OPS);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  it('unit tests that fail when the 26-hour switch or the failure rule change', async () => {
    await copyFile(join(OPS, RULE_TESTS), join(scratch, RULE_TESTS));
    const rules = await readFile(join(OPS, RULES), 'utf8');
    for (const [from, to] of [
      ['> 26 * 3600', '> 30 * 3600'],
      ['stopword_refresh_last_run_success == 0\n', 'stopword_refresh_last_run_success == 2\n'],
      [
        '0.8 * stopword_refresh_max_duration_seconds',
        '0.9 * stopword_refresh_max_duration_seconds',
      ],
    ] as const) {
      expect(rules).toContain(from);
      await writeFile(join(scratch, RULES), rules.replace(from, to));
      const run = promtool(['test', 'rules', RULE_TESTS], scratch);
      expect(run.code, `${from} → ${to}\n${run.output}`).not.toBe(0);
      expect(run.output).toContain('FAILED');
    }
  });

  it('cover the alerts the runbook describes', async () => {
    const rules = await readFile(join(OPS, RULES), 'utf8');
    const runbook = await readFile(join(OPS, 'stopword-refresh-runbook.md'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1] ?? '');
    expect(alerts).toEqual([
      'StopwordRefreshLastRunFailed',
      'StopwordRefreshNoRecentSuccess',
      'StopwordRefreshMetricsAbsent',
      'StopwordRefreshSlaBreached',
      'StopwordRefreshNearSla',
    ]);
    for (const alert of alerts) {
      expect(runbook, alert).toMatch(new RegExp(`^#{3,4} ${alert}$`, 'm'));
      expect(rules).toContain(`runbook.md#${alert.toLowerCase()}`);
    }
  });
});

describe('metric names in docs/ops', () => {
  it('are all written by the job', async () => {
    for (const file of [RULES, RULE_TESTS, 'grafana-dashboard.json']) {
      const text = await readFile(join(OPS, file), 'utf8');
      const names = new Set(text.match(/stopword_refresh_[a-z_]+/g) ?? []);
      expect(names.size, file).toBeGreaterThan(3);
      for (const name of names) expect(ALL_FAMILIES, `${file}: ${name}`).toContain(name);
    }
  });

  it('the dashboard is importable JSON with a datasource input and queries on every panel', async () => {
    const dashboard = JSON.parse(await readFile(join(OPS, 'grafana-dashboard.json'), 'utf8')) as {
      __inputs: Array<{ name: string }>;
      uid: string;
      panels: Array<{ id: number; title: string; targets: Array<{ expr: string }> }>;
    };
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    expect(dashboard.uid).toBe('stopword-refresh');
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets)
        expect(target.expr, panel.title).toMatch(/stopword_refresh_/);
    }
  });
});
