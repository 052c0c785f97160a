// policy/: the effective permission of a user across their roles — some role allows it and no
// role denies it (a deny wins). Pure.
import type { RoleRecord } from '../store/records.js';

export type Effective = 'allowed' | 'denied' | 'not-granted';

export function effectivePermission(roles: readonly RoleRecord[], permission: string): Effective {
  let allowed = false;
  for (const role of roles) {
    const effect = role.permissions[permission];
    if (effect === 'deny') return 'denied';
    if (effect === 'allow') allowed = true;
  }
  return allowed ? 'allowed' : 'not-granted';
}
