/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per source file.
 * Positions inside the bundled app (broker, index-service) are mapped back to their TypeScript
 * sources through the bundle's source map (node:module SourceMap), so "file" means e.g.
 * libs/storage/src/....
 * Idle samples are left out: shares are of the time the process was busy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  ms: number;
  share: number;
}

/** Coarse area of a file key: where the CPU goes at a glance. */
export function areaOf(fileKey: string): string {
  if (fileKey.includes('(garbage collector)')) return 'GC';
  if (/protobufjs|long\/umd|\$(toObject|fromObject|encode|decode|verify)\)?$/.test(fileKey)) return 'protobuf (protobufjs, proto-loader objects, Long)';
  if (/@grpc\/grpc-js|http2|node:net|stream_base/.test(fileKey)) return 'gRPC + HTTP/2 (grpc-js, node:http2, net)';
  if (fileKey.startsWith('libs/storage')) return 'libs/storage';
  if (fileKey.startsWith('apps/')) return fileKey.split('/').slice(0, 2).join('/'); // apps/broker, apps/index-service
  if (fileKey.startsWith('libs/')) return 'other libs/';
  if (/^\((writeBuffers?|fdatasync|fsync|read|write\w*)\)$/.test(fileKey)) return 'fs syscalls (native)';
  if (fileKey.startsWith('node:')) return 'node core (buffer, events, streams, fs)';
  return fileKey.startsWith('(') ? 'other native / (program)' : 'other';
}

export function summariseProfile(file: string, top = 15): { functions: Hotspot[]; files: Hotspot[]; areas: Hotspot[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (url: string): SourceMap | undefined => {
    if (!maps.has(url)) {
      const js = url.startsWith('file://') ? new URL(url).pathname : url;
      maps.set(url, existsSync(`${js}.map`) ? new SourceMap(JSON.parse(readFileSync(`${js}.map`, 'utf8'))) : undefined);
    }
    return maps.get(url);
  };
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0 || node.callFrame.functionName === '(idle)') continue; // shares are of busy time
    total += us;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    let where = url ? shorten(url) : '';
    let line = lineNumber + 1;
    const entry = (url && !url.includes('node_modules/') ? mapOf(url)?.findEntry(lineNumber, columnNumber) : undefined) as { originalSource?: string; originalLine: number } | undefined;
    if (entry?.originalSource !== undefined) {
      where = shorten(entry.originalSource);
      line = entry.originalLine + 1;
    }
    const fileKey = where || `(${functionName || 'native'})`;
    const fnKey = `${functionName || '(anonymous)'}  ${where ? `${where}:${line}` : ''}`.trim();
    byFunction.set(fnKey, (byFunction.get(fnKey) ?? 0) + us);
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const rank = (m: Map<string, number>, n: number): Hotspot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  const byArea = new Map<string, number>();
  for (const [key, us] of byFile) byArea.set(areaOf(key), (byArea.get(areaOf(key)) ?? 0) + us);
  return { functions: rank(byFunction, top), files: rank(byFile, top), areas: rank(byArea, 20), totalMs: total / 1000 };
}

function shorten(url: string): string {
  const p = url.replace(/^file:\/\//, '').replace(/^(\.\.\/)+/, ''); // bundle maps name sources ../../../apps/...
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm);
  return path.relative(process.cwd(), path.resolve(p)) || p;
}

