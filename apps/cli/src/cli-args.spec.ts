import { UsageError } from './cli-error';
import {
  booleanOption,
  choiceOption,
  DEFAULT_NAMESERVER,
  expectPositionals,
  integerOption,
  nameserverOf,
  parseCommandArgs,
  type ParsedArgs,
} from './cli-args';

const options = { queues: { type: 'string', description: '' }, fifo: { type: 'string', description: '' } } as const;
const parse = (...argv: string[]): ParsedArgs => parseCommandArgs(argv, options);

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('parseCommandArgs', () => {
  it('reads positionals, the command options and the common ones in any order', () => {
    const args = parse('--json', 'orders', '--queues', '4', '--nameserver=10.0.0.5:9876');
    expect(args.positionals).toEqual(['orders']);
    expect(args.values).toMatchObject({ json: true, queues: '4', nameserver: '10.0.0.5:9876' });
  });

  it('turns unknown options and missing values into usage errors (exit 2)', () => {
    const unknown = usageError(() => parse('--bogus'));
    expect(unknown.message).toBe("Unknown option '--bogus'");
    expect(unknown.exitCode).toBe(2);
    expect(usageError(() => parse('--queues')).message).toMatch(/--queues/);
  });
});

describe('expectPositionals', () => {
  it('names the missing or the extra argument', () => {
    expect(expectPositionals(parse('a'), ['topic'])).toEqual(['a']);
    expect(usageError(() => expectPositionals(parse(), ['topic'])).message).toBe('missing <topic>');
    expect(usageError(() => expectPositionals(parse('a', 'b'), ['topic'])).message).toBe('unexpected argument "b"');
  });
});

describe('value parsers', () => {
  it('integerOption checks the range and rejects non-integers', () => {
    expect(integerOption(parse('--queues', '16'), 'queues', 1, 1024)).toBe(16);
    expect(integerOption(parse(), 'queues', 1, 1024)).toBeUndefined();
    for (const bad of ['0', '1025', '2.5', '-1', 'eight', '']) {
      expect(usageError(() => integerOption(parse(`--queues=${bad}`), 'queues', 1, 1024)).message).toBe(
        `--queues ${JSON.stringify(bad)} is invalid; allowed: an integer from 1 to 1024`,
      );
    }
  });

  it('booleanOption takes true/false (and yes/no, 1/0)', () => {
    expect(booleanOption(parse('--fifo', 'TRUE'), 'fifo')).toBe(true);
    expect(booleanOption(parse('--fifo', 'no'), 'fifo')).toBe(false);
    expect(booleanOption(parse(), 'fifo')).toBeUndefined();
    expect(usageError(() => booleanOption(parse('--fifo', 'maybe'), 'fifo')).message).toBe(
      '--fifo "maybe" is invalid; allowed: true or false',
    );
  });

  it('choiceOption is case-insensitive and lists the choices', () => {
    expect(choiceOption(parse('--fifo', 'delay'), 'fifo', ['NORMAL', 'DELAY'])).toBe('DELAY');
    expect(usageError(() => choiceOption(parse('--fifo', 'x'), 'fifo', ['NORMAL', 'DELAY'])).message).toBe(
      '--fifo "x" is invalid; allowed: NORMAL, DELAY',
    );
  });
});

describe('nameserverOf', () => {
  it('takes --nameserver, else $APOGEE_NAMESERVER, else the default', () => {
    expect(nameserverOf(parse('--nameserver', 'ns-1:9876'), { APOGEE_NAMESERVER: 'ns-2:9876' })).toBe('ns-1:9876');
    expect(nameserverOf(parse(), { APOGEE_NAMESERVER: 'ns-2:9876' })).toBe('ns-2:9876');
    expect(nameserverOf(parse(), {})).toBe(DEFAULT_NAMESERVER);
  });

  it('rejects an address that is not host:port, naming where it came from', () => {
    expect(usageError(() => nameserverOf(parse('--nameserver', 'localhost'), {})).message).toMatch(/^--nameserver: /);
    expect(usageError(() => nameserverOf(parse(), { APOGEE_NAMESERVER: 'x:99999' })).message).toMatch(/^\$APOGEE_NAMESERVER: /);
  });
});
