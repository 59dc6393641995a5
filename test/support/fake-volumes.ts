import type { EnvironmentRef, TaskVolume, VolumeHandle, Volumes } from '@matinee/core';

/**
 * Volumes as a map: environment family → volume name → its files (name → content). With `identities`, as on
 * AWS: each environment's volumes are mounted as an identity of its own (`role/<family>`), made by `ensure`,
 * and a volume's source is replaced when its owner changes (its files stay).
 */
export class FakeVolumes implements Volumes {
  readonly volumes = new Map<string, Map<string, Map<string, string>>>();
  readonly calls: string[] = [];
  /** Families whose identity exists. */
  readonly identities = new Set<string>();
  private serial = 0;
  private readonly sources = new Map<string, string>();
  private readonly owners = new Map<string, string>();

  constructor(private readonly options: { identities?: boolean } = {}) {}

  async describe(ref: EnvironmentRef): Promise<VolumeHandle[]> {
    const family = ref.names.family;
    const identity = this.identities.has(family) ? `role/${family}` : undefined;
    return [...(this.volumes.get(family)?.keys() ?? [])].map((name) => ({
      name,
      source: this.sources.get(`${family}/${name}`) as string,
      ...(identity ? { identity } : {}),
    }));
  }

  async ensure(ref: EnvironmentRef, volumes: TaskVolume[]): Promise<VolumeHandle[]> {
    this.calls.push('ensure');
    const family = ref.names.family;
    const mine = this.volumes.get(family) ?? new Map();
    for (const volume of volumes) {
      const key = `${family}/${volume.name}`;
      const owner = `${volume.uid ?? ''}:${volume.gid ?? ''}`;
      const changed = this.options.identities && mine.has(volume.name) && this.owners.get(key) !== owner;
      if (mine.has(volume.name) && !changed) continue;
      if (!mine.has(volume.name)) mine.set(volume.name, new Map());
      this.sources.set(key, `fsap-${++this.serial}`);
      this.owners.set(key, owner);
    }
    this.volumes.set(family, mine);
    if (this.options.identities && mine.size) this.identities.add(family);
    return this.describe(ref);
  }

  async empty(ref: EnvironmentRef, names: string[]): Promise<void> {
    this.calls.push('empty');
    for (const name of names) this.volumes.get(ref.names.family)?.get(name)?.clear();
  }

  async remove(ref: EnvironmentRef): Promise<void> {
    this.calls.push('remove');
    this.volumes.delete(ref.names.family);
    this.identities.delete(ref.names.family);
  }

  /** A volume deleted behind Matinee's back. */
  lose(family: string, name: string): void {
    this.volumes.get(family)?.delete(name);
  }

  /** Writes a file into a volume, as a task would. */
  write(family: string, name: string, file: string, content: string): void {
    this.volumes.get(family)?.get(name)?.set(file, content);
  }
}
