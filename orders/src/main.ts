import { runService } from '@ticketing/common/runtime';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { MIGRATIONS } from './schema.js';

await runService({ service: 'orders', env: process.env, loadConfig, migrations: MIGRATIONS, ownedTable: 'orders', start: (deps) => ({ app: createApp(deps) }) });
