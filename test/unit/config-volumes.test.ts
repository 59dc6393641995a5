import { configDigest, parseConfig } from '@matinee/core';
import { describe, expect, it } from 'vitest';

function problemsOf(text: string): string[] {
  const result = parseConfig(text);
  if (result.ok) throw new Error('expected the file to be refused');
  return result.problems;
}

describe('.matinee.yml volumes', () => {
  it('reads volumes of the app and of a sidecar, with owners where given', () => {
    const result = parseConfig(`
app:
  image: web
  port: 3000
  volumes: [{ name: uploads, path: /srv/uploads }]
sidecars:
  db:
    image: postgres:16
    volumes:
      - { name: pgdata, path: /var/lib/postgresql/data, uid: 999, gid: 999 }
`);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.value.app.volumes).toEqual([{ name: 'uploads', path: '/srv/uploads' }]);
    expect(result.value.sidecars.db?.volumes).toEqual([
      { name: 'pgdata', path: '/var/lib/postgresql/data', uid: 999, gid: 999 },
    ]);
  });

  it('leaves the digest of a file without volumes as it was, so no environment is redeployed for them', () => {
    const result = parseConfig('app: { image: web, port: 3000 }');
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.value.app.volumes).toBeUndefined();
    expect(configDigest(result.value)).toBe(result.digest);
    expect(JSON.stringify(result.value)).not.toContain('volumes');
  });

  it('names every problem of every entry, each where it is', () => {
    const problems = problemsOf(`
app:
  image: web
  port: 3000
  volumes:
    - { name: Uploads, path: srv/uploads }
    - { name: ok, path: / }
    - { name: a-, path: /srv/../etc, uid: -1 }
    - { name: b, path: /srv//x, gid: 2147483648 }
    - { name: c, path: /srv/x/, uid: 1.5 }
    - { path: /srv/y, size: 10 }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^app\.volumes\.0\.name: volume names are DNS labels/),
        'app.volumes.0.path: must be an absolute path',
        expect.stringMatching(/^app\.volumes\.1\.path: cannot be \//),
        expect.stringMatching(/^app\.volumes\.2\.name: volume names are DNS labels/),
        'app.volumes.2.path: must not contain ..',
        expect.stringMatching(/^app\.volumes\.2\.uid: /),
        expect.stringMatching(/^app\.volumes\.3\.path: must be normalised/),
        expect.stringMatching(/^app\.volumes\.3\.gid: /),
        expect.stringMatching(/^app\.volumes\.4\.path: must be normalised/),
        expect.stringMatching(/^app\.volumes\.4\.uid: /),
        expect.stringMatching(/^app\.volumes\.5\.name: /),
        '`size` is not a key of app.volumes.5',
      ]),
    );
    expect(problems).toHaveLength(12);
  });

  it('names the unknown key of a volume and what was meant', () => {
    expect(problemsOf('app: { image: web, port: 1, volumes: [{ name: a, paht: /a }] }')).toEqual(
      expect.arrayContaining(['`paht` is not a key of app.volumes.0 (did you mean `path`?)']),
    );
  });

  it('refuses a name used twice in the environment and a path used twice in one container', () => {
    const problems = problemsOf(`
app:
  image: web
  port: 3000
  volumes: [{ name: data, path: /data }, { name: more, path: /data }]
sidecars:
  db: { image: postgres, volumes: [{ name: data, path: /var/lib/data }] }
`);
    expect(problems).toEqual([
      'app.volumes.1.path: /data is already a volume of this container',
      'sidecars.db.volumes.0.name: volume `data` is already declared at app.volumes.0: names are unique in the environment',
    ]);
  });

  it('takes the largest POSIX id EFS takes and a deep normalised path', () => {
    const result = parseConfig(
      'app: { image: web, port: 1, volumes: [{ name: a1, path: /var/lib/a.b/c-d, uid: 2147483647, gid: 0 }] }',
    );
    expect(result.ok).toBe(true);
  });
});
