/**
 * Enforces the layering: imports point one way. dataplane/ is pure (no I/O modules, no native),
 * only io/ loads the native addon, control/ and host/ stay independent of each other and of the
 * data plane, and nothing below cli/ imports cli/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { describe, it, expect } from 'vitest';

const SRC = resolve(__dirname, '../../src');

const ALLOWED: Record<string, string[]> = {
  lib: ['lib'],
  dataplane: ['lib', 'dataplane'],
  io: ['lib', 'dataplane', 'io'],
  control: ['lib', 'control'],
  host: ['lib', 'host'],
  daemon: ['lib', 'dataplane', 'io', 'control', 'host', 'daemon'],
  lab: ['lib', 'host', 'control', 'daemon', 'lab'],
  cli: ['lib', 'control', 'host', 'daemon', 'lab', 'cli'],
};

/** Node built-ins the pure data plane must never touch. */
const IO_BUILTINS = /^(node:)?(fs|net|dgram|child_process|http|https|worker_threads|os|tls|dns)(\/|$)/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const re = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: string[] = [];
  for (let m; (m = re.exec(text)); ) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function layerOf(file: string): string {
  return relative(SRC, file).split(/[\\/]/)[0];
}

describe('architecture', () => {
  const all = files(SRC);

  it('finds the layers', () => {
    for (const layer of ['lib', 'dataplane', 'io', 'daemon', 'cli']) expect(all.some((f) => layerOf(f) === layer)).toBe(true);
  });

  it('imports point one way', () => {
    const bad: string[] = [];
    for (const f of all) {
      const from = layerOf(f);
      for (const spec of imports(f)) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(f), spec);
        if (!target.startsWith(SRC)) {
          if (from !== 'io') bad.push(`${relative(SRC, f)} -> ${spec} (only io/ may reach outside src/, for native/)`);
          continue;
        }
        const to = layerOf(target);
        if (!(ALLOWED[from] ?? []).includes(to)) bad.push(`${relative(SRC, f)} -> ${spec} (${from} may not import ${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('dataplane imports no I/O module and nothing from npm', () => {
    const bad: string[] = [];
    for (const f of all.filter((x) => layerOf(x) === 'dataplane')) {
      for (const spec of imports(f)) if (!spec.startsWith('.') || IO_BUILTINS.test(spec)) bad.push(`${relative(SRC, f)} -> ${spec}`);
    }
    expect(bad).toEqual([]);
  });

  it('only io/ loads the native addon', () => {
    const bad = all.filter((f) => layerOf(f) !== 'io' && /ovnet\.node|native\/build|\bbindings\b/.test(readFileSync(f, 'utf8')));
    expect(bad.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('the checker itself catches a violation', () => {
    const fake = join(SRC, 'dataplane', 'x.ts');
    expect(ALLOWED[layerOf(fake)]).not.toContain('io');
    expect(IO_BUILTINS.test('node:dgram')).toBe(true);
  });
});
