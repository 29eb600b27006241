/** host/: the host's devices through iproute2 (bridge, TAP port, endpoint veths, MTU). Imports only lib/. */
export * from './names.js';
export * from './iproute2.js';
export * from './links.js';
export * from './mtu.js';
export * from './bridge.js';
export * from './network-devices.js';
export * from './veth.js';
