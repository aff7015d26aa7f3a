// bench/parquet's peer: DuckDB reads a CSV or Parquet file into a table.
//   node read-bench.mjs FILE REPS   prints {"s": median seconds}
import { DuckDBInstance } from '@duckdb/node-api';

const [file, reps] = [process.argv[2], Number(process.argv[3])];
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const src = file.endsWith('.csv') ? `read_csv('${file}', header = true)` : `read_parquet('${file}')`;
const t = [];
for (let i = 0; i < reps; i++) {
  await c.run('DROP TABLE IF EXISTS x');
  const t0 = process.hrtime.bigint();
  await c.run(`CREATE TABLE x AS SELECT * FROM ${src}`);
  t.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
t.sort((a, b) => a - b);
console.log(JSON.stringify({ s: t[Math.floor(t.length / 2)] }));
