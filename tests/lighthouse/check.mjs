// Reads the Lighthouse reports run.sh wrote and fails when a category is under its floor.
// Writes target/lighthouse/scores.md, the table docs/benchmarks.md quotes.
import fs from 'node:fs';
import path from 'node:path';

const FLOORS = { performance: 90, accessibility: 95, 'best-practices': 95, seo: 95 };
const [dir, ...names] = process.argv.slice(2);
const rows = [];
const failures = [];
for (const name of names) {
  const report = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  const scores = Object.fromEntries(Object.keys(FLOORS).map((id) => [id, Math.round((report.categories[id]?.score ?? 0) * 100)]));
  rows.push(`| ${name} | ${Object.values(scores).join(' | ')} |`);
  for (const [id, floor] of Object.entries(FLOORS)) {
    if (scores[id] < floor) {
      const failing = report.categories[id].auditRefs
        .filter((ref) => ref.weight > 0 && (report.audits[ref.id].score ?? 1) < 1)
        .map((ref) => `${ref.id} (${report.audits[ref.id].displayValue ?? report.audits[ref.id].score})`);
      failures.push(`${name}: ${id} ${scores[id]} < ${floor}; audits below full marks: ${failing.join(', ')}`);
    }
  }
}
const table = [
  `Lighthouse ${JSON.parse(fs.readFileSync(path.join(dir, `${names[0]}.json`), 'utf8')).lighthouseVersion}, mobile preset:`,
  '',
  '| page | performance | accessibility | best practices | SEO |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
fs.writeFileSync(path.join(dir, 'scores.md'), `${table}\n`);
console.log(table);
if (failures.length) {
  console.error(`\n${failures.join('\n')}`);
  process.exit(1);
}
