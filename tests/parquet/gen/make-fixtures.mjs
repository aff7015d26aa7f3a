#!/usr/bin/env node
// Writes the Parquet test fixtures of fidx's Parquet reader with real
// third-party writers, reads every file back (DuckDB's parquet_metadata /
// parquet_schema plus a walk over the page headers) and records what is in it
// in fixtures/manifest.json.
//
//   node make-fixtures.mjs                          fixtures into ../fixtures/
//   node make-fixtures.mjs --out DIR                fixtures into DIR (e.g. to diff two runs)
//   node make-fixtures.mjs --bench OUTDIR ROWS DIM  benchmark inputs (see bench() below)
//
// Data (r = 0-based row, c = 0-based column, D = dimension):
//   low : v(r,c) = ((r*37 + c*11) % 101 - 50) / 32   (101 distinct values: writers lean to dictionary)
//   high: v(r,c) = (r*D + c) / 1024 - 7.5             (all distinct: writers lean to PLAIN)
//   half: v(r,c) = the binary16 value of bits (i*2477 + 11) % 0x7c00, i = r*D + c,
//         negated when i % 3 == 1 (and not 0): every exponent, subnormals included
//   What each writer really chose is in the manifest.
//   Every value is exact in float32 and float64 (half's in float16 too). The
//   int32/int64/int8 variants store v * int_scale (32 for low, 1024 for high),
//   which is an exact integer; uint8 stores v * 32 + 50 (int_offset 50).
//   id   = "doc-<r>" (string) or r*10+3 (int64);  text = "text <r> café" (UTF-8).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetReadObjects } from 'hyparquet';
import parquetjs from '@dsnp/parquetjs';
import * as zstd from '@bokuweb/zstd-wasm';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// read from node_modules directly: some packages do not export ./package.json
const pkgVersion = (name) => JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', name, 'package.json'), 'utf8')).version;

// ---------------------------------------------------------------------------
// data
// ---------------------------------------------------------------------------
// The binary16 value of bits h (0 <= h < 0x7c00), as a JS number.
const half = (h) => (h < 0x400 ? h * 2 ** -24 : (1 + (h & 0x3ff) / 1024) * 2 ** ((h >> 10) - 15));
const halfAt = (i) => { const h = (i * 2477 + 11) % 0x7c00; return (i % 3 === 1 && h ? -1 : 1) * half(h); };
const DATA = {
  half: { fn: (r, c, D) => halfAt(r * D + c), formula: 'v(r,c) = binary16 bits (i*2477 + 11) % 0x7c00 as a number, negated when i % 3 == 1 and the bits are not 0; i = r*D + c' },
  low: { fn: (r, c, D) => ((r * 37 + c * 11) % 101 - 50) / 32, intScale: 32,
    formula: 'v(r,c) = ((r*37 + c*11) % 101 - 50) / 32', sql: (r, c) => `(CAST((${r}*37 + ${c}*11) % 101 - 50 AS DOUBLE) / 32)` },
  high: { fn: (r, c, D) => (r * D + c) / 1024 - 7.5, intScale: 1024,
    formula: 'v(r,c) = (r*D + c) / 1024 - 7.5', sql: (r, c, D) => `(CAST(${r}*${D} + ${c} AS DOUBLE) / 1024 - 7.5)` },
};
const idStr = (r) => `doc-${r}`;
const idInt = (r) => r * 10 + 3;
const textOf = (r) => `text ${r} café`;
const isInt = (t) => t === 'int32' || t === 'int64' || t === 'int8' || t === 'uint8';
const intOffset = (t) => (t === 'uint8' ? 50 : 0);

// expected element value (as a JS number; int64 as number too, all are small)
function elemValue(spec, r, c) {
  const v = DATA[spec.dataset].fn(r, c, spec.dim);
  return isInt(spec.elem) ? v * DATA[spec.dataset].intScale + intOffset(spec.elem) : v;
}

// Nulls of a spec, normalised: [{column, row, element?}]
function nullAt(spec, column, r, c) {
  for (const n of spec.nulls ?? []) {
    if (n.column === column && n.row === r && (c === undefined ? n.element === undefined : n.element === c)) return true;
  }
  return false;
}

// The expected rows as plain JS values: {id, text, embedding|cols}
function expectedRows(spec) {
  const rows = [];
  for (let r = 0; r < spec.rows; r++) {
    const row = {};
    if (spec.id) row.id = nullAt(spec, 'id', r) ? null : (spec.id === 'int64' ? idInt(r) : idStr(r));
    if (spec.text) row.text = nullAt(spec, 'text', r) ? null : textOf(r);
    if (spec.layout === 'wide') {
      for (let c = 0; c < spec.dim; c++) row[String(c)] = nullAt(spec, String(c), r) ? null : elemValue(spec, r, c);
    } else {
      if (nullAt(spec, 'embedding', r)) row.embedding = null;
      else if ((spec.empty ?? []).includes(r)) row.embedding = [];
      else row.embedding = Array.from({ length: spec.dim }, (_, c) => (nullAt(spec, 'embedding', r, c) ? null : elemValue(spec, r, c)));
    }
    rows.push(row);
  }
  return rows;
}

// JSON number formatting of the float64 value: shortest text that round-trips
// to the same double, hence also to the same float (all values are floats).
const fmtNum = (v) => {
  const s = String(v);
  if (!/^-?[0-9.]+(e[-+]?[0-9]+)?$/.test(s)) throw new Error(`bad number ${s}`);
  return s;
};

function writeCsv(outDir, dataset, R, D) {
  const name = `${dataset}-${R}-${D}.csv`;
  const lines = [['id', 'text', ...Array.from({ length: D }, (_, c) => String(c))].join(',')];
  for (let r = 0; r < R; r++) {
    const vals = Array.from({ length: D }, (_, c) => fmtNum(DATA[dataset].fn(r, c, D)));
    lines.push([idStr(r), textOf(r), ...vals].join(','));
  }
  fs.writeFileSync(path.join(outDir, name), lines.join('\n') + '\n');
  return name;
}

// ---------------------------------------------------------------------------
// writers
// ---------------------------------------------------------------------------
let duck; // { instance, con }
async function duckdb() {
  if (!duck) {
    // one thread: row-group boundaries and byte layout are then deterministic
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await instance.connect();
    duck = { instance, con };
  }
  return duck.con;
}
async function q(sql) {
  const con = await duckdb();
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJson();
}
const sqlStr = (s) => `'${String(s).replace(/'/g, "''")}'`;

const DUCK_ELEM = { float: 'FLOAT', double: 'DOUBLE', int32: 'INTEGER', int64: 'BIGINT' };

async function writeDuckdb(spec, file) {
  const D = spec.dim;
  const T = DUCK_ELEM[spec.elem];
  const ds = DATA[spec.dataset];
  const scale = isInt(spec.elem) ? ` * ${ds.intScale}` : '';
  const val = (c) => `CAST(${ds.sql('r', c, D)}${scale} AS ${T})`;
  const nullCase = (column, inner, c) => {
    const hits = (spec.nulls ?? []).filter((n) => n.column === column && (c === undefined ? n.element === undefined : n.element !== undefined));
    if (!hits.length) return inner;
    const cond = hits.map((n) => (n.element !== undefined ? `(r = ${n.row} AND ${c} = ${n.element})` : `r = ${n.row}`)).join(' OR ');
    return `CASE WHEN ${cond} THEN NULL ELSE ${inner} END`;
  };
  const cols = [];
  if (spec.id) cols.push(`${nullCase('id', spec.id === 'int64' ? 'CAST(r*10+3 AS BIGINT)' : `'doc-' || r`)} AS id`);
  if (spec.text) cols.push(`${nullCase('text', `'text ' || r || ' café'`)} AS text`);
  if (spec.layout === 'wide') {
    for (let c = 0; c < D; c++) cols.push(`${nullCase(String(c), val(c))} AS "${c}"`);
  } else {
    const elem = nullCase('embedding', val('c'), 'c');
    let list = `[${elem} FOR c IN range(${D})]`;
    if (spec.duckType === 'array') list = `CAST(${list} AS ${T}[${D}])`;
    else list = `CAST(${list} AS ${T}[])`;
    for (const r of spec.empty ?? []) list = `CASE WHEN r = ${r} THEN CAST([] AS ${T}[]) ELSE ${list} END`;
    cols.push(`${nullCase('embedding', list)} AS embedding`);
  }
  const opts = [`FORMAT parquet`, `COMPRESSION ${spec.codec}`, `PARQUET_VERSION ${spec.duckVersion}`];
  if (spec.rowGroupSize) opts.push(`ROW_GROUP_SIZE ${spec.rowGroupSize}`);
  if (spec.duckExtra) opts.push(spec.duckExtra);
  spec.request = opts.join(', ');
  await q(`COPY (SELECT ${cols.join(', ')} FROM range(${spec.rows}) t(r) ORDER BY r) TO ${sqlStr(file)} (${opts.join(', ')})`);
}

// --- parquet-wasm (arrow-rs) ---------------------------------------------
const PW_CODEC = { UNCOMPRESSED: pw.Compression.UNCOMPRESSED, SNAPPY: pw.Compression.SNAPPY, GZIP: pw.Compression.GZIP,
  ZSTD: pw.Compression.ZSTD, BROTLI: pw.Compression.BROTLI, LZ4_RAW: pw.Compression.LZ4_RAW };
const ARROW_ELEM = { float: () => new arrow.Float32(), double: () => new arrow.Float64(), int32: () => new arrow.Int32(), int64: () => new arrow.Int64(),
  float16: () => new arrow.Float16(), int8: () => new arrow.Int8(), uint8: () => new arrow.Uint8() };

function arrowTable(spec) {
  const rows = expectedRows(spec);
  const fields = [];
  const kids = [];
  const add = (name, type, nullable, values) => {
    const v = arrow.vectorFromArray(values, type);
    if (v.data.length !== 1) throw new Error('expected one chunk');
    fields.push(new arrow.Field(name, type, nullable));
    kids.push(v.data[0]);
  };
  const big = (x) => (x === null ? null : BigInt(x));
  if (spec.id === 'int64') add('id', new arrow.Int64(), true, rows.map((o) => big(o.id)));
  else if (spec.id) add('id', new arrow.Utf8(), true, rows.map((o) => o.id));
  if (spec.text) add('text', new arrow.Utf8(), true, rows.map((o) => o.text));
  const conv = spec.elem === 'int64' ? big : (x) => x;
  if (spec.layout === 'wide') {
    for (let c = 0; c < spec.dim; c++) add(String(c), ARROW_ELEM[spec.elem](), spec.nullable !== false, rows.map((o) => conv(o[String(c)])));
  } else {
    const lt = new arrow.List(new arrow.Field(spec.elementName, ARROW_ELEM[spec.elem](), spec.elementNullable !== false));
    add('embedding', lt, spec.listNullable !== false, rows.map((o) => (o.embedding === null ? null : o.embedding.map(conv))));
  }
  const schema = new arrow.Schema(fields);
  const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: spec.rows, children: kids }));
  return new arrow.Table(schema, batch);
}

function writeParquetWasm(spec, file) {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(PW_CODEC[spec.codec])
    .setWriterVersion(spec.pageVersion === 2 ? pw.WriterVersion.V2 : pw.WriterVersion.V1)
    .setDictionaryEnabled(spec.dictionary !== false);
  const req = [`compression=${spec.codec}`, `writer_version=${spec.pageVersion === 2 ? '2.0' : '1.0'}`, `dictionary=${spec.dictionary !== false}`];
  if (spec.bss) {
    // parquet-wasm's per-column setters take a single path part, so nested leaves
    // (embedding.list.item) can only be reached by the global setting; the string
    // columns are set back to PLAIN by name.
    if (spec.layout === 'wide') {
      for (let c = 0; c < spec.dim; c++) b = b.setColumnEncoding(String(c), pw.Encoding.BYTE_STREAM_SPLIT);
      req.push('column_encoding("0".."D-1")=BYTE_STREAM_SPLIT');
    } else {
      b = b.setEncoding(pw.Encoding.BYTE_STREAM_SPLIT);
      req.push('encoding=BYTE_STREAM_SPLIT');
      for (const col of ['id', 'text']) {
        if ((col === 'id' && spec.id === 'string') || (col === 'text' && spec.text)) {
          b = b.setColumnEncoding(col, pw.Encoding.PLAIN);
          req.push(`column_encoding(${col})=PLAIN`);
        }
      }
    }
  }
  if (spec.rowGroupSize) { b = b.setMaxRowGroupSize(spec.rowGroupSize); req.push(`max_row_group_size=${spec.rowGroupSize}`); }
  if (spec.dictPageBytes) { b = b.setDictionaryPageSizeLimit(spec.dictPageBytes); req.push(`dictionary_page_size_limit=${spec.dictPageBytes}`); }
  if (spec.pageBytes) {
    b = b.setDataPageSizeLimit(spec.pageBytes).setWriteBatchSize(spec.writeBatch ?? 64);
    req.push(`data_page_size_limit=${spec.pageBytes}`, `write_batch_size=${spec.writeBatch ?? 64}`);
  }
  spec.request = req.join(', ');
  const ipc = arrow.tableToIPC(arrowTable(spec), 'stream');
  const buf = pw.writeParquet(pw.Table.fromIPCStream(ipc), b.build());
  fs.writeFileSync(file, buf);
}

// --- hyparquet-writer --------------------------------------------------------
// the schema fields of an element type
const HY_ELEM = { float: { type: 'FLOAT' }, double: { type: 'DOUBLE' }, int32: { type: 'INT32' }, int64: { type: 'INT64' },
  float16: { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, logical_type: { type: 'FLOAT16' } },
  int8: { type: 'INT32', converted_type: 'INT_8' }, uint8: { type: 'INT32', converted_type: 'UINT_8' } };
const hyCompressors = {
  GZIP: (bytes) => new Uint8Array(zlib.gzipSync(bytes)),
  ZSTD: (bytes) => zstd.compress(bytes, 3),
};

function writeHyparquet(spec, file) {
  const rows = expectedRows(spec);
  const rep = (nullable) => (nullable === false ? 'REQUIRED' : 'OPTIONAL');
  const schema = [{ name: 'root', num_children: 0 }];
  const columnData = [];
  const conv = spec.elem === 'int64' ? (x) => (x === null ? null : BigInt(x)) : (x) => x;
  if (spec.id === 'int64') {
    schema.push({ name: 'id', type: 'INT64', repetition_type: 'OPTIONAL' });
    columnData.push({ name: 'id', data: rows.map((o) => (o.id === null ? null : BigInt(o.id))) });
  } else if (spec.id) {
    schema.push({ name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    columnData.push({ name: 'id', data: rows.map((o) => o.id) });
  }
  if (spec.text) {
    schema.push({ name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    columnData.push({ name: 'text', data: rows.map((o) => o.text) });
  }
  const enc = spec.bss ? 'BYTE_STREAM_SPLIT' : spec.dictionary === false ? 'PLAIN' : undefined;
  if (spec.layout === 'wide') {
    for (let c = 0; c < spec.dim; c++) {
      schema.push({ name: String(c), ...HY_ELEM[spec.elem], repetition_type: rep(spec.nullable) });
      columnData.push({ name: String(c), data: rows.map((o) => conv(o[String(c)])), ...(enc ? { encoding: enc } : {}) });
    }
  } else {
    schema.push(
      { name: 'embedding', repetition_type: rep(spec.listNullable), converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: spec.elementName, ...HY_ELEM[spec.elem], repetition_type: rep(spec.elementNullable) },
    );
    columnData.push({ name: 'embedding', data: rows.map((o) => (o.embedding === null ? null : o.embedding.map(conv))), ...(enc ? { encoding: enc } : {}) });
  }
  schema[0].num_children = columnData.length;
  const opts = { columnData, schema, codec: spec.codec, compressors: hyCompressors };
  const req = [`codec=${spec.codec}`];
  if (enc) req.push(`encoding=${enc}`);
  if (spec.codec === 'GZIP') req.push('compressor=node:zlib gzipSync (default level)');
  if (spec.codec === 'ZSTD') req.push('compressor=@bokuweb/zstd-wasm level 3');
  opts.rowGroupSize = spec.rowGroupSize ?? spec.rows; req.push(`rowGroupSize=${opts.rowGroupSize}`);
  if (spec.pageBytes) { opts.pageSize = spec.pageBytes; req.push(`pageSize=${spec.pageBytes}`); }
  spec.request = req.join(', ');
  fs.writeFileSync(file, new Uint8Array(parquetWriteBuffer(opts)));
}

// --- @dsnp/parquetjs -----------------------------------------------------
const PJ_ELEM = { float: 'FLOAT', double: 'DOUBLE', int32: 'INT32', int64: 'INT64' };

async function writeParquetjs(spec, file) {
  const rows = expectedRows(spec);
  const compression = spec.codec;
  const def = {};
  if (spec.id === 'int64') def.id = { type: 'INT64', optional: true, compression };
  else if (spec.id) def.id = { type: 'UTF8', optional: true, compression };
  if (spec.text) def.text = { type: 'UTF8', optional: true, compression };
  const T = PJ_ELEM[spec.elem];
  if (spec.layout === 'wide') {
    for (let c = 0; c < spec.dim; c++) def[String(c)] = { type: T, optional: spec.nullable !== false, compression };
  } else if (spec.layout === 'list2') {
    // optional group embedding (LIST) { repeated <T> array; }
    def.embedding = { type: 'LIST', optional: spec.listNullable !== false, fields: { [spec.elementName]: { type: T, repeated: true, compression } } };
  } else if (spec.layout === 'repeated') {
    def.embedding = { type: T, repeated: true, compression };
  } else throw new Error(`parquetjs layout ${spec.layout}`);
  const schema = new parquetjs.ParquetSchema(def);
  const opts = { useDataPageV2: spec.pageVersion === 2, rowGroupSize: spec.rowGroupSize ?? spec.rows, pageSize: spec.pageRows ?? spec.rows };
  spec.request = `compression=${compression}, useDataPageV2=${opts.useDataPageV2}, rowGroupSize=${opts.rowGroupSize} rows, pageSize=${opts.pageSize} rows`;
  const w = await parquetjs.ParquetWriter.openFile(schema, file, opts);
  for (const o of rows) {
    const row = {};
    if (spec.id) row.id = o.id === null ? null : spec.id === 'int64' ? BigInt(o.id) : o.id;
    if (spec.text) row.text = o.text;
    if (spec.layout === 'wide') for (let c = 0; c < spec.dim; c++) row[String(c)] = o[String(c)];
    else if (spec.layout === 'list2') row.embedding = o.embedding === null ? null : { [spec.elementName]: o.embedding };
    else row.embedding = o.embedding;
    for (const k of Object.keys(row)) if (row[k] === null) delete row[k];
    await w.appendRow(row);
  }
  await w.close();
}

// ---------------------------------------------------------------------------
// reading back: metadata through DuckDB, pages through a small thrift walker
// ---------------------------------------------------------------------------
function thriftReader(buf, pos) {
  const r = { buf, pos };
  const byte = () => r.buf[r.pos++];
  const varint = () => {
    let result = 0n, shift = 0n;
    for (;;) { const b = byte(); result |= BigInt(b & 0x7f) << shift; if (!(b & 0x80)) return result; shift += 7n; }
  };
  const zigzag = () => { const n = varint(); return Number((n >> 1n) ^ -(n & 1n)); };
  const value = (type) => {
    switch (type) {
      case 1: return true;
      case 2: return false;
      case 3: return (byte() << 24) >> 24;
      case 4: case 5: case 6: return zigzag();
      case 7: { const v = r.buf.readDoubleLE(r.pos); r.pos += 8; return v; }
      case 8: { const n = Number(varint()); const v = r.buf.subarray(r.pos, r.pos + n); r.pos += n; return v; }
      case 9: case 10: {
        const h = byte(); let n = h >> 4; const et = h & 15; if (n === 15) n = Number(varint());
        const out = []; for (let i = 0; i < n; i++) out.push(et === 1 || et === 2 ? byte() === 1 : value(et)); return out;
      }
      case 11: {
        const n = Number(varint()); if (!n) return new Map(); const kv = byte(); const m = new Map();
        for (let i = 0; i < n; i++) m.set(value(kv >> 4), value(kv & 15)); return m;
      }
      case 12: return struct();
      default: throw new Error(`thrift type ${type}`);
    }
  };
  const struct = () => {
    const o = {}; let last = 0;
    for (;;) {
      const h = byte(); if (h === 0) return o;
      const delta = h >> 4; const type = h & 15;
      const id = delta ? last + delta : zigzag(); last = id;
      o[id] = value(type);
    }
  };
  return { struct, get pos() { return r.pos; } };
}
const PAGE_TYPE = ['DATA_PAGE', 'INDEX_PAGE', 'DICTIONARY_PAGE', 'DATA_PAGE_V2'];
const ENCODING = ['PLAIN', 'GROUP_VAR_INT', 'PLAIN_DICTIONARY', 'RLE', 'BIT_PACKED', 'DELTA_BINARY_PACKED',
  'DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY', 'RLE_DICTIONARY', 'BYTE_STREAM_SPLIT'];

// Walk the page headers of one column chunk.
function walkPages(buf, start, size) {
  const pages = [];
  let pos = start;
  while (pos < start + size) {
    const t = thriftReader(buf, pos);
    const h = t.struct();
    const hdrLen = t.pos - pos;
    const type = PAGE_TYPE[h[1]];
    const p = { type, compressed: h[3], uncompressed: h[2] };
    if (h[5]) Object.assign(p, { values: h[5][1], encoding: ENCODING[h[5][2]], def_enc: ENCODING[h[5][3]], rep_enc: ENCODING[h[5][4]] });
    if (h[7]) Object.assign(p, { values: h[7][1], encoding: ENCODING[h[7][2]] });
    if (h[8]) Object.assign(p, { values: h[8][1], nulls: h[8][2], rows: h[8][3], encoding: ENCODING[h[8][4]], is_compressed: h[8][7] ?? true });
    pages.push(p);
    pos += hdrLen + h[3];
  }
  if (pos !== start + size) throw new Error(`page walk overran the column chunk (${pos} vs ${start + size})`);
  return pages;
}

// parquet_schema rows -> indented text, one line per schema element:
// "<repetition> <physical type|group> <name> (<converted type>) [<logical type>]"
function schemaText(rows) {
  const out = [];
  const stack = []; // children left at each open group
  for (const [i, s] of rows.entries()) {
    const depth = stack.length;
    let line = i === 0 ? `message ${s.name}` : `${(s.repetition_type ?? '').toLowerCase()} ${s.type ? s.type.toLowerCase() : 'group'} ${s.name}`;
    if (s.converted_type) line += ` (${s.converted_type})`;
    if (s.logical_type) line += ` [${s.logical_type}]`;
    out.push('  '.repeat(depth) + line);
    if (stack.length) stack[stack.length - 1]--;
    if (s.num_children !== null && Number(s.num_children) > 0) stack.push(Number(s.num_children));
    while (stack.length && stack[stack.length - 1] === 0) stack.pop();
  }
  return out;
}

async function inspect(file) {
  const buf = fs.readFileSync(file);
  const f = sqlStr(file);
  const [fm] = await q(`SELECT created_by, format_version, num_rows, num_row_groups FROM parquet_file_metadata(${f})`);
  const schema = schemaText(await q(`SELECT name, type, repetition_type, converted_type, logical_type, num_children FROM parquet_schema(${f})`));
  const md = await q(`SELECT row_group_id, row_group_num_rows, path_in_schema, type, compression, encodings, num_values,
    dictionary_page_offset, data_page_offset, total_compressed_size FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`);
  const rowGroups = [];
  const columns = new Map();
  let first = 0;
  for (const m of md) {
    const g = Number(m.row_group_id);
    if (!rowGroups[g]) { rowGroups[g] = { rows: Number(m.row_group_num_rows), first_row: first }; first += Number(m.row_group_num_rows); }
    const dict = m.dictionary_page_offset === null ? 0 : Number(m.dictionary_page_offset);
    const data = Number(m.data_page_offset);
    const start = dict > 0 && dict < data ? dict : data;
    const pages = walkPages(buf, start, Number(m.total_compressed_size));
    const key = m.path_in_schema.split(', ').join('.');
    if (!columns.has(key)) {
      columns.set(key, { path: key, physical_type: m.type, codec: new Set(), chunk_encodings: new Set(), data_page_encodings: new Set(),
        page_types: new Set(), dictionary_pages: 0, data_pages: 0, data_pages_per_row_group: [], level_enc: new Set(), v2_compressed: new Set() });
    }
    const c = columns.get(key);
    c.codec.add(m.compression);
    for (const e of m.encodings.split(', ')) c.chunk_encodings.add(e);
    let nData = 0;
    for (const p of pages) {
      c.page_types.add(p.type);
      if (p.type === 'DICTIONARY_PAGE') c.dictionary_pages++;
      else {
        nData++;
        c.data_page_encodings.add(p.encoding);
        if (p.type === 'DATA_PAGE') { c.level_enc.add(p.def_enc); c.level_enc.add(p.rep_enc); }
        if (p.type === 'DATA_PAGE_V2') c.v2_compressed.add(p.is_compressed);
      }
    }
    c.data_pages += nData;
    c.data_pages_per_row_group.push(nData);
  }
  const cols = [...columns.values()].map((c) => ({
    path: c.path, physical_type: c.physical_type, codec: [...c.codec].join(','),
    chunk_encodings: [...c.chunk_encodings].sort(), data_page_encodings: [...c.data_page_encodings].sort(),
    page_types: [...c.page_types].sort(), dictionary_pages: c.dictionary_pages, data_pages: c.data_pages,
    data_pages_per_row_group: c.data_pages_per_row_group,
    ...(c.level_enc.size ? { v1_level_encodings: [...c.level_enc].sort() } : {}),
    ...(c.v2_compressed.size ? { v2_is_compressed: [...c.v2_compressed] } : {}),
  }));
  return { created_by: fm.created_by, format_version: Number(fm.format_version), num_rows: Number(fm.num_rows), row_groups: rowGroups, schema, columns: cols };
}

// ---------------------------------------------------------------------------
// verification: DuckDB and hyparquet both read each file back and must find
// exactly the expected values (and nulls)
// ---------------------------------------------------------------------------
const duckJs = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && 'items' in v) return v.items.map(duckJs);
  if (Array.isArray(v)) return v.map(duckJs);
  return v;
};
const hyJs = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v, hyJs);
  if (typeof v === 'object' && Object.keys(v).length === 1) return hyJs(Object.values(v)[0]); // list2 group read as struct
  return v;
};
function compareRows(who, spec, got) {
  const exp = expectedRows(spec);
  if (got.length !== exp.length) throw new Error(`${spec.file}: ${who} read ${got.length} rows, expected ${exp.length}`);
  for (let r = 0; r < exp.length; r++) {
    for (const k of Object.keys(exp[r])) {
      const a = JSON.stringify(exp[r][k]);
      let g = got[r][k];
      // a bare repeated field cannot hold a null list: hyparquet returns null for an empty one
      if (who === 'hyparquet' && spec.layout === 'repeated' && k === 'embedding' && g === null) g = [];
      const b = JSON.stringify(g);
      if (a !== b) throw new Error(`${spec.file}: ${who} row ${r} column ${k}: got ${b}, expected ${a}`);
    }
  }
}
async function verify(spec, file) {
  const con = await duckdb();
  if (!spec.notDuckdb) {
    const res = await con.runAndReadAll(`SELECT * FROM read_parquet(${sqlStr(file)})`);
    const drows = res.getRowObjects().map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, duckJs(v)])));
    compareRows('duckdb', spec, drows);
  }
  if (spec.codec === 'BROTLI') return; // hyparquet has no brotli decompressor here
  const ab = fs.readFileSync(file);
  const hrows = await parquetReadObjects({
    file: ab.buffer.slice(ab.byteOffset, ab.byteOffset + ab.byteLength),
    compressors: { GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)), ZSTD: (input) => zstd.decompress(input) },
  });
  compareRows('hyparquet', spec, hrows.map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, hyJs(v)]))));
}

// ---------------------------------------------------------------------------
// the matrix
// ---------------------------------------------------------------------------
// nulls of the small (R = 50) files of writers that take a row-group size in
// rows (row groups of 20: 0-19, 20-39, 40-49)
const NULLS_SMALL = {
  list: [{ column: 'embedding', row: 27 }],
  elem: [{ column: 'embedding', row: 33, element: 5 }],
  wide: [{ column: '3', row: 49 }],
  idtext: [{ column: 'text', row: 12 }, { column: 'id', row: 41 }],
};
// nulls of the DuckDB files (R = 2500: DuckDB cuts row groups at 2048 rows: 0-2047, 2048-2499)
const NULLS_DUCK = {
  list: [{ column: 'embedding', row: 2100 }],
  elem: [{ column: 'embedding', row: 2400, element: 5 }],
  wide: [{ column: '3', row: 2499 }],
  idtext: [{ column: 'text', row: 12 }, { column: 'id', row: 2048 }],
};

const MULTI_R = 2500; // rows of the multi-row-group files

function matrix() {
  const S = [];
  const base = { rows: 50, dim: 8, id: 'string', text: true };
  // ---- DuckDB -------------------------------------------------------------
  const dk = (o) => S.push({ writer: 'duckdb', ...base, elementName: 'element', ...o });
  for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD']) {
    dk({ layout: 'list3', elem: 'float', dataset: 'low', codec, duckVersion: 'V1' });
    dk({ layout: 'list3', elem: 'float', dataset: 'high', codec, duckVersion: 'V2' });
  }
  dk({ layout: 'list3', elem: 'double', dataset: 'low', codec: 'SNAPPY', duckVersion: 'V1' });
  dk({ layout: 'list3', elem: 'double', dataset: 'high', codec: 'ZSTD', duckVersion: 'V2' });
  dk({ layout: 'list3', elem: 'double', dataset: 'high', codec: 'GZIP', duckVersion: 'V1' });
  dk({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', duckVersion: 'V1', duckType: 'array', tag: 'array' });
  dk({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', duckVersion: 'V1', id: 'int64', text: false, tag: 'intid' });
  dk({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', duckVersion: 'V1', empty: [4], tag: 'emptylist' });
  dk({ layout: 'wide', elem: 'float', dataset: 'low', codec: 'SNAPPY', duckVersion: 'V1' });
  dk({ layout: 'wide', elem: 'float', dataset: 'high', codec: 'ZSTD', duckVersion: 'V2' });
  dk({ layout: 'wide', elem: 'double', dataset: 'low', codec: 'GZIP', duckVersion: 'V1' });
  dk({ layout: 'wide', elem: 'double', dataset: 'high', codec: 'UNCOMPRESSED', duckVersion: 'V2' });
  dk({ layout: 'wide', elem: 'int32', dataset: 'low', codec: 'SNAPPY', duckVersion: 'V1' });
  dk({ layout: 'wide', elem: 'int64', dataset: 'high', codec: 'ZSTD', duckVersion: 'V2', id: 'int64' });
  // multi row group
  // multi row group (DuckDB writes one data page per column chunk below ~100 MB, so no multi-page file)
  const dm = { rows: MULTI_R, rowGroupSize: 2048, tag: 'multi' };
  dk({ ...dm, layout: 'list3', elem: 'float', dataset: 'low', codec: 'ZSTD', duckVersion: 'V1' });
  dk({ ...dm, layout: 'wide', elem: 'float', dataset: 'low', codec: 'SNAPPY', duckVersion: 'V2' });
  dk({ ...dm, layout: 'list3', elem: 'double', dataset: 'low', codec: 'GZIP', duckVersion: 'V2', duckExtra: 'DICTIONARY_SIZE_LIMIT 1', tag: 'multi-nodict' });
  // nulls
  const dn = { dataset: 'low', codec: 'SNAPPY', duckVersion: 'V1', rows: MULTI_R, rowGroupSize: 2048 };
  dk({ ...dn, layout: 'list3', elem: 'float', nulls: NULLS_DUCK.list, tag: 'null-list' });
  dk({ ...dn, layout: 'list3', elem: 'float', nulls: NULLS_DUCK.elem, tag: 'null-elem' });
  dk({ ...dn, layout: 'wide', elem: 'float', nulls: NULLS_DUCK.wide, tag: 'null-wide' });
  dk({ ...dn, layout: 'list3', elem: 'float', nulls: NULLS_DUCK.idtext, tag: 'null-idtext' });

  // ---- parquet-wasm -------------------------------------------------------
  const pq = (o) => S.push({ writer: 'parquet-wasm', ...base, elementName: 'item', ...o });
  for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD']) {
    pq({ layout: 'list3', elem: 'float', dataset: 'low', codec, pageVersion: 1 });
    pq({ layout: 'list3', elem: 'float', dataset: 'high', codec, pageVersion: 2 });
  }
  pq({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 1, dictionary: false, tag: 'nodict' });
  pq({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'ZSTD', pageVersion: 2, dictionary: true, tag: 'dict' });
  pq({ layout: 'list3', elem: 'double', dataset: 'low', codec: 'SNAPPY', pageVersion: 1 });
  pq({ layout: 'list3', elem: 'double', dataset: 'high', codec: 'ZSTD', pageVersion: 2 });
  pq({ layout: 'list3', elem: 'float', dataset: 'high', codec: 'UNCOMPRESSED', pageVersion: 1, dictionary: false, bss: true, tag: 'bss' });
  pq({ layout: 'list3', elem: 'double', dataset: 'high', codec: 'ZSTD', pageVersion: 2, dictionary: false, bss: true, tag: 'bss' });
  pq({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 1, listNullable: false, elementNullable: false, elementName: 'element', tag: 'required' });
  pq({ layout: 'list3', elem: 'double', dataset: 'high', codec: 'GZIP', pageVersion: 2, listNullable: false, elementNullable: false, elementName: 'element', tag: 'required' });
  pq({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 1, id: 'int64', text: false, tag: 'intid' });
  pq({ layout: 'wide', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 1 });
  pq({ layout: 'wide', elem: 'float', dataset: 'high', codec: 'ZSTD', pageVersion: 2, nullable: false, tag: 'required' });
  pq({ layout: 'wide', elem: 'double', dataset: 'high', codec: 'GZIP', pageVersion: 1 });
  pq({ layout: 'wide', elem: 'float', dataset: 'high', codec: 'SNAPPY', pageVersion: 2, dictionary: false, bss: true, tag: 'bss' });
  pq({ layout: 'wide', elem: 'int32', dataset: 'low', codec: 'UNCOMPRESSED', pageVersion: 1 });
  pq({ layout: 'wide', elem: 'int64', dataset: 'high', codec: 'ZSTD', pageVersion: 2, id: 'int64' });
  // half precision (FLOAT16) and 8-bit integers
  pq({ layout: 'list3', elem: 'float16', dataset: 'half', codec: 'SNAPPY', pageVersion: 1 });
  pq({ layout: 'list3', elem: 'float16', dataset: 'half', codec: 'ZSTD', pageVersion: 2, dictionary: false, tag: 'nodict' });
  pq({ layout: 'list3', elem: 'float16', dataset: 'low', codec: 'SNAPPY', pageVersion: 1, rows: MULTI_R, rowGroupSize: 1000, tag: 'multi' });
  pq({ layout: 'wide', elem: 'float16', dataset: 'low', codec: 'ZSTD', pageVersion: 2 });
  pq({ layout: 'wide', elem: 'float16', dataset: 'half', codec: 'SNAPPY', pageVersion: 1 });
  pq({ layout: 'wide', elem: 'float16', dataset: 'half', codec: 'GZIP', pageVersion: 2, dictionary: false, tag: 'nodict' });
  pq({ layout: 'list3', elem: 'int8', dataset: 'low', codec: 'SNAPPY', pageVersion: 1 });
  pq({ layout: 'list3', elem: 'uint8', dataset: 'low', codec: 'ZSTD', pageVersion: 2 });
  pq({ layout: 'wide', elem: 'int8', dataset: 'low', codec: 'SNAPPY', pageVersion: 2, id: 'int64', text: false, tag: 'intid' });
  pq({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'BROTLI', pageVersion: 1, expectError: 'unsupported codec BROTLI (negative test)', tag: 'unsupported' });
  // multi row group, multi page
  const pm = { rows: MULTI_R, rowGroupSize: 1000, pageBytes: 2048, writeBatch: 64, tag: 'multi' };
  // dictionary page limited to 256 bytes: each chunk starts RLE_DICTIONARY and falls back to PLAIN
  pq({ ...pm, layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 1, dictPageBytes: 256, tag: 'multi-fallback' });
  pq({ ...pm, layout: 'list3', elem: 'float', dataset: 'low', codec: 'ZSTD', pageVersion: 2 });
  pq({ ...pm, layout: 'wide', elem: 'double', dataset: 'low', codec: 'GZIP', pageVersion: 2, dictionary: false });
  // nulls (row groups of 20)
  const pn = { dataset: 'low', codec: 'SNAPPY', pageVersion: 1, rowGroupSize: 20 };
  pq({ ...pn, layout: 'list3', elem: 'float', nulls: NULLS_SMALL.list, tag: 'null-list' });
  pq({ ...pn, layout: 'list3', elem: 'float', nulls: NULLS_SMALL.elem, tag: 'null-elem' });
  pq({ ...pn, layout: 'wide', elem: 'float', nulls: NULLS_SMALL.wide, tag: 'null-wide' });
  pq({ ...pn, layout: 'list3', elem: 'float', nulls: NULLS_SMALL.idtext, pageVersion: 2, tag: 'null-idtext' });

  // ---- hyparquet-writer (writes data page v2 only) ---------------------------
  const hy = (o) => S.push({ writer: 'hyparquet-writer', ...base, elementName: 'element', pageVersion: 2, ...o });
  for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD']) {
    hy({ layout: 'list3', elem: 'float', dataset: 'low', codec });
    hy({ layout: 'list3', elem: 'float', dataset: 'high', codec });
  }
  hy({ layout: 'list3', elem: 'double', dataset: 'low', codec: 'SNAPPY' });
  hy({ layout: 'list3', elem: 'double', dataset: 'high', codec: 'ZSTD' });
  hy({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', dictionary: false, tag: 'nodict' });
  hy({ layout: 'list3', elem: 'float', dataset: 'high', codec: 'UNCOMPRESSED', bss: true, tag: 'bss' });
  hy({ layout: 'list3', elem: 'double', dataset: 'high', codec: 'SNAPPY', bss: true, tag: 'bss' });
  hy({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', listNullable: false, elementNullable: false, tag: 'required' });
  hy({ layout: 'list3', elem: 'float', dataset: 'high', codec: 'SNAPPY', listNullable: false, elementNullable: true, tag: 'reqlist' });
  hy({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', id: 'int64', text: false, tag: 'intid' });
  hy({ layout: 'wide', elem: 'float', dataset: 'low', codec: 'SNAPPY' });
  hy({ layout: 'wide', elem: 'float', dataset: 'high', codec: 'GZIP', nullable: false, tag: 'required' });
  hy({ layout: 'wide', elem: 'double', dataset: 'high', codec: 'ZSTD' });
  hy({ layout: 'wide', elem: 'float', dataset: 'high', codec: 'SNAPPY', bss: true, tag: 'bss' });
  hy({ layout: 'wide', elem: 'int32', dataset: 'low', codec: 'SNAPPY' });
  hy({ layout: 'wide', elem: 'int64', dataset: 'high', codec: 'UNCOMPRESSED', id: 'int64' });
  // half precision (FLOAT16) and 8-bit integers
  hy({ layout: 'list3', elem: 'float16', dataset: 'half', codec: 'SNAPPY' });
  hy({ layout: 'list3', elem: 'float16', dataset: 'half', codec: 'UNCOMPRESSED', dictionary: false, tag: 'nodict' });
  // DuckDB reads BYTE_STREAM_SPLIT only for FLOAT and DOUBLE: hyparquet alone reads these back
  hy({ layout: 'list3', elem: 'float16', dataset: 'half', codec: 'ZSTD', bss: true, notDuckdb: true, tag: 'bss' });
  hy({ layout: 'wide', elem: 'float16', dataset: 'half', codec: 'SNAPPY' });
  hy({ layout: 'wide', elem: 'float16', dataset: 'half', codec: 'GZIP', bss: true, notDuckdb: true, tag: 'bss' });
  hy({ layout: 'list3', elem: 'float16', dataset: 'low', codec: 'SNAPPY' });
  hy({ layout: 'list3', elem: 'int8', dataset: 'low', codec: 'SNAPPY' });
  hy({ layout: 'list3', elem: 'uint8', dataset: 'low', codec: 'SNAPPY', id: 'int64', text: false, tag: 'intid' });
  hy({ layout: 'wide', elem: 'uint8', dataset: 'low', codec: 'ZSTD' });
  // multi row group, multi page
  hy({ layout: 'list3', elem: 'float', dataset: 'low', codec: 'SNAPPY', rows: MULTI_R, rowGroupSize: 1000, pageBytes: 4096, dictionary: false, tag: 'multi-nodict' });
  hy({ layout: 'wide', elem: 'float', dataset: 'low', codec: 'ZSTD', rows: MULTI_R, rowGroupSize: 1000, pageBytes: 1024, tag: 'multi' });
  // nulls
  const hn = { dataset: 'low', codec: 'SNAPPY', rowGroupSize: 20 };
  hy({ ...hn, layout: 'list3', elem: 'float', nulls: NULLS_SMALL.list, tag: 'null-list' });
  hy({ ...hn, layout: 'list3', elem: 'float', nulls: NULLS_SMALL.elem, tag: 'null-elem' });
  hy({ ...hn, layout: 'wide', elem: 'float', nulls: NULLS_SMALL.wide, tag: 'null-wide' });
  hy({ ...hn, layout: 'list3', elem: 'float', nulls: NULLS_SMALL.idtext, tag: 'null-idtext' });

  // ---- @dsnp/parquetjs: legacy two-level lists and bare repeated fields -------
  const pj = (o) => S.push({ writer: 'parquetjs', ...base, elementName: 'array', ...o });
  for (const [codec, pageVersion] of [['UNCOMPRESSED', 1], ['SNAPPY', 1], ['GZIP', 1], ['UNCOMPRESSED', 2], ['SNAPPY', 2], ['GZIP', 2]]) {
    pj({ layout: 'list2', elem: 'float', dataset: 'low', codec, pageVersion });
  }
  pj({ layout: 'list2', elem: 'double', dataset: 'high', codec: 'SNAPPY', pageVersion: 1 });
  pj({ layout: 'list2', elem: 'float', dataset: 'high', codec: 'GZIP', pageVersion: 2, listNullable: false, tag: 'required' });
  pj({ layout: 'repeated', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 1 });
  pj({ layout: 'repeated', elem: 'float', dataset: 'high', codec: 'UNCOMPRESSED', pageVersion: 2 });
  pj({ layout: 'repeated', elem: 'double', dataset: 'high', codec: 'GZIP', pageVersion: 1 });
  pj({ layout: 'repeated', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 2, id: 'int64', text: false, tag: 'intid' });
  pj({ layout: 'wide', elem: 'float', dataset: 'low', codec: 'GZIP', pageVersion: 1 });
  // multi row group, multi page (parquetjs' page size is in rows)
  pj({ layout: 'list2', elem: 'float', dataset: 'low', codec: 'SNAPPY', pageVersion: 1, rows: MULTI_R, rowGroupSize: 1000, pageRows: 300, tag: 'multi' });
  pj({ layout: 'repeated', elem: 'float', dataset: 'low', codec: 'GZIP', pageVersion: 2, rows: MULTI_R, rowGroupSize: 1000, pageRows: 400, tag: 'multi' });
  // nulls (a two-level list's element and a bare repeated field cannot be null)
  const jn = { dataset: 'low', codec: 'SNAPPY', pageVersion: 1, rowGroupSize: 20 };
  pj({ ...jn, layout: 'list2', elem: 'float', nulls: NULLS_SMALL.list, tag: 'null-list' });
  pj({ ...jn, layout: 'wide', elem: 'float', nulls: NULLS_SMALL.wide, tag: 'null-wide' });
  pj({ ...jn, layout: 'repeated', elem: 'float', nulls: NULLS_SMALL.idtext, tag: 'null-idtext' });
  pj({ ...jn, layout: 'repeated', elem: 'float', empty: [27], tag: 'emptylist' });

  const WSHORT = { duckdb: 'duckdb', 'parquet-wasm': 'pqwasm', 'hyparquet-writer': 'hyparquet', parquetjs: 'parquetjs' };
  for (const s of S) {
    const pv = s.writer === 'duckdb' ? s.duckVersion.toLowerCase() : `pv${s.pageVersion}`;
    s.file = [WSHORT[s.writer], s.layout, s.elem, s.codec.toLowerCase(), pv, s.dataset, s.tag].filter(Boolean).join('-') + '.parquet';
  }
  const names = new Set();
  for (const s of S) { if (names.has(s.file)) throw new Error(`duplicate ${s.file}`); names.add(s.file); }
  return S;
}

// JSON laid out for reading: objects and arrays of objects open up to four
// levels deep, arrays of plain values and anything deeper stay on one line.
function jsonText(v, depth = 0) {
  const pad = '  '.repeat(depth + 1);
  const end = '  '.repeat(depth);
  const plain = (x) => x === null || typeof x !== 'object';
  if (plain(v) || depth >= 4 || (Array.isArray(v) && v.every(plain))) return JSON.stringify(v);
  if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => pad + jsonText(x, depth + 1)).join(',\n')}\n${end}]` : '[]';
  const keys = Object.keys(v).filter((k) => v[k] !== undefined);
  return `{\n${keys.map((k) => `${pad}${JSON.stringify(k)}: ${jsonText(v[k], depth + 1)}`).join(',\n')}\n${end}}`;
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------
function rowGroupOf(rowGroups, row) {
  for (let g = 0; g < rowGroups.length; g++) {
    const rg = rowGroups[g];
    if (row >= rg.first_row && row < rg.first_row + rg.rows) return { row_group: g, row_in_group: row - rg.first_row };
  }
  throw new Error(`row ${row} outside the row groups`);
}

// writer name in the manifest -> the npm package that holds the writer
const WRITER_PACKAGE = { duckdb: '@duckdb/node-api', 'parquet-wasm': 'parquet-wasm', 'hyparquet-writer': 'hyparquet-writer', parquetjs: '@dsnp/parquetjs' };

async function writerVersions() {
  const [dv] = await q(`SELECT library_version, source_id FROM pragma_version()`);
  return {
    duckdb: { npm: { '@duckdb/node-api': pkgVersion('@duckdb/node-api'), '@duckdb/node-bindings-linux-x64': pkgVersion('@duckdb/node-bindings-linux-x64') },
      library: `${dv.library_version} (${dv.source_id})`,
      label: `DuckDB ${dv.library_version} (@duckdb/node-api ${pkgVersion('@duckdb/node-api')})` },
    'parquet-wasm': { npm: { 'parquet-wasm': pkgVersion('parquet-wasm'), 'apache-arrow': pkgVersion('apache-arrow') },
      label: `parquet-wasm ${pkgVersion('parquet-wasm')} (parquet-rs inside), apache-arrow ${pkgVersion('apache-arrow')}` },
    'hyparquet-writer': { npm: { 'hyparquet-writer': pkgVersion('hyparquet-writer'), '@bokuweb/zstd-wasm': pkgVersion('@bokuweb/zstd-wasm') }, zlib: process.versions.zlib,
      label: `hyparquet-writer ${pkgVersion('hyparquet-writer')} (GZIP: node zlib ${process.versions.zlib}, ZSTD: @bokuweb/zstd-wasm ${pkgVersion('@bokuweb/zstd-wasm')})` },
    parquetjs: { npm: { '@dsnp/parquetjs': pkgVersion('@dsnp/parquetjs') }, label: `@dsnp/parquetjs ${pkgVersion('@dsnp/parquetjs')}` },
  };
}

async function fixtures(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  // clear earlier output (only names this script writes)
  for (const f of fs.readdirSync(outDir)) {
    if (/^(duckdb|pqwasm|hyparquet|parquetjs)-.*\.parquet$|^(low|high|half)-\d+-\d+\.csv$|^manifest\.json$/.test(f)) fs.unlinkSync(path.join(outDir, f));
  }
  await zstd.init();
  const versions = await writerVersions();
  const specs = matrix();
  const csvs = new Set();
  const entries = [];
  for (const spec of specs) {
    const file = path.join(outDir, spec.file);
    for (const n of [...(spec.nulls ?? []), ...(spec.empty ?? []).map((row) => ({ row }))]) {
      if (!(n.row >= 0 && n.row < spec.rows) || (n.element !== undefined && !(n.element >= 0 && n.element < spec.dim))) throw new Error(`${spec.file}: null outside the data`);
    }
    if (spec.writer === 'duckdb') await writeDuckdb(spec, file);
    else if (spec.writer === 'parquet-wasm') writeParquetWasm(spec, file);
    else if (spec.writer === 'hyparquet-writer') writeHyparquet(spec, file);
    else await writeParquetjs(spec, file);
    await verify(spec, file);
    const info = await inspect(file);
    const csv = `${spec.dataset}-${spec.rows}-${spec.dim}.csv`;
    csvs.add(`${spec.dataset}|${spec.rows}|${spec.dim}`);
    const emb = info.columns.filter((c) => c.path === 'embedding' || c.path.startsWith('embedding.') || /^\d+$/.test(c.path));
    const pageTypes = new Set(emb.flatMap((c) => c.page_types).filter((t) => t !== 'DICTIONARY_PAGE'));
    const entry = {
      file: spec.file,
      writer: spec.writer,
      writer_package: WRITER_PACKAGE[spec.writer],
      writer_version: versions[spec.writer].label,
      created_by: info.created_by,
      dataset: spec.dataset,
      rows: spec.rows,
      dim: spec.dim,
      layout: spec.layout,
      element_type: spec.elem,
      ...(isInt(spec.elem) ? { int_scale: DATA[spec.dataset].intScale } : {}),
      ...(intOffset(spec.elem) ? { int_offset: intOffset(spec.elem) } : {}),
      vector_columns: spec.layout === 'wide' ? Array.from({ length: spec.dim }, (_, c) => String(c)) : ['embedding'],
      ...(spec.layout === 'wide' ? {} : { leaf_path: emb.length === 1 ? emb[0].path : null }),
      ...(spec.layout === 'list3' || spec.layout === 'list2' ? { list_nullable: spec.listNullable !== false } : {}),
      ...(spec.layout === 'list3' ? { element_nullable: spec.elementNullable !== false } : {}),
      ...(spec.layout === 'wide' ? { columns_nullable: spec.nullable !== false } : {}),
      ...(spec.duckType === 'array' ? { source_type: `DuckDB FLOAT[${spec.dim}] (fixed-size ARRAY)` } : {}),
      id_column: spec.id ? { name: 'id', type: spec.id, values: spec.id === 'int64' ? 'r*10+3' : '"doc-" + r' } : null,
      text_column: spec.text ? 'text' : null,
      csv,
      codec: spec.codec,
      codec_read_back: [...new Set(info.columns.map((c) => c.codec))].join(','),
      page_version: [...pageTypes].map((t) => (t === 'DATA_PAGE_V2' ? 2 : 1)).sort(),
      format_version: info.format_version,
      requested: spec.request,
      vector_data_page_encodings: [...new Set(emb.flatMap((c) => c.data_page_encodings))].sort(),
      vector_dictionary_pages: emb.some((c) => c.dictionary_pages > 0),
      vector_data_pages_per_row_group: emb[0].data_pages_per_row_group,
      row_groups: info.row_groups.length,
      row_group_rows: info.row_groups.map((g) => g.rows),
      columns: info.columns,
      schema: info.schema,
      nulls: (spec.nulls ?? []).map((n) => ({ column: n.column, ...(n.element !== undefined ? { element: n.element } : {}), row: n.row, ...rowGroupOf(info.row_groups, n.row) })),
      ...(spec.empty ? { empty_lists: spec.empty.map((row) => ({ column: 'embedding', row, ...rowGroupOf(info.row_groups, row) })) } : {}),
      ...(spec.expectError ? { expect_error: spec.expectError } : {}),
      ...(spec.notDuckdb ? { read_back: 'hyparquet only (DuckDB reads BYTE_STREAM_SPLIT only for FLOAT and DOUBLE)' } : {}),
      bytes: fs.statSync(file).size,
      sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
    };
    entries.push(entry);
    process.stdout.write(`${spec.file}  ${entry.bytes} B  rg=${entry.row_groups} pv=${entry.page_version}  ` +
      `${emb.map((c) => `${c.path}:${c.data_page_encodings.join('+')}/${c.data_pages_per_row_group.join(',')}`).slice(0, 1).join(' ')}\n`);
  }
  const csvFiles = [];
  for (const k of [...csvs].sort()) {
    const [ds, R, D] = k.split('|');
    csvFiles.push(writeCsv(outDir, ds, Number(R), Number(D)));
  }
  const manifest = {
    about: 'Parquet fixtures of fidx, written by third-party writers and read back by DuckDB (parquet_metadata, parquet_schema) ' +
      'and a walk over the page headers. Every file was also read back by DuckDB and hyparquet and matched the expected values. ' +
      'Regenerate: cd tests/parquet/gen && npm ci && node make-fixtures.mjs',
    data: {
      low: DATA.low.formula, high: DATA.high.formula,
      half: DATA.half.formula,
      int_variants: 'int32/int64/int8 element types store v(r,c) * int_scale (32 for low, 1024 for high); uint8 stores v(r,c) * int_scale + int_offset',
      float16: 'float16 element types are FIXED_LEN_BYTE_ARRAY(2) columns of the FLOAT16 logical type; the half data set is exact in float16',
      id: 'string "doc-<r>", or int64 r*10+3 where id_column.type is int64', text: '"text <r> café" (UTF-8)',
      csv: 'fixtures/<dataset>-<rows>-<dim>.csv: header id,text,0..D-1, the same values without nulls, floats in JSON number format',
      nulls: 'row is global and 0-based; row_group and row_in_group locate it; element is the index inside the list',
    },
    notes: [
      'duckdb: PARQUET_VERSION V2 changes the encodings (BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, RLE_DICTIONARY) and the footer version, but every data page is still a DATA_PAGE (v1) header; DuckDB has no data page size option and starts a new page only past ~100 MB, so its files have one data page per column chunk; ROW_GROUP_SIZE is rounded up to 2048-row vectors; all columns are written OPTIONAL (NOT NULL is not carried over); dictionary encoding is only chosen for larger chunks (not at 50 rows).',
      'parquet-wasm: writer_version 1.0 writes DATA_PAGE, 2.0 writes DATA_PAGE_V2; dictionary (RLE_DICTIONARY data pages + PLAIN dictionary page) is on by default, also for the all-distinct "high" data; with a small dictionary page limit it falls back to PLAIN inside the same column chunk; per-column encodings only reach top-level columns, so BYTE_STREAM_SPLIT on embedding.list.item is set globally with id/text set back to PLAIN.',
      'hyparquet-writer: writes DATA_PAGE_V2 only (is_compressed is left at its default true even for UNCOMPRESSED); refuses REPEATED leaves, so it cannot write two-level lists or bare repeated fields; GZIP and ZSTD use compressors supplied by the generator (node zlib, @bokuweb/zstd-wasm).',
      'parquetjs (@dsnp/parquetjs): the only writer here of legacy two-level lists (optional group embedding (LIST) { repeated <type> array; }) and bare repeated fields; PLAIN only, no dictionary, no ZSTD; its page size is counted in rows.',
      'a two-level list element and a bare repeated field cannot be null; a bare repeated field cannot tell an empty list from a missing one (hyparquet reads the empty one as null, DuckDB as []).',
    ],
    generator: { node: process.version, ...versions },
    csv: csvFiles,
    fixtures: entries,
  };
  fs.writeFileSync(path.join(outDir, 'manifest.json'), jsonText(manifest) + '\n');
  const total = entries.reduce((a, e) => a + e.bytes, 0) + csvFiles.reduce((a, f) => a + fs.statSync(path.join(outDir, f)).size, 0);
  console.log(`${entries.length} parquet files, ${csvFiles.length} csv files, ${total} bytes (+ manifest ${fs.statSync(path.join(outDir, 'manifest.json')).size} B)`);
}

// ---------------------------------------------------------------------------
// bench: node make-fixtures.mjs --bench OUTDIR ROWS DIM
//   value(r,c) = (h(r*DIM + c) >> 8) / 2^23 - 1, in [-1, 1), exact in float32, where
//   h(i) is a 32-bit integer hash: x = (i*2654435761 + 12345) mod 2^32;
//   x ^= x>>16; x = x*0x45d9f3b mod 2^32; x ^= x>>16; x = x*0x45d9f3b mod 2^32; x ^= x>>16.
// ---------------------------------------------------------------------------
function benchValue(i) {
  let x = (Math.imul(i, 2654435761 | 0) + 12345) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x45d9f3b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x45d9f3b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return (x >>> 8) / 8388608 - 1;
}

async function bench(outDir, rows, dim) {
  const t0 = Date.now();
  fs.mkdirSync(outDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const con = await instance.connect();
  const run = (sql) => con.run(sql);
  const M = '4294967295';
  await run(`CREATE MACRO h1(x) AS xor(x, x >> 16)`);
  await run(`CREATE MACRO hv(i) AS CAST((h1((h1((h1((i * 2654435761 + 12345) & ${M}) * 73244475) & ${M}) * 73244475) & ${M}) >> 8) / 8388608.0 - 1.0 AS FLOAT)`);
  const cols = Array.from({ length: dim }, (_, c) => `hv(r * ${dim} + ${c}) AS "${c}"`).join(', ');
  // range() is read in order and insertion order is preserved (DuckDB's default)
  await run(`CREATE TABLE bench AS SELECT ${cols} FROM range(${rows}) t(r)`);
  const t1 = Date.now();
  const f = (n) => sqlStr(path.join(outDir, n));
  await run(`COPY bench TO ${f('bench.csv')} (FORMAT csv, HEADER true, DELIMITER ',')`);
  const t2 = Date.now();
  await run(`COPY bench TO ${f('bench-snappy.parquet')} (FORMAT parquet, COMPRESSION snappy)`);
  const t3 = Date.now();
  await run(`COPY bench TO ${f('bench-zstd.parquet')} (FORMAT parquet, COMPRESSION zstd)`);
  const t4 = Date.now();
  const list = Array.from({ length: dim }, (_, c) => `"${c}"`).join(', ');
  await run(`COPY (SELECT CAST([${list}] AS FLOAT[]) AS embedding FROM bench) TO ${f('bench-list.parquet')} (FORMAT parquet, COMPRESSION snappy)`);
  const t5 = Date.now();
  con.closeSync();
  instance.closeSync();
  // spot check: the CSV's first lines hold the expected floats, round-trip exact
  const fd = fs.openSync(path.join(outDir, 'bench.csv'), 'r');
  const head = Buffer.alloc(1 << 20);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const lines = head.subarray(0, n).toString().split('\n');
  if (lines[0] !== Array.from({ length: dim }, (_, c) => String(c)).join(',')) throw new Error(`bench.csv header: ${lines[0].slice(0, 80)}`);
  let checked = 0;
  for (let r = 0; r + 2 < lines.length && r < 200; r++) {
    const vals = lines[r + 1].split(',');
    for (let c = 0; c < dim; c++) {
      const want = benchValue(r * dim + c);
      if (Math.fround(want) !== want || Math.fround(Number(vals[c])) !== want) throw new Error(`bench.csv row ${r} col ${c}: ${vals[c]} != ${want}`);
      checked++;
    }
  }
  // and the last line holds the last row
  const st = fs.statSync(path.join(outDir, 'bench.csv'));
  const tailLen = Math.min(st.size, 64 * dim + 64);
  const fd2 = fs.openSync(path.join(outDir, 'bench.csv'), 'r');
  const tail = Buffer.alloc(tailLen);
  fs.readSync(fd2, tail, 0, tailLen, st.size - tailLen);
  fs.closeSync(fd2);
  const tl = tail.toString().trimEnd().split('\n');
  const lastVals = tl[tl.length - 1].split(',');
  for (let c = 0; c < dim; c++) {
    const want = benchValue((rows - 1) * dim + c);
    if (Math.fround(Number(lastVals[c])) !== want) throw new Error(`bench.csv last row col ${c}: ${lastVals[c]} != ${want}`);
    checked++;
  }
  const size = (n2) => fs.statSync(path.join(outDir, n2)).size;
  console.log(`bench: ${rows} x ${dim}, checked ${checked} CSV values against the JS hash`);
  console.log(`  generate ${(t1 - t0) / 1000}s, bench.csv ${(t2 - t1) / 1000}s (${size('bench.csv')} B), ` +
    `bench-snappy.parquet ${(t3 - t2) / 1000}s (${size('bench-snappy.parquet')} B), bench-zstd.parquet ${(t4 - t3) / 1000}s (${size('bench-zstd.parquet')} B), ` +
    `bench-list.parquet ${(t5 - t4) / 1000}s (${size('bench-list.parquet')} B), total ${(Date.now() - t0) / 1000}s`);
}

const argv = process.argv.slice(2);
if (argv[0] === '--bench') {
  if (argv.length !== 4) { console.error('usage: node make-fixtures.mjs --bench OUTDIR ROWS DIM'); process.exit(2); }
  const rows = Number(argv[2]), dim = Number(argv[3]);
  if (!(Number.isInteger(rows) && rows > 0 && Number.isInteger(dim) && dim > 0)) { console.error('ROWS and DIM must be positive integers'); process.exit(2); }
  await bench(path.resolve(argv[1]), rows, dim);
} else {
  const out = argv[0] === '--out' ? path.resolve(argv[1]) : path.resolve(HERE, '../fixtures');
  await fixtures(out);
  duck?.con.closeSync();
  duck?.instance.closeSync();
}
