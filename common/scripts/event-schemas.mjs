// Generates common/schema/<subject>.schema.json, the auth events' contract as JSON Schema for
// consumers in any language, from the zod schemas that parseAuthEvent and checkAuthEvent apply.
// `tsc -b` first: run directly, it reads the built common/dist. common/test/event-schemas.test.ts
// renders the same files from the sources and fails when a committed file differs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import process from 'node:process';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';

/** Where the generated files live. */
export const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));

/** What each subject's event means. A subject without an entry fails generation. */
const EVENTS = {
  'auth.user.banned': {
    title: 'auth.user.banned',
    description:
      'Payload of the auth.user.banned event: an admin banned a user. Published by the auth service ' +
      'on the JetStream stream AUTH as UTF-8 JSON. Every token issued to the user at or before ' +
      'bannedAt must be refused until it expires. `id` is the JetStream message id; `userId` is ' +
      'published as a lower-case UUID, but consumers should compare user ids case-insensitively. ' +
      'Later versions of the contract may add fields: ignore the ones you do not know.',
  },
  'auth.user.unbanned': {
    title: 'auth.user.unbanned',
    description:
      'Payload of the auth.user.unbanned event: an admin lifted a ban. Published by the auth service ' +
      'on the JetStream stream AUTH as UTF-8 JSON. Tokens issued at or before the ban stay refused ' +
      'until they expire: an unban only lets tokens issued after it through. `id` is the JetStream ' +
      'message id; `userId` is published as a lower-case UUID, but consumers should compare user ids ' +
      'case-insensitively. Later versions of the contract may add fields: ignore the ones you do not know.',
  },
  'auth.user.sessions-revoked': {
    title: 'auth.user.sessions-revoked',
    description:
      'Payload of the auth.user.sessions-revoked event: every session of a user ended (they signed out ' +
      'everywhere, changed their password, or a stolen refresh token was presented). Published by the auth ' +
      'service on the JetStream stream AUTH as UTF-8 JSON. Every token issued to the user at or before ' +
      'notBefore must be refused (as signed out, 401) until it expires; nothing lifts it. `id` is the ' +
      'JetStream message id; `userId` is published as a lower-case UUID, but consumers should compare user ' +
      'ids case-insensitively. Later versions of the contract may add fields: ignore the ones you do not know.',
  },
};

/** What each payload field means. A field without an entry fails generation. */
const FIELDS = {
  id:
    'The event id, a UUID. It is also the JetStream message id (Nats-Msg-Id), so the stream drops ' +
    'a second publish of the same event within its duplicate window.',
  userId:
    'The id of the user the event is about: a UUID, always published in lower case. Compare user ids ' +
    'case-insensitively, since ids from other sources may be spelled in upper or mixed case.',
  version:
    "On a ban or unban, the user's ban version after this change: every ban and unban of the user adds " +
    'one, so of two such events the higher version is the later state. On a revocation of sessions, the ' +
    "count of the user's revocations. It orders views only; who is refused depends on bannedAt and " +
    'notBefore alone, never on a version.',
  bannedAt: 'When the ban took effect: an ISO-8601 date-time with a UTC offset (Z or ±hh:mm).',
  reason: 'Why the user was banned, as the admin gave it (possibly empty).',
  unbannedAt: 'When the ban was lifted: an ISO-8601 date-time with a UTC offset (Z or ±hh:mm).',
  notBefore: 'When the sessions ended: tokens issued at or before it are refused. An ISO-8601 date-time with a UTC offset (Z or ±hh:mm).',
};

/**
 * The published form of fields that a zod transform canonicalises, which JSON Schema cannot
 * express: the payload as checkAuthEvent returns it, so as it is on the stream.
 */
const PUBLISHED_FORMS = {
  userId: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
};

/**
 * Renders one JSON Schema file per subject.
 *
 * Draft-07 rather than zod's default 2020-12: validators in most languages support it. The schemas
 * describe zod's output, the published payload, except `additionalProperties: false`, which is
 * dropped: consumers of this package ignore unknown fields, and so should a consumer in any other
 * language, or adding a field would make it skip every event.
 *
 * @param {Readonly<Record<string, z.ZodType>>} schemas the zod schema of each subject's payload
 * @returns {Map<string, string>} file name (`<subject>.schema.json`) to file text
 */
export function renderEventSchemas(schemas) {
  const files = new Map();
  for (const [subject, schema] of Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) {
    const event = EVENTS[subject];
    if (!event) throw new Error(`event-schemas: describe ${subject} in EVENTS`);
    const generated = z.toJSONSchema(schema, {
      target: 'draft-07',
      io: 'output',
      unrepresentable: ({ path, message }) => {
        const field = path.length === 2 && path[0] === 'properties' ? path[1] : undefined;
        if (typeof field === 'string' && Object.hasOwn(PUBLISHED_FORMS, field)) return { ...PUBLISHED_FORMS[field] };
        throw new Error(`event-schemas: ${subject} ${path.join('.')}: ${message}; add its published form to PUBLISHED_FORMS`);
      },
    });
    const { $schema, type, properties, required, additionalProperties, ...unexpected } = generated;
    if (type !== 'object' || !properties || additionalProperties !== false || Object.keys(unexpected).length > 0) {
      throw new Error(`event-schemas: ${subject} is not a plain z.object; teach this script its JSON Schema`);
    }
    const described = Object.fromEntries(
      Object.entries(properties).map(([field, property]) => {
        if (!Object.hasOwn(FIELDS, field)) throw new Error(`event-schemas: describe ${subject} field ${field} in FIELDS`);
        return [field, { description: FIELDS[field], ...property }];
      }),
    );
    const document = {
      $schema,
      $id: `urn:ticketing:event:${subject}`,
      title: event.title,
      description: event.description,
      type,
      properties: described,
      required,
    };
    files.set(`${subject}.schema.json`, `${JSON.stringify(document, null, 2)}\n`);
  }
  return files;
}

async function main() {
  const { AUTH_EVENT_SCHEMAS } = await import('../dist/events/auth-events.js');
  await mkdir(SCHEMA_DIR, { recursive: true });
  for (const [name, text] of renderEventSchemas(AUTH_EVENT_SCHEMAS)) {
    const path = `${SCHEMA_DIR}${name}`;
    const before = await readFile(path, 'utf8').catch(() => undefined);
    if (before === text) continue;
    await writeFile(path, text);
    process.stdout.write(`wrote ${path}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
