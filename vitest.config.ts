import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Namespace tests share the kernel; run files one at a time so they never fight over CPU.
    fileParallelism: false,
    reporters: ['default'],
  },
});
