/**
 * The house rules of the source tree, checked on every run: each room imports only from the rooms
 * below it, SQL is written only in the store, and the rules do no I/O. A change that breaks one
 * fails here, naming the file and the line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The room a file is in: the first folder under src/. */
const roomOf = (file: string): string => relative(SRC, file).split(sep)[0]!;

interface Import {
  file: string;
  line: number;
  target: string;
}

function importsOf(file: string): Import[] {
  const out: Import[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const spec = m[1]!;
        out.push({ file: relative(SRC, file), line: i + 1, target: spec.startsWith('.') ? roomOf(resolve(file, '..', spec)) : spec });
      }
    });
  return out;
}

/** What each room may import from src/ (besides itself). Packages are checked apart. */
const MAY_IMPORT: Record<string, string[]> = {
  model: [],
  util: ['model'],
  // Each agent type describes its own config block (src/agents/*/descriptor.ts); the config composes them.
  agents: ['model', 'util'],
  config: ['model', 'util', 'agents'],
  rules: ['model', 'util', 'config'],
  metaverse: ['model', 'util'],
  engine: ['model', 'util', 'config', 'rules', 'agents', 'metaverse'],
  web: ['model', 'util', 'config', 'metaverse', 'engine'],
  cli: ['model', 'util', 'config', 'rules', 'agents', 'metaverse', 'engine', 'web'],
};

const files = sourceFiles();

describe('layers', () => {
  it('every file is in a known room', () => {
    expect(files.map(roomOf).filter((r) => !(r in MAY_IMPORT))).toEqual([]);
  });

  it('each room imports only from the rooms below it', () => {
    const rooms = new Set(Object.keys(MAY_IMPORT));
    const broken = files
      .flatMap(importsOf)
      .filter((i) => rooms.has(i.target) && i.target !== roomOf(join(SRC, i.file)) && !MAY_IMPORT[roomOf(join(SRC, i.file))]!.includes(i.target));
    expect(broken.map((i) => `${i.file}:${i.line} imports from src/${i.target}`)).toEqual([]);
  });

  it('the model imports nothing at all, not even a package', () => {
    const model = files
      .filter((f) => roomOf(f) === 'model')
      .flatMap(importsOf)
      .filter((i) => i.target !== 'model');
    expect(model.map((i) => `${i.file}:${i.line} imports ${i.target}`)).toEqual([]);
  });

  it('SQL is written only in src/metaverse', () => {
    const sql = /\.prepare\(|\.exec\(\s*['`]|\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET)\b|better-sqlite3/;
    const found = files
      .filter((f) => roomOf(f) !== 'metaverse')
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((t, i) => (sql.test(t) ? [`${relative(SRC, f)}:${i + 1}`] : [])),
      );
    expect(found).toEqual([]);
  });

  it('the rules do no I/O and read no clock or environment', () => {
    const io = /\bnode:|\bfs\.|fetch\(|\bawait\b|Date\.now|new Date\(|process\./;
    const found = files
      .filter((f) => roomOf(f) === 'rules')
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((t, i) => (io.test(t) ? [`${relative(SRC, f)}:${i + 1}: ${t.trim()}`] : [])),
      );
    expect(found).toEqual([]);
  });

  it('agents speak protocols only: no engine, rules, store or config loader', () => {
    const found = files
      .filter((f) => roomOf(f) === 'agents')
      .flatMap(importsOf)
      .filter((i) => ['engine', 'rules', 'metaverse', 'config', 'cli', 'web'].includes(i.target));
    expect(found.map((i) => `${i.file}:${i.line} imports from src/${i.target}`)).toEqual([]);
  });
});
