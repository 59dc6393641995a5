import { commandLine, parentOf, runningSince } from './process-table.ts';

/** A process, and when it started (so that a reused pid does not pass for it). */
interface Watched {
  pid: number;
  start?: string;
}

/** `npm …` (npm names its process so) or `node …/npm-cli.js …`. */
function isNpm(command: string): boolean {
  const [first = '', ...rest] = command.split(/\s+/);
  return /(^|\/)npm$/.test(first) || rest.slice(0, 2).some((arg) => /(^|\/)(npm-cli\.js|npm)$/.test(arg));
}

/**
 * The processes whose end means Matinee should end: its parent and, when npm started it (npm runs a script
 * through `sh -c`, which stays between them), every ancestor up to that npm. Only npm's own ancestors are
 * left out: `nohup npm start &` outlives the shell that started it, and so does Matinee.
 */
export function launchers(ppid = process.ppid, env: NodeJS.ProcessEnv = process.env): Watched[] {
  const watched: Watched[] = [{ pid: ppid, start: runningSince(ppid) }];
  if (!env.npm_lifecycle_event) return watched;
  let pid = ppid;
  for (let depth = 0; depth < 4 && !isNpm(commandLine(pid)); depth++) {
    const parent = parentOf(pid);
    if (!parent || parent <= 1) return watched.slice(0, 1);
    watched.push({ pid: parent, start: runningSince(parent) });
    pid = parent;
  }
  return isNpm(commandLine(pid)) ? watched : watched.slice(0, 1);
}

/**
 * Calls `onGone` once, when a launcher (see `launchers`) has ended: npm killed (SIGKILL, or SIGHUP, which
 * it does not pass on) does not orphan Matinee. Polled, as nothing tells a process of its parent's end.
 */
export function watchLaunchers(onGone: (pid: number) => void, everyMs = 500): () => void {
  const initialParent = process.ppid;
  const watched = launchers(initialParent);
  const timer = setInterval(() => {
    const gone =
      process.ppid !== initialParent
        ? initialParent
        : watched.find((w) => runningSince(w.pid) !== w.start)?.pid;
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
