// Seeds for the Parquet fuzz target (tests/fuzz/fuzz_parquet.c): small
// DuckDB files, V1 and V2, each codec, a list column and wide columns, with
// a null text and repeated ids, in row groups of 3 rows. Each seed is one
// byte choosing the column options (1: --embedding-column embedding, 0: the
// reader chooses) followed by the file. Also a few of the fixtures from the
// other writers (dictionaries, BYTE_STREAM_SPLIT, data page v2, DELTA
// strings, two-level lists, FLOAT16, INT_8), and the hand-made files of
// ../hostile (page checksums among them).
//   cd tests/parquet/gen && npm ci && node make-fuzz-seeds.mjs
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'fs';
import os from 'os';
import path from 'path';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const q = (s) => c.run(s);
await q(`CREATE TABLE t AS SELECT 'doc-'||(r%3) AS id, r*10+3 AS key, CASE WHEN r=2 THEN NULL ELSE 'text '||r END AS text, [((r*37+c*11)%101-50)/32.0 for c in range(4)]::FLOAT[] AS embedding FROM range(6) t(r)`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fidx-seeds-'));
const out = new URL('../../fuzz/corpus/parquet/', import.meta.url).pathname;
for (const [v, comp] of [['V1','snappy'],['V2','zstd'],['V1','gzip'],['V2','uncompressed']]) {
  for (const [name, sel, pre] of [['list', 'id, text, embedding', 1], ['wide', 'key, text, embedding[1] AS "0", embedding[2] AS "1", embedding[3]::DOUBLE AS "2", (r % 5)::INTEGER AS "3"', 0]]) {
    const f = `${tmp}/seed-${name}-${v}-${comp}.parquet`;
    await q(`COPY (SELECT ${sel} FROM (SELECT *, row_number() OVER () AS r FROM t)) TO '${f}' (FORMAT parquet, COMPRESSION ${comp}, PARQUET_VERSION ${v}, ROW_GROUP_SIZE 3)`);
    const b = fs.readFileSync(f);
    fs.writeFileSync(`${out}duckdb-${name}-${v}-${comp}`, Buffer.concat([Buffer.from([pre]), b]));
  }
}
fs.rmSync(tmp, { recursive: true });
const fixtures = new URL('../fixtures/', import.meta.url).pathname;
for (const name of ['pqwasm-list3-float-snappy-pv1-low-intid', 'pqwasm-list3-double-zstd-pv2-high-bss',
                    'hyparquet-list3-double-snappy-pv2-high-bss', 'parquetjs-list2-float-gzip-pv1-low',
                    'pqwasm-list3-float-snappy-pv2-low-null-idtext']) {
  const b = fs.readFileSync(`${fixtures}${name}.parquet`);
  fs.writeFileSync(`${out}${name}`, Buffer.concat([Buffer.from([1]), b]));
}
// FLOAT16 (DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, dictionary) and INT_8, the
// reader choosing the columns.
for (const name of ['pqwasm-list3-float16-zstd-pv2-half-nodict', 'hyparquet-list3-float16-zstd-pv2-half-bss',
                    'pqwasm-wide-float16-zstd-pv2-low', 'pqwasm-list3-int8-snappy-pv1-low']) {
  const b = fs.readFileSync(`${fixtures}${name}.parquet`);
  fs.writeFileSync(`${out}${name}`, Buffer.concat([Buffer.from([0]), b]));
}
// And the hand-made files of ../hostile (make.py), the reader chooses.
const hostile = new URL('../hostile/', import.meta.url).pathname;
for (const name of fs.readdirSync(hostile).filter((f) => f.endsWith('.parquet'))) {
  const b = fs.readFileSync(`${hostile}${name}`);
  fs.writeFileSync(`${out}hostile-${name.replace('.parquet', '')}`, Buffer.concat([Buffer.from([0]), b]));
}
