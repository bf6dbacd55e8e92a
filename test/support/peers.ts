/** The Python peers' venv (scripts/peers/setup.sh builds it; CI runs it). */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { packagePath } from '../../src/config/index.js';

export const PEER_PYTHON = packagePath('.cache/peers-venv/bin/python');
const STAMP = packagePath('.cache/peers-venv/.requirements.sha256');
const SETUP = 'bash scripts/peers/setup.sh';

/** Fails, naming the fix, when the venv is missing or was built from other requirements. */
export function requirePeerVenv(): void {
  const requirements = readFileSync(packagePath('scripts/peers/requirements.txt'));
  const wanted = createHash('sha256').update(requirements).digest('hex');
  if (!existsSync(PEER_PYTHON)) {
    throw new Error(`the Python peer's venv is missing (${PEER_PYTHON}); run \`${SETUP}\` (CI runs it)`);
  }
  if (!existsSync(STAMP) || readFileSync(STAMP, 'utf8').trim() !== wanted) {
    throw new Error(
      `the Python peer's venv is not built from scripts/peers/requirements.txt; run \`${SETUP}\``,
    );
  }
}
