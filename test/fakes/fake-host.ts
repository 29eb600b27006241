/** A Dataplane wired to fake ports and a fake clock: one simulated host. */
import { Dataplane, type DataplaneOptions } from '../../src/dataplane/dataplane.js';
import { FakeClock } from './fake-clock.js';
import { FakeTapProvider } from './fake-tap.js';
import { FakeUnderlayPort, FakeWire } from './fake-underlay.js';

export interface FakeHost {
  address: string;
  dp: Dataplane;
  underlay: FakeUnderlayPort;
  taps: FakeTapProvider;
  clock: FakeClock;
}

export type FakeHostOptions = Partial<Omit<DataplaneOptions, 'underlay' | 'taps' | 'clock'>> & {
  wire?: FakeWire;
  clock?: FakeClock;
  port?: number;
};

export function fakeHost(address: string, o: FakeHostOptions = {}): FakeHost {
  const { wire, clock = new FakeClock(), port = 4789, ...rest } = o;
  const underlay = wire ? wire.port(address, port) : new FakeUnderlayPort(address, port);
  const taps = new FakeTapProvider();
  const dp = new Dataplane({ underlay, taps, clock, ...rest });
  return { address, dp, underlay, taps, clock };
}
