// Writes or checks the API report of each public subpath of @ticketing/common (common/api/*.api.md)
// with API Extractor, from the built declarations (run `tsc -b` first).
//
//   node scripts/api-report.mjs          rewrite the reports (commit them with the change)
//   node scripts/api-report.mjs --check  fail, naming the subpath, when a report is out of date
//
// API Extractor reads one entry point per run, so it runs once per subpath.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const common = fileURLToPath(new URL('../common/', import.meta.url));
const check = process.argv.includes('--check');
const subpaths = Object.keys(JSON.parse(readFileSync(`${common}package.json`, 'utf8')).exports)
  .filter((key) => key !== '.' && !key.includes('*'))
  .map((key) => key.slice(2));

let stale = 0;
for (const subpath of subpaths) {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: common,
      mainEntryPointFilePath: `<projectFolder>/dist/${subpath}/index.d.ts`,
      compiler: { tsconfigFilePath: '<projectFolder>/tsconfig.json' },
      apiReport: {
        enabled: true,
        reportFileName: `${subpath}.api.md`,
        reportFolder: '<projectFolder>/api/',
        reportTempFolder: '<projectFolder>/dist/api-report/',
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning },
          // Types shared by several subpaths are reported where they are exported.
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.None },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    },
    configObjectFullPath: `${common}api-extractor.json`,
    packageJsonFullPath: `${common}package.json`,
  });
  const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false, messageCallback(message) {
    // API Extractor bundles its own TypeScript and says so on every run; that is expected here.
    if (message.text.startsWith('Analysis will use the bundled TypeScript')) message.handled = true;
  } });
  if (result.apiReportChanged) {
    stale += 1;
    console.error(check
      ? `api: the public surface of @ticketing/common/${subpath} changed; run \`npm run api\` and commit common/api/${subpath}.api.md`
      : `api: updated common/api/${subpath}.api.md`);
  }
  if (!result.succeeded && !result.apiReportChanged) {
    console.error(`api: API Extractor failed on ${subpath} (${result.errorCount} errors)`);
    process.exitCode = 1;
  }
}
if (check && stale > 0) process.exitCode = 1;
else if (process.exitCode === undefined) console.log(`api: ${subpaths.length} reports ${check ? 'up to date' : 'written'} (${subpaths.join(', ')})`);
