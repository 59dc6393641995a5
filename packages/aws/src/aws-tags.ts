import { MatineeError, TAG_ENVIRONMENT } from '@matinee/core';

/** On task definitions: the `TaskSpec.revision` a task definition was made from (equal revision, equal task). */
export const TAG_REVISION = 'matinee:revision';

// What ECS and ELBv2 accept in tag keys and values; anything else is rejected with a validation error.
const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * An environment id (`owner/repo#42`) holds a `#`, which ECS and ELBv2 reject in tag values, so on AWS it is
 * written `owner/repo:42`. No repository name contains `:`, so the mapping reverses exactly.
 */
export function environmentTagValue(id: string): string {
  return id.replace(/#(\d+)$/, ':$1');
}

/** The environment id an `environmentTagValue` came from (a value already holding `#` is kept as it is). */
export function environmentIdFromTag(value: string): string {
  return value.replace(/:(\d+)$/, '#$1');
}

/** An environment's tags as AWS will accept them; a value it would still reject fails here, by name. */
export function awsTags(tags: Record<string, string>): Record<string, string> {
  const encoded = Object.fromEntries(
    Object.entries(tags).map(([key, value]) => [
      key,
      key === TAG_ENVIRONMENT ? environmentTagValue(value) : value,
    ]),
  );
  for (const [key, value] of Object.entries(encoded)) {
    if (!allowed.test(key) || !allowed.test(value) || key.length > 128 || value.length > 256) {
      throw new MatineeError(`tag ${key}=${JSON.stringify(value)} is not a valid AWS tag`);
    }
  }
  return encoded;
}

/** ECS spells tags `{ key, value }`. */
export function ecsTags(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(awsTags(tags)).map(([key, value]) => ({ key, value }));
}

/** ELBv2 and the tagging API spell tags `{ Key, Value }`. */
export function elbTags(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(awsTags(tags)).map(([Key, Value]) => ({ Key, Value }));
}

/** Tags in either spelling, as a record (entries without a key are dropped). */
export function tagRecord(
  tags: ReadonlyArray<{ key?: string; value?: string } | { Key?: string; Value?: string }> | undefined,
): Record<string, string> {
  const record: Record<string, string> = {};
  for (const tag of tags ?? []) {
    const key = 'key' in tag ? tag.key : 'Key' in tag ? tag.Key : undefined;
    const value = 'value' in tag ? tag.value : 'Value' in tag ? tag.Value : undefined;
    if (key) record[key] = value ?? '';
  }
  return record;
}
