/**
 * The same data-plane namespace tests with offloads switched off (`--no-offload`), so both
 * paths stay correct: two hosts (ping, 100 MB transfer), three hosts (flooding then unicast),
 * the kernel VXLAN interop (capture + transfers each way) and hostile input.
 */
process.env.OVNETD_TEST_ARGS = '--no-offload';
await import('./two-hosts.test.js');
await import('./three-hosts.test.js');
await import('./kernel-interop.test.js');
await import('./bad-input.test.js');
