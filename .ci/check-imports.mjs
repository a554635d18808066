#!/usr/bin/env node
// Fails on a circular import between source files, and on an import that breaks the layering
// of DESIGN §8: cli → job → {corpus, analysis, state, publish, ops} → config.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');
const allowed = {
  cli: ['cli', 'job', 'config', 'corpus', 'analysis', 'state', 'publish', 'ops'],
  job: ['job', 'config', 'corpus', 'analysis', 'state', 'publish', 'ops'],
  corpus: ['corpus', 'config'],
  analysis: ['analysis', 'config'],
  // DESIGN §8 forbids corpus, state, publish and ops importing each other; the pure analysis code
  // (the term-set encoding) is shared with the state.
  state: ['state', 'config', 'analysis'],
  publish: ['publish', 'config'],
  ops: ['ops', 'config'],
  config: ['config'],
};

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const graph = new Map();
const problems = [];
for (const file of files(src)) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    const target = resolve(dirname(file), match[1].replace(/\.js$/, '.ts'));
    deps.push(target);
    const from = relative(src, file).split('/')[0];
    const to = relative(src, target).split('/')[0];
    if (!(allowed[from] ?? []).includes(to)) {
      problems.push(
        `${relative(root, file)} imports ${relative(root, target)}: ${from} may not depend on ${to}`,
      );
    }
  }
  graph.set(file, deps);
}

const state = new Map();
const stack = [];
function visit(node) {
  state.set(node, 'active');
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    if (state.get(dep) === 'active') {
      const cycle = stack
        .slice(stack.indexOf(dep))
        .concat(dep)
        .map((f) => relative(root, f));
      problems.push(`circular import: ${cycle.join(' -> ')}`);
    } else if (!state.has(dep)) {
      visit(dep);
    }
  }
  stack.pop();
  state.set(node, 'done');
}
for (const node of graph.keys()) if (!state.has(node)) visit(node);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`imports: ${graph.size} files, no cycles, layering respected`);
