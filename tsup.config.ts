import { defineConfig } from 'tsup';

// One bundle per entry, each in ESM and CommonJS with its own declarations.
// `register` is separate because it has side effects (it starts an SDK).
export default defineConfig({
  entry: { index: 'src/index.ts', register: 'src/register.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  shims: true,
});
