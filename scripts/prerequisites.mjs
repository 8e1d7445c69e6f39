#!/usr/bin/env node
// Finds the programs the system and its tests need where package managers put them, not only on
// the PATH, and checks the test prerequisites before anything else runs. As a script
// (`node scripts/prerequisites.mjs --tests`, the first step of `npm test`) it prints one line per
// missing prerequisite and exits 1.
import { accessSync, constants, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders of the PATH, then the usual places of Debian, RHEL, Homebrew (both prefixes) and Go. */
function searchFolders(extra) {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter((folder) => folder !== '');
  return [...onPath, ...extra, '/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/opt/homebrew/bin', '/home/linuxbrew/.linuxbrew/bin', join(homedir(), 'go', 'bin')];
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Sub-folders of `parent` whose names match `pattern`, newest version first (`17` before `9.6`). */
function versionedFolders(parent, pattern, inner) {
  let names;
  try {
    names = readdirSync(parent).filter((name) => pattern.test(name));
  } catch {
    return [];
  }
  const version = (name) => (name.match(/\d+(\.\d+)?/)?.[0] ?? '0').split('.').map(Number);
  names.sort((a, b) => { const [x, y] = [version(a), version(b)]; return (y[0] - x[0]) || ((y[1] ?? 0) - (x[1] ?? 0)); });
  return names.map((name) => join(parent, name, inner));
}

/** Where PostgreSQL's server programs usually are: Debian's, RHEL's and Homebrew's folders per version. */
function postgresFolders() {
  return [
    ...versionedFolders('/usr/lib/postgresql', /^\d+(\.\d+)?$/, 'bin'),
    ...versionedFolders('/usr', /^pgsql-\d+(\.\d+)?$/, 'bin'),
    ...versionedFolders('/opt/homebrew/opt', /^postgresql(@\d+)?$/, 'bin'),
    ...versionedFolders('/usr/local/opt', /^postgresql(@\d+)?$/, 'bin'),
  ];
}

const PROGRAMS = {
  'nats-server': {
    variable: 'NATS_SERVER_BIN',
    folders: () => [],
    hint: 'install nats-server 2.9 or newer (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server; or a release from https://github.com/nats-io/nats-server/releases)',
  },
  initdb: { variable: 'PG_BIN_DIR', folders: postgresFolders, hint: 'install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql)' },
  pg_ctl: { variable: 'PG_BIN_DIR', folders: postgresFolders, hint: 'install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql)' },
  // The browser tests drive the system's own Chromium; none is ever downloaded.
  chromium: {
    variable: 'CHROMIUM_PATH',
    folders: () => ['/usr/lib/chromium'],
    hint: 'install Chromium for the browser tests (Debian/Ubuntu: apt-get install chromium)',
  },
};

/**
 * The full path of `name` (`nats-server`, `initdb`, `pg_ctl` or `chromium`): from `NATS_SERVER_BIN`
 * or `CHROMIUM_PATH` (the program) or `PG_BIN_DIR` (its folder) when set, else the PATH and the usual install places;
 * undefined when it is nowhere.
 */
export function findExecutable(name) {
  const program = PROGRAMS[name];
  const chosen = process.env[program.variable];
  if (chosen !== undefined && chosen !== '') {
    const path = program.variable === 'PG_BIN_DIR' ? join(chosen, name) : chosen;
    return isExecutable(path) ? path : undefined;
  }
  return searchFolders(program.folders()).map((folder) => join(folder, name)).find(isExecutable);
}

/** One line saying `name` is missing, where it was looked for, and how to get it. */
export function missingProgramMessage(name) {
  const program = PROGRAMS[name];
  const chosen = process.env[program.variable];
  if (chosen !== undefined && chosen !== '') return `${name}: not found where ${program.variable}=${chosen} points`;
  return `${name} not found on the PATH or where package managers put it: ${program.hint}, or set ${program.variable}`;
}

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The URL with its password hidden. */
function shown(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[a URL that does not parse]';
  }
}

/** Resolves with a one-line problem, or undefined when PostgreSQL answers at `url`. */
async function postgresProblem(url) {
  const { default: pg } = await import('pg');
  let client;
  try {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    const reason = err.code ?? err.message.split('\n')[0];
    return `PostgreSQL does not answer at ${shown(url)} (${reason}): start it, or set TEST_DATABASE_URL to one that runs`;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/**
 * What the tests need: PostgreSQL at `TEST_DATABASE_URL`, nats-server, initdb and pg_ctl (the
 * tests start throwaway servers of their own), and Chromium (the browser tests). Resolves with the programs' paths and a line
 * per problem.
 */
export async function checkTestPrerequisites() {
  const paths = {};
  const problems = [];
  for (const name of Object.keys(PROGRAMS)) {
    const path = findExecutable(name);
    if (path === undefined) problems.push(missingProgramMessage(name));
    else paths[name] = path;
  }
  const problem = await postgresProblem(process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL);
  if (problem !== undefined) problems.push(problem);
  return { paths, problems };
}

/** The variables that tell the test helpers where the programs are. */
export function programVariables(paths) {
  return {
    NATS_SERVER_BIN: paths['nats-server'],
    CHROMIUM_PATH: paths.chromium,
    PG_BIN_DIR: paths.initdb === undefined ? undefined : join(paths.initdb, '..'),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] !== '--tests') {
    process.stderr.write('usage: node scripts/prerequisites.mjs --tests\n');
    process.exit(2);
  }
  const { problems } = await checkTestPrerequisites();
  for (const problem of problems) process.stderr.write(`npm test: ${problem}\n`);
  process.exit(problems.length === 0 ? 0 : 1);
}
