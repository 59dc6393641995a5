import { readdirSync, readFileSync } from 'node:fs';

/** What /proc says about this machine's processes (Linux), for tests that count what runs. */

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function stat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

/** The process groups of `pids`, each once: one preview (`sh -c` and its app) is one group. */
export function groupsOf(pids: number[]): number[] {
  return [...new Set(pids.flatMap((pid) => stat(pid)?.pgrp ?? []))];
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Running: it exists and has not exited (a zombie has). */
export function isRunning(pid: number): boolean {
  const found = stat(pid);
  return found !== undefined && found.state !== 'Z';
}

/** Running processes started with `name=value` in their environment: a preview's app gets MATINEE_SHA. */
export function processesWithVariable(name: string, value: string): number[] {
  const wanted = `${name}=${value}`;
  return pids().filter(
    (pid) => isRunning(pid) && (read(`/proc/${pid}/environ`) ?? '').split('\0').includes(wanted),
  );
}

/** Running processes whose command line contains `text`. */
export function processesRunning(text: string): number[] {
  return pids().filter(
    (pid) => isRunning(pid) && (read(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').includes(text),
  );
}

/** Running children of `parent`. */
export function childrenOf(parent: number): number[] {
  return pids().filter((pid) => isRunning(pid) && stat(pid)?.ppid === parent);
}

/** `pid (parent ppid): command line`, for a failure message that says what was running. */
export function describeProcess(pid: number): string {
  const command = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
  return `${pid} (parent ${stat(pid)?.ppid ?? '?'}): ${command}`;
}

/** Running members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return pids().filter((pid) => isRunning(pid) && stat(pid)?.pgrp === pgid);
}
