/**
 * Durable state for the embedded store in its data directory:
 *   snapshot.json  the whole table, replaced atomically (write temp, fsync, rename, fsync dir);
 *   wal.jsonl      one JSON line per commit since that snapshot (appended, fdatasync'd).
 * Loading reads the snapshot and replays the log; a torn last line (crash mid-append) is
 * dropped, since its commit was never acknowledged. Records at or below the snapshot's index
 * are skipped (a crash between rename and log truncation).
 */
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OvnError } from '../../../lib/errors.js';
import type { CommitRecord, KvStateData, SessionBehavior, StoredEntry } from './kv-state.js';

interface PersistedEntry {
  k: string; v: string; f: number; ci: number; mi: number; li: number; s?: string; sb?: SessionBehavior;
}
interface WalLine { i: number; p: PersistedEntry[]; d: string[] }
interface SnapshotFile { version: 1; index: number; floor: number; entries: PersistedEntry[]; tombstones: [string, number][] }

const toDisk = (e: StoredEntry): PersistedEntry => ({
  k: e.key, v: e.value.toString('base64'), f: e.flags, ci: e.createIndex, mi: e.modifyIndex, li: e.lockIndex,
  ...(e.session ? { s: e.session, sb: e.lockBehavior } : {}),
});
const fromDisk = (p: PersistedEntry): StoredEntry => ({
  key: p.k, value: Buffer.from(p.v, 'base64'), flags: p.f, createIndex: p.ci, modifyIndex: p.mi, lockIndex: p.li,
  ...(p.s ? { session: p.s, lockBehavior: p.sb ?? 'release' } : {}),
});

function corrupt(file: string, why: string): OvnError {
  return new OvnError('OVN_ERR_STORE_PROTOCOL', `embedded store data ${file} is corrupt: ${why}; restore it from a backup or move it away`);
}

function isEntry(x: unknown): x is PersistedEntry {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.k === 'string' && typeof o.v === 'string' && [o.f, o.ci, o.mi, o.li].every((n) => Number.isSafeInteger(n));
}

export class DataDir {
  readonly #snapshotPath: string;
  readonly #walPath: string;
  #wal: number | undefined;
  #walLines = 0;

  constructor(readonly dir: string, private readonly fsync = true) {
    this.#snapshotPath = join(dir, 'snapshot.json');
    this.#walPath = join(dir, 'wal.jsonl');
  }

  get walLines(): number {
    return this.#walLines;
  }

  /** Reads snapshot + log into one state. */
  load(): KvStateData {
    mkdirSync(this.dir, { recursive: true });
    const entries = new Map<string, StoredEntry>();
    const tombstones = new Map<string, number>();
    let index = 0;
    let floor = 0;
    const snap = this.#readSnapshot();
    if (snap) {
      ({ index, floor } = snap);
      for (const p of snap.entries) entries.set(p.k, fromDisk(p));
      for (const [k, i] of snap.tombstones) tombstones.set(k, i);
    }
    for (const line of this.#readWal()) {
      if (line.i <= index) continue;
      for (const p of line.p) { entries.set(p.k, fromDisk(p)); tombstones.delete(p.k); }
      for (const k of line.d) { entries.delete(k); tombstones.set(k, line.i); }
      index = line.i;
    }
    return { index, floor, entries: [...entries.values()], tombstones: [...tombstones] };
  }

  append(rec: CommitRecord): void {
    if (this.#wal === undefined) this.#wal = openSync(this.#walPath, 'a');
    const line: WalLine = { i: rec.index, p: rec.puts.map(toDisk), d: rec.deletes };
    writeSync(this.#wal, JSON.stringify(line) + '\n');
    if (this.fsync) fdatasyncSync(this.#wal);
    this.#walLines++;
  }

  /** Replaces the snapshot atomically, then empties the log it supersedes. */
  writeSnapshot(data: KvStateData): void {
    const file: SnapshotFile = { version: 1, index: data.index, floor: data.floor, entries: data.entries.map(toDisk), tombstones: data.tombstones };
    const tmp = `${this.#snapshotPath}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(file));
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#snapshotPath);
    if (this.fsync) this.#syncDir();
    if (this.#wal === undefined) this.#wal = openSync(this.#walPath, 'a');
    ftruncateSync(this.#wal, 0);
    if (this.fsync) fsyncSync(this.#wal);
    this.#walLines = 0;
  }

  close(): void {
    if (this.#wal !== undefined) closeSync(this.#wal);
    this.#wal = undefined;
  }

  #syncDir(): void {
    const fd = openSync(this.dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }

  #readSnapshot(): SnapshotFile | undefined {
    const text = readOptional(this.#snapshotPath);
    if (text === undefined) return undefined;
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch (err) { throw corrupt(this.#snapshotPath, String(err)); }
    const s = parsed as Partial<SnapshotFile> | null;
    if (!s || s.version !== 1 || !Number.isSafeInteger(s.index) || !Number.isSafeInteger(s.floor) || !Array.isArray(s.entries) || !Array.isArray(s.tombstones)) {
      throw corrupt(this.#snapshotPath, 'unexpected structure');
    }
    if (!s.entries.every(isEntry)) throw corrupt(this.#snapshotPath, 'bad entry');
    const isTomb = (t: unknown): boolean => Array.isArray(t) && typeof t[0] === 'string' && Number.isSafeInteger(t[1]);
    if (!s.tombstones.every(isTomb)) throw corrupt(this.#snapshotPath, 'bad tombstone');
    return s as SnapshotFile;
  }

  #readWal(): WalLine[] {
    const text = readOptional(this.#walPath);
    if (!text) return [];
    const lines = text.split('\n');
    const out: WalLine[] = [];
    for (let n = 0; n < lines.length; n++) {
      if (lines[n] === '') continue;
      let rec: Partial<WalLine> | null;
      try {
        rec = JSON.parse(lines[n]) as Partial<WalLine> | null;
      } catch {
        if (n >= lines.length - 2) break; // torn final append
        throw corrupt(this.#walPath, `line ${n + 1} is not JSON`);
      }
      if (!rec || !Number.isSafeInteger(rec.i) || !Array.isArray(rec.p) || !Array.isArray(rec.d) || !rec.p.every(isEntry)) {
        throw corrupt(this.#walPath, `line ${n + 1} has an unexpected structure`);
      }
      out.push(rec as WalLine);
    }
    this.#walLines = out.length;
    return out;
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
