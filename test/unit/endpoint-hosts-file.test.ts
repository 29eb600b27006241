/** Hosts files of attached namespaces: the managed block, the operator's lines, cleanup. */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE_HOSTS, BEGIN_MARK, END_MARK, HostsFiles, mergeHosts, renderBlock, stripBlock } from '../../src/daemon/hosts-file.js';

const entries = [
  { ip: '10.77.0.3', names: ['web', 'web.demo'] },
  { ip: '10.77.0.2', names: ['db', 'db.demo'] },
];

describe('hosts file text', () => {
  it('renders a sorted block between markers', () => {
    expect(renderBlock(entries)).toBe(`${BEGIN_MARK}\n10.77.0.2\tdb db.demo\n10.77.0.3\tweb web.demo\n${END_MARK}\n`);
  });

  it('a new file starts from localhost lines; a block is replaced, never duplicated; other lines stay', () => {
    const first = mergeHosts(undefined, entries);
    expect(first.startsWith(BASE_HOSTS)).toBe(true);
    const mine = `192.0.2.9\tgateway # operator's\n${first.slice(BASE_HOSTS.length)}`;
    const next = mergeHosts(mine, [entries[0]]);
    expect(next).toBe(`192.0.2.9\tgateway # operator's\n${renderBlock([entries[0]])}`);
    expect(next.split(BEGIN_MARK)).toHaveLength(2);
    expect(stripBlock(next)).toBe("192.0.2.9\tgateway # operator's\n");
    expect(mergeHosts('x', [])).toBe(`x\n${renderBlock([])}`);
  });
});

describe('HostsFiles', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ovnetd-hosts-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes in place (same inode) and only when the content changes', () => {
    const f = new HostsFiles(dir);
    expect(f.write('ns1', entries)).toBe(true);
    const ino = statSync(f.pathOf('ns1')).ino;
    expect(f.unchanged('ns1', entries)).toBe(true);
    expect(f.unchanged('ns1', [entries[0]])).toBe(false);
    expect(f.write('ns1', entries)).toBe(false);
    expect(f.write('ns1', [entries[0]])).toBe(true);
    expect(statSync(f.pathOf('ns1')).ino).toBe(ino);
    expect(readFileSync(f.pathOf('ns1'), 'utf8')).toContain('10.77.0.3\tweb web.demo');
  });

  it('remove deletes a file (and directory) it created, but keeps an operator file without the block', () => {
    const f = new HostsFiles(dir);
    f.write('ns1', entries);
    f.remove('ns1');
    expect(existsSync(join(dir, 'ns1'))).toBe(false);
    mkdirSync(join(dir, 'ns2'));
    writeFileSync(join(dir, 'ns2', 'hosts'), '127.0.0.1 localhost\n10.0.0.1 mine\n');
    f.write('ns2', entries);
    f.remove('ns2');
    expect(readFileSync(join(dir, 'ns2', 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n10.0.0.1 mine\n');
    f.remove('absent');
  });
});
