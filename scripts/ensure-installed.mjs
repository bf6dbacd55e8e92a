#!/usr/bin/env node
// Makes `npm run demo` and `npm test` work on a fresh clone: installs the locked dependencies when
// node_modules is missing or older than package-lock.json. Plain Node, no dependencies of its own.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.log('[streamscore] installing dependencies (npm ci)...');
  // npm 10 runs every dependency's install script (it ignores package.json's allowScripts): without this,
  // onnxruntime-node's would try to download CUDA add-ons from NuGet, which fails offline. See .npmrc.
  execSync('npm ci --no-audit --no-fund', {
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}
