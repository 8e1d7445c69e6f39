import { describe } from 'vitest';
import { openDatabase } from '@ticketing/common';
import { silentLogger } from '@ticketing/testing';
import { databaseContract } from './database-contract.js';

// PGlite (PostgreSQL compiled to WASM) is the embedded default; it must behave as the server does.
describe('openDatabase on PGlite (memory://)', () => {
  databaseContract(() => openDatabase({ url: undefined, dataDir: 'memory://', logger: silentLogger() }), 'pglite');
});
