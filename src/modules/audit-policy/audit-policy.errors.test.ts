import { serverText } from './audit-policy.errors';

describe('serverText: a target server\'s error as a caller may see it', () => {
  it.each([
    ['could not open file "/var/lib/postgresql/15/main/postgresql.auto.conf": Permission denied', 'could not open file "<path>": Permission denied'],
    ['could not access file "$libdir/pgaudit": No such file or directory', 'could not access file "$libdir/pgaudit": No such file or directory'],
    ['could not stat file /opt/pg/data/base/16384/2619: no space', 'could not stat file <path>: no space'],
    ['could not open C:\\pg\\data\\postgresql.conf', 'could not open <path>'],
    ['permission denied to set parameter "pgaudit.log"', 'permission denied to set parameter "pgaudit.log"'],
    ['value 10/20 is out of range', 'value 10/20 is out of range'],
  ])('%s', (raw, shown) => {
    expect(serverText(raw)).toBe(shown);
  });

  it('is bounded', () => {
    expect(serverText('x'.repeat(10_000)).length).toBeLessThanOrEqual(101);
  });
});
