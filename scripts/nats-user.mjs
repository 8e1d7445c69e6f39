#!/usr/bin/env node
// Makes a NATS NKey user: writes its seed (SU...) to the file given, readable by this user only,
// and prints its public key (U...), which nats-server's config names (NATS_AUTH_NKEY or
// NATS_ORDERS_NKEY). The same as `nk -gen user -pubout`.
//
//   npm run nats-user -- auth.nk      # prints UA...; give auth NATS_NKEY_SEED_FILE=auth.nk
import { existsSync, writeFileSync } from 'node:fs';
import { nkeys } from '@nats-io/transport-node';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: npm run nats-user -- <seed file>\n');
  process.exit(2);
}
if (existsSync(file)) {
  process.stderr.write(`nats-user: ${file} exists; not overwriting a seed\n`);
  process.exit(1);
}
const user = nkeys.createUser();
writeFileSync(file, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
process.stdout.write(`${user.getPublicKey()}\n`);
