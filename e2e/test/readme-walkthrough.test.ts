import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, startDevRunner, waitForReadyLine, type DevRunner } from './dev-runner.js';

// The README's "Try it" walkthrough, pasted in order into one shell against a freshly started
// `npm start`, every command's output held to the `# …` lines under it; then `npm run demo`
// against the same system (whose admin the walkthrough signed up).
interface Command {
  /** The command as written (continuation lines joined). */
  text: string;
  /** The lines under it that say what it prints; `…` stands for anything. */
  expected: string[];
}

/** The `sh` blocks of the README's "Try it" section, as commands with what each prints. */
function walkthroughCommands(readme: string): Command[] {
  const start = readme.indexOf('\n## Try it\n');
  if (start === -1) throw new Error('the README has no "## Try it" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const commands: Command[] = [];
  for (const block of blocks) {
    let current: Command | undefined;
    let continuing = false;
    for (const line of block.split('\n')) {
      if (continuing && current) {
        current.text += `\n${line}`;
        continuing = line.endsWith('\\');
      } else if (line.trim() === '') {
        current = undefined;
      } else if (line.startsWith('#')) {
        // Under a command: what it prints. Anywhere else: an explanation.
        if (current) current.expected.push(line.replace(/^# ?/, ''));
      } else {
        current = { text: line, expected: [] };
        commands.push(current);
        continuing = line.endsWith('\\');
      }
    }
  }
  return commands;
}

function pattern(expected: string[]): RegExp {
  const escaped = expected.join('\n').split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[\\s\\S]*?')}$`);
}

/** Runs the commands in one bash, as pasted into a terminal; resolves with each one's output and exit code. */
function runInOneShell(commands: string[], cwd: string): Promise<{ output: string; code: number }[]> {
  const shell = spawn('bash', ['--norc', '--noprofile'], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: cwd } });
  let all = '';
  shell.stdout.on('data', (chunk: Buffer) => { all += chunk.toString(); });
  shell.stderr.on('data', (chunk: Buffer) => { all += chunk.toString(); });
  shell.stdin.write('exec 2>&1\n');
  for (const command of commands) shell.stdin.write(`${command}\nprintf '\\n@@end %d@@\\n' "$?"\n`);
  shell.stdin.end();
  return new Promise((resolve, reject) => {
    shell.once('error', reject);
    shell.once('exit', () => {
      const parts = all.split(/\n@@end (\d+)@@\n/);
      const results: { output: string; code: number }[] = [];
      for (let i = 0; i + 1 < parts.length; i += 2) results.push({ output: parts[i]!.trim(), code: Number(parts[i + 1]) });
      resolve(results);
    });
  });
}

let dev: DevRunner;
let cwd: string;
beforeAll(async () => {
  dev = await startDevRunner();
  cwd = await mkdtemp(join(tmpdir(), 'ticketing-walkthrough-'));
  await waitForReadyLine(dev);
}, 90_000);
afterAll(async () => {
  await dev?.destroy();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

it('the README walkthrough works pasted in order, and prints what it says', async () => {
  const commands = walkthroughCommands(await readFile(join(REPO_ROOT, 'README.md'), 'utf8'));
  // Parsed as intended: a walkthrough that lost its commands or expectations would pass vacuously.
  expect(commands.length).toBeGreaterThanOrEqual(30);
  expect(commands.filter((command) => command.expected.length > 0).length).toBeGreaterThanOrEqual(20);
  const onOurPorts = (text: string) => text.replaceAll('localhost:3000', `localhost:${dev.ports.auth}`).replaceAll('localhost:3001', `localhost:${dev.ports.orders}`).replaceAll('localhost:3002', `localhost:${dev.ports.client}`);
  const results = await runInOneShell(commands.map((command) => onOurPorts(command.text)), cwd);
  expect(results).toHaveLength(commands.length);
  for (const [index, command] of commands.entries()) {
    const result = results[index]!;
    const shown = `${command.text}\nprinted: ${result.output}`;
    expect(result.code, shown).toBe(0);
    if (command.expected.length > 0) expect(result.output, shown).toMatch(pattern(command.expected));
  }
}, 120_000);

it('npm run demo then runs against the same system, step by step, and exits 0', async () => {
  const demo = spawn(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs')], { env: { ...process.env, DEV_DATA_DIR: dev.dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  demo.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
  expect(code, output).toBe(0);
  const lines = output.split('\n').filter((line) => line !== '');
  expect(lines.at(-1)).toBe('demo: every step behaved');
  expect(lines.filter((line) => line.startsWith('  ok  '))).toHaveLength(8);
  expect(output).toContain('admin signed in: admin@example.com');
  expect(output).toMatch(/orders refused the user's next request with 403 "User is banned" [\d.]+ m?s after the ban answered/);
}, 90_000);
