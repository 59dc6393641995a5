import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the OS says about processes, to tell one process from another that later got its pid. On Linux from
 * /proc; elsewhere from `ps`, which says less (no process groups of a gone leader).
 */

/** One process as /proc/<pid>/stat has it. */
interface Stat {
  pid: number;
  /** R, S, D, Z (a zombie: exited, not yet reaped), … */
  state: string;
  ppid: number;
  pgrp: number;
  /** When it started, in clock ticks since boot: with the pid and the boot, it names one process. */
  start: string;
}

const LINUX = process.platform === 'linux';

function readStat(pid: number | string): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ')': count after the last.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(pid),
    state: fields[0] ?? '',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    start: fields[19] ?? '',
  };
}

/** The start time of a live process, or undefined when the OS does not say (or it is gone). */
export function processStart(pid: number): string | undefined {
  if (LINUX) return readStat(pid)?.start;
  const ps = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 && ps.stdout.trim() ? ps.stdout.trim() : undefined;
}

/** The start time of a process still running: undefined once it has exited, a zombie included. */
export function runningSince(pid: number): string | undefined {
  if (!LINUX) return processStart(pid);
  const stat = readStat(pid);
  return stat && stat.state !== 'Z' ? stat.start : undefined;
}

/** A process's parent pid, or undefined when it is gone. */
export function parentOf(pid: number): number | undefined {
  if (LINUX) return readStat(pid)?.ppid;
  const ps = spawnSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' });
  const ppid = Number(ps.stdout.trim());
  return ps.status === 0 && ppid > 0 ? ppid : undefined;
}

/** A process's command line, as far as the OS tells it to its owner. */
export function commandLine(pid: number): string {
  if (LINUX) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      return '';
    }
  }
  const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 ? ps.stdout.trim() : '';
}

/** This machine's boot, where the OS names it: process start times count from it. */
export function bootId(): string | undefined {
  if (!LINUX) return undefined;
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A process known by its pid and its start time. */
export interface ProcessIdentity {
  pid: number;
  start?: string;
}

/**
 * The live (not zombie) members of the process group `group` led (or once led) by that very process, or
 * [] when there are none or the pid now belongs to another process.
 *
 * Linux does not hand out a pid while a process group of that number still has members, so members of a
 * group whose leader is gone are the leader's: they are counted if they started no earlier than it. A
 * leader alive with another start time is another process (the pid was reused): nothing is ours.
 */
export function liveGroup(group: ProcessIdentity): number[] {
  if (!LINUX) {
    const start = processStart(group.pid);
    return start !== undefined && start === group.start ? [group.pid] : [];
  }
  const leader = readStat(group.pid);
  if (leader && leader.state !== 'Z' && group.start !== undefined && leader.start !== group.start) return [];
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (!stat || stat.pgrp !== group.pid || stat.state === 'Z') continue;
    if (group.start !== undefined && BigInt(stat.start || '0') < BigInt(group.start)) continue;
    members.push(stat.pid);
  }
  return members;
}

/** Signals the process group `pgid`; false when it is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
