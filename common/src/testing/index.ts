export { waitFor } from './wait-for.js';
export { createTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './test-database.js';
export { silentLogger, capturingLogger } from './loggers.js';
