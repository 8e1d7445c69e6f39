import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type pg from 'pg';
import { AUTH_STREAM, Subjects } from '@ticketing/common/events';
import { createTokenKey, createTokenSigner } from '@ticketing/common/tokens';
import { postJson, TEST_JWT_KEY, waitFor, type ServiceProcess } from '@ticketing/testing';

/** A banned-to-be user made in auth's database, with an access token issued before any ban of it. */
export interface TokenUser {
  id: string;
  token: string;
}

/** Signs access tokens as auth does, with the tests' key. */
export const signer = createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 15 * 60_000 });

/**
 * Users inserted into auth's database directly (a signup each would cost a password hash), each
 * with a token dated a few seconds back, so it is issued before any ban made from now on.
 */
export async function usersWithTokens(authSql: pg.Pool, count: number, prefix: string): Promise<TokenUser[]> {
  const { rows } = await authSql.query<{ id: string; email: string }>(
    `INSERT INTO users (email, password_hash, role)
     SELECT $1 || n || '@example.com', 'not-a-hash', 'user' FROM generate_series(1, $2::int) AS n RETURNING id, email`,
    [`${prefix}-${randomUUID().slice(0, 8)}-`, count],
  );
  const issuedAtMs = Date.now() - 5_000;
  return rows.map((row) => ({ id: row.id, token: signer.sign({ id: row.id, email: row.email, role: 'user' }, { issuedAtMs }) }));
}

/**
 * Bans every user through auth at `authUrl`, `concurrency` at a time, expecting 200 for each.
 * Each worker awaits `afterAnswer` with the number answered so far before its next ban, so a
 * caller can act at a point of the burst (or hold the workers back until it has).
 */
export async function banAll(
  authUrl: string,
  adminCookie: string,
  users: readonly TokenUser[],
  options: { concurrency?: number; afterAnswer?: (answered: number) => Promise<unknown> | void } = {},
): Promise<void> {
  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++]!;
      const res = await postJson(`${authUrl}/api/admin/users/${user.id}/ban`, { reason: 'fault suite' }, adminCookie);
      expect(res.status, `ban of ${user.id}`).toBe(200);
      await res.arrayBuffer();
      await options.afterAnswer?.(++answered);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
}

/** `GET /api/orders` with a Bearer token: the status, or `error` when no answer came at all. */
export async function ordersStatus(service: ServiceProcess, token: string): Promise<number | 'error'> {
  try {
    const res = await fetch(`${service.url}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'error';
  }
}

/** Waits until `service` answers 403 to every user's token, naming the ones it still lets in. */
export async function refusesAll(service: ServiceProcess, users: readonly TokenUser[], timeoutMs = 30_000): Promise<void> {
  let left = [...users];
  let statuses: (number | 'error')[] = [];
  await waitFor(async () => {
    statuses = await Promise.all(left.map((user) => ordersStatus(service, user.token)));
    left = left.filter((_, index) => statuses[index] !== 403);
    return left.length === 0;
  }, { timeoutMs, intervalMs: 200, what: 'every banned user to be refused' }).catch((err: Error) => {
    const problems = logLines(service).filter((line) => line.level >= 40).slice(-10).map((line) => JSON.stringify(line)).join('\n');
    throw new Error(`${err.message}: ${left.length} of ${users.length} still answered ${[...new Set(statuses.filter((status) => status !== 403))].join(', ')}; its last warnings:\n${problems}`);
  });
}

/** The value of the first metric line of `service` matching `line` (0 when none does). */
export async function metric(service: ServiceProcess, line: RegExp): Promise<number> {
  const text = await (await fetch(`${service.metricsUrl}/metrics`)).text();
  const found = text.split('\n').find((row) => line.test(row));
  return found === undefined ? 0 : Number(found.split(' ').at(-1));
}

/** `ban_events_applied_total` of ban events with this result (`applied`, `stale`, `expired`). */
export const appliedBans = (service: ServiceProcess, result: string): Promise<number> =>
  metric(service, new RegExp(`^ban_events_applied_total\\{.*subject="${Subjects.UserBanned.replaceAll('.', '\\.')}".*result="${result}"`));

/** The process's JSON log lines (anything else it wrote, such as a stack on stderr, is skipped). */
export function logLines(service: ServiceProcess): ({ level: number; msg?: string } & Record<string, unknown>)[] {
  return service.output().split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as unknown;
      return typeof entry === 'object' && entry !== null && typeof (entry as { level?: unknown }).level === 'number'
        ? [entry as { level: number } & Record<string, unknown>]
        : [];
    } catch {
      return [];
    }
  });
}

/** What the process wrote that is not a JSON log line: an uncaught error's stack would land here. */
export function strayOutput(service: ServiceProcess): string[] {
  return service.output().split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      JSON.parse(line);
      return false;
    } catch {
      return true;
    }
  });
}

/** The pid in the service's own log lines (pino writes it in each). */
export function pidOf(service: ServiceProcess): number {
  const pid = logLines(service).find((line) => line.msg === 'listening')?.pid;
  if (typeof pid !== 'number') throw new Error('the service logged no pid with its listening line');
  return pid;
}

/** Kills the service with SIGKILL, as a crash would, and resolves once it has exited. */
export async function killService(service: ServiceProcess): Promise<number | null> {
  process.kill(pidOf(service), 'SIGKILL');
  // Its process is gone already, so stop() only waits for the exit to be reported.
  return service.stop();
}

/** The ban events in the `AUTH` stream on `natsUrl` (a server, or a cluster's nodes separated by commas), in stream order. */
export async function streamBans(natsUrl: string): Promise<{ id: string; msgId: string | undefined; userId: string; seq: number }[]> {
  const nc = await connect({ servers: natsUrl.split(',') });
  try {
    const consumer = await jetstream(nc).consumers.get(AUTH_STREAM, { filter_subjects: Subjects.UserBanned });
    const bans: { id: string; msgId: string | undefined; userId: string; seq: number }[] = [];
    if ((await consumer.info()).num_pending === 0) return bans;
    const messages = await consumer.consume();
    for await (const msg of messages) {
      const { id, userId } = msg.json<{ id: string; userId: string }>();
      bans.push({ id, userId, msgId: msg.headers?.get('Nats-Msg-Id'), seq: msg.seq });
      if (msg.info.pending === 0) break;
    }
    await messages.close();
    return bans;
  } finally {
    await nc.close();
  }
}

/** The ban events in auth's outbox, in commit order, and whether each was marked published. */
export async function outboxBans(authSql: pg.Pool): Promise<{ id: string; userId: string; published: boolean }[]> {
  const { rows } = await authSql.query<{ id: string; userId: string; published: boolean }>(
    `SELECT id, payload->>'userId' AS "userId", published_at IS NOT NULL AS published FROM outbox WHERE subject = $1 ORDER BY seq`,
    [Subjects.UserBanned],
  );
  return rows;
}

/**
 * Nothing lost, nothing doubled: the outbox holds one ban event for each user in `banned` and no
 * other, every one is marked published, and the stream holds each of them exactly once (its
 * message id being the event id).
 */
export async function expectEachBanPublishedOnce(authSql: pg.Pool, natsUrl: string, banned: readonly { id: string }[]): Promise<void> {
  const outbox = await waitFor(async () => {
    const rows = await outboxBans(authSql);
    return rows.every((row) => row.published) ? rows : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200, what: 'every outbox row to be marked published' });
  expect(outbox.map((row) => row.userId).sort()).toEqual(banned.map((user) => user.id).sort());
  const stream = await waitFor(async () => {
    const bans = await streamBans(natsUrl);
    return bans.length >= outbox.length ? bans : undefined;
  }, { timeoutMs: 20_000, intervalMs: 200, what: `the stream to hold the ${outbox.length} bans` });
  expect(stream).toHaveLength(outbox.length);
  expect(stream.every((ban) => ban.msgId === ban.id)).toBe(true);
  expect(stream.map((ban) => ban.id).sort()).toEqual(outbox.map((row) => row.id).sort());
}

/**
 * Each ban event reached this replica once: applied as many times as the stream holds bans, none
 * seen again (a redelivered event would count as stale).
 */
export async function expectEachBanAppliedOnce(service: ServiceProcess, count: number): Promise<void> {
  expect(await appliedBans(service, 'applied')).toBe(count);
  expect(await appliedBans(service, 'stale')).toBe(0);
}

/**
 * The process never failed on its own: no stack or other stray output, no fatal line, and a
 * SIGTERM now ends it cleanly (exit 0; a process that had died would report its own code).
 */
export async function expectStopsCleanly(service: ServiceProcess): Promise<void> {
  expect(strayOutput(service)).toEqual([]);
  expect(logLines(service).filter((line) => line.level >= 60)).toEqual([]);
  expect(await service.stop()).toBe(0);
}
