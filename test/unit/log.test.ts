import { describe, it, expect, afterEach } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/lib/log.js';

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { stream, lines };
}

describe('logging', () => {
  const saved = process.env.JOURNAL_STREAM;
  afterEach(() => { if (saved === undefined) delete process.env.JOURNAL_STREAM; else process.env.JOURNAL_STREAM = saved; });

  it('writes plain JSON lines outside systemd, honouring the level', () => {
    delete process.env.JOURNAL_STREAM;
    const { stream, lines } = sink();
    const log = createLogger({ level: 'warn', destination: stream });
    log.info('hidden');
    log.error({ vni: 42 }, 'boom');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 50, vni: 42, msg: 'boom' });
  });

  it('prefixes syslog priorities under systemd so journalctl -p filters work', () => {
    process.env.JOURNAL_STREAM = '8:12345';
    const { stream, lines } = sink();
    const log = createLogger({ level: 'debug', destination: stream });
    log.error('e');
    log.warn('w');
    log.info('i');
    log.debug('d');
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<3>', '<4>', '<6>', '<7>']);
    expect(JSON.parse(lines[0].slice(3))).toMatchObject({ msg: 'e' });
  });
});
