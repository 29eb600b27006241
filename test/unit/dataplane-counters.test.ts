import { describe, it, expect } from 'vitest';
import * as C from '../../src/dataplane/counters.js';

describe('counters', () => {
  it('names are unique snake_case, one per index constant', () => {
    const g = Object.entries(C).filter(([k]) => k.startsWith('G_')).map(([, v]) => v as number);
    const n = Object.entries(C).filter(([k]) => k.startsWith('N_')).map(([, v]) => v as number);
    expect([...g].sort((a, b) => a - b)).toEqual(C.GLOBAL_COUNTER_NAMES.map((_, i) => i));
    expect([...n].sort((a, b) => a - b)).toEqual(C.NETWORK_COUNTER_NAMES.map((_, i) => i));
    for (const names of [C.GLOBAL_COUNTER_NAMES, C.NETWORK_COUNTER_NAMES]) {
      expect(new Set(names).size).toBe(names.length);
      for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    }
  });

  it('constants line up with their names', () => {
    expect(C.GLOBAL_COUNTER_NAMES[C.G_UNKNOWN_VNI]).toBe('unknown_vni');
    expect(C.GLOBAL_COUNTER_NAMES[C.G_FDB_FULL]).toBe('fdb_full');
    expect(C.NETWORK_COUNTER_NAMES[C.N_FLOODED_FRAMES]).toBe('flooded_frames');
    expect(C.DROP_COUNTER_NAMES).toContain('tap_write_failed');
    expect(C.DROP_COUNTER_NAMES).not.toContain('fdb_learned');
  });

  it('records read slots; resetNetwork clears one network', () => {
    const c = new C.Counters(4);
    c.global[C.G_TOO_SHORT] = 3;
    c.net[2 * C.NETWORK_STRIDE + C.N_RX_BYTES] = 1500;
    c.net[1 * C.NETWORK_STRIDE + C.N_RX_BYTES] = 7;
    expect(c.globalRecord().too_short).toBe(3);
    expect(c.networkRecord(2).rx_bytes).toBe(1500);
    c.resetNetwork(2);
    expect(c.networkRecord(2).rx_bytes).toBe(0);
    expect(c.networkRecord(1).rx_bytes).toBe(7);
  });
});
