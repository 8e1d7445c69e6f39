// Vitest's global setup: before any test file runs, checks that PostgreSQL answers and that
// nats-server, initdb and pg_ctl exist (one line each when not), and tells the test helpers where
// the programs are (NATS_SERVER_BIN, PG_BIN_DIR) for the workers it starts next.
import { checkTestPrerequisites, programVariables } from './prerequisites.mjs';

export default async function setup() {
  const { paths, problems } = await checkTestPrerequisites();
  if (problems.length > 0) throw new Error(problems.join('\n'));
  for (const [name, value] of Object.entries(programVariables(paths))) if (value !== undefined) process.env[name] = value;
}
