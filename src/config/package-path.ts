import { fileURLToPath } from 'node:url';

// src/config/ and dist/config/ both sit two levels below the package root.
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of a file shipped with the package, so the defaults work from any working directory. */
export function packagePath(relative: string): string {
  return packageRoot + relative;
}
