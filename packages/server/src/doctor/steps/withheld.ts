import type { DoctorOptions } from '../options.js';

/** What the doctor says when Herald kept the backchannel's URL and errors to itself. */
export function withheld(
  options: DoctorOptions,
  what = 'the details: the URL and the error',
): string {
  return options.adminToken
    ? '; the server did not accept --admin-token, so it gives no details'
    : `; give --admin-token for ${what}`;
}
