import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions } from 'vite';
import { classicScriptPlugin, scenariosPlugin } from './scripts/vite-plugins.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

// The model's packages are bundled from their TypeScript sources ("@mmsim/source"
// export condition), as the tests read them; Vite 8's Oxc writes the decorator
// metadata tsyringe reads.
export default defineConfig({
  root: here,
  base: './',
  resolve: { conditions: ['@mmsim/source', ...defaultClientConditions] },
  plugins: [scenariosPlugin(workspaceRoot), classicScriptPlugin()],
  server: {
    host: '127.0.0.1',
    fs: { allow: [workspaceRoot] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: false,
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 2048,
    rolldownOptions: {
      output: { format: 'iife', entryFileNames: 'assets/explorer-[hash].js', assetFileNames: 'assets/explorer-[hash][extname]' },
    },
  },
});
