import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const recorder = fileURLToPath(new URL('./support/record-imports.mjs', import.meta.url));

/** Every module URL a fresh node process loads to import this subpath of the built package. */
async function modulesLoadedBy(subpath: string): Promise<string[]> {
  if (!existsSync(`${repo}common/dist/${subpath}/index.js`)) throw new Error('common/dist is missing: run npm run build first');
  const { stdout } = await run(process.execPath, ['--import', recorder, '--input-type=module', '-e', `await import('@ticketing/common/${subpath}');`], { cwd: repo });
  return stdout.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length));
}

const DRIVERS = [/\/node_modules\/pg\//, /\/node_modules\/pg-[a-z-]+\//, /@electric-sql\/pglite/, /@nats-io\//];
const drivers = (urls: string[]) => urls.filter((url) => DRIVERS.some((driver) => driver.test(url)));

describe('what a subpath of @ticketing/common loads', () => {
  it.each(['tokens', 'bans', 'http'])('%s loads neither pg, nor PGlite, nor the NATS client', async (subpath) => {
    const urls = await modulesLoadedBy(subpath);
    expect(urls.some((url) => url.includes(`/common/dist/${subpath}/index.js`))).toBe(true);
    expect(drivers(urls)).toEqual([]);
  });

  it('sees the drivers where they are: runtime loads pg and events the NATS client', async () => {
    expect((await modulesLoadedBy('runtime')).some((url) => /\/node_modules\/pg\//.test(url))).toBe(true);
    expect((await modulesLoadedBy('events')).some((url) => /@nats-io\//.test(url))).toBe(true);
  });
});
