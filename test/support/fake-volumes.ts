import type { EnvironmentRef, TaskVolume, VolumeHandle, Volumes } from '@matinee/core';

/** Volumes as a map: environment family → volume name → its files (name → content). */
export class FakeVolumes implements Volumes {
  readonly volumes = new Map<string, Map<string, Map<string, string>>>();
  readonly calls: string[] = [];
  private serial = 0;
  private readonly sources = new Map<string, string>();

  async describe(ref: EnvironmentRef): Promise<VolumeHandle[]> {
    return [...(this.volumes.get(ref.names.family)?.keys() ?? [])].map((name) => ({
      name,
      source: this.sources.get(`${ref.names.family}/${name}`) as string,
    }));
  }

  async ensure(ref: EnvironmentRef, volumes: TaskVolume[]): Promise<VolumeHandle[]> {
    this.calls.push('ensure');
    const mine = this.volumes.get(ref.names.family) ?? new Map();
    for (const volume of volumes) {
      if (mine.has(volume.name)) continue;
      mine.set(volume.name, new Map());
      this.sources.set(`${ref.names.family}/${volume.name}`, `fsap-${++this.serial}`);
    }
    this.volumes.set(ref.names.family, mine);
    return this.describe(ref);
  }

  async empty(ref: EnvironmentRef, names: string[]): Promise<void> {
    this.calls.push('empty');
    for (const name of names) this.volumes.get(ref.names.family)?.get(name)?.clear();
  }

  async remove(ref: EnvironmentRef): Promise<void> {
    this.calls.push('remove');
    this.volumes.delete(ref.names.family);
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
