// The goals of issue 22, each computed from the rows of one bench run (ratios of figures measured in the same
// run, so a shared, noisy machine slows both sides alike), printed beside its target, and the README's copy
// of that table regenerated between its markers.
import { readFileSync, writeFileSync } from 'node:fs';

export interface GoalRow {
  group: string;
  label: string;
  values: number[];
  floor?: number[];
}

export const LABELS = {
  node: '`node -e 0` (the floor of the start-up rows)',
  help: '`mmmf --help`',
  status: '`mmmf status`, 1 + 3 (4 hosts up)',
  inSync: '1 + 3 in sync, master killed: whole process',
  two: '1 + 2 replicas, in sync',
  twenty: '1 + 20 replicas, in sync',
  gtid10k: '1 + 3, target 10,000 behind, GTID',
  file10k: '1 + 3, target 10,000 behind, file and position',
  equalize10k: '  equalization of those 10,000 (GTID)',
  vipGap: '  VIP on no host (by the hosts’ clocks)',
  perWrite: '  longest gap seen by a connection-per-write client',
  pairBlocked: "pair switchover with VIP move: writes blocked (mmmf's measure)",
  delayed: '1 + 3, one of them delayed (MASTER_DELAY 3600)',
  undelayed: '1 + 3 in sync (beside the delayed row)',
  salvage: "1 + 3, failover salvaging 1,000 transactions (~10 MB) only the dead master's binlog held",
  unsalvaged: '1 + 3, the same failover without them (beside the salvage row)',
} as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Goal {
  what: string;
  measured: string;
  target: string;
  met: boolean | undefined;
}

function ratioGoal(what: string, num: number[] | undefined, den: number[] | undefined, max: number): Goal {
  const target = `≤ ${max.toFixed(1)}×`;
  if (!num?.length || !den?.length) return { what, measured: 'not measured', target, met: undefined };
  const r = median(num) / median(den);
  return { what, measured: `${r.toFixed(2)}×`, target, met: r <= max };
}

function msGoal(what: string, xs: number[] | undefined, max: number): Goal {
  const target = `≤ ${max} ms (median)`;
  if (!xs?.length) return { what, measured: 'not measured', target, met: undefined };
  const m = median(xs);
  return { what, measured: `${m.toFixed(m < 100 ? 1 : 0)} ms`, target, met: m <= max };
}

/** At least `need` of `of` runs at or under `max` (scaled to the runs made). */
function countGoal(what: string, xs: number[] | undefined, max: number, need: number, of: number): Goal {
  const target = `≤ ${max} ms in ≥ ${need} of ${of} runs`;
  if (!xs?.length) return { what, measured: 'not measured', target, met: undefined };
  const under = xs.filter((x) => x <= max).length;
  const worst = Math.max(...xs);
  return {
    what,
    measured: `${under} of ${xs.length} runs (worst ${worst.toFixed(0)} ms)`,
    target,
    met: under / xs.length >= need / of,
  };
}

/** Every goal of the issue, from this run's rows. */
export function goals(rows: GoalRow[]): Goal[] {
  const get = (label: string) => rows.find((r) => r.label === label);
  const node = get(LABELS.node)?.values;
  const inSync = get(LABELS.inSync);
  const eq = get(LABELS.equalize10k);
  const vip = rows.filter((r) => r.label === LABELS.vipGap).flatMap((r) => r.values);
  const perWrite = rows.filter((r) => r.label === LABELS.perWrite).flatMap((r) => r.values);
  return [
    ratioGoal('`mmmf --help` / `node -e 0`', get(LABELS.help)?.values, node, 2.0),
    ratioGoal('`mmmf status` (4 hosts) / `node -e 0`', get(LABELS.status)?.values, node, 2.5),
    ratioGoal('in-sync failover 1 + 3, exec to exit / `node -e 0`', inSync?.values, inSync?.floor, 5.0),
    ratioGoal('20 replicas / 2 replicas (in-sync failover)', get(LABELS.twenty)?.values, get(LABELS.two)?.values, 1.3),
    ratioGoal(
      'file / GTID positioning, same 10k backlog',
      get(LABELS.file10k)?.values,
      get(LABELS.gtid10k)?.values,
      1.3,
    ),
    ratioGoal('equalize / native catch-up (10k, GTID)', eq?.values, eq?.floor, 1.1),
    msGoal('writer VIP on no host during a switchover', vip.length ? vip : undefined, 20),
    countGoal(
      'connection-per-write client, longest gap in a switchover',
      perWrite.length ? perWrite : undefined,
      300,
      4,
      5,
    ),
    msGoal('pair switchover: writes blocked', get(LABELS.pairBlocked)?.values, 150),
    // Earlier issues' aims, kept beside the goals.
    ratioGoal('with a delayed replica / without', get(LABELS.delayed)?.values, get(LABELS.undelayed)?.values, 1.2),
    ratioGoal('salvaging 1,000 transactions / without', get(LABELS.salvage)?.values, get(LABELS.unsalvaged)?.values, 2),
    msGoal(
      "a dead acting monitor's failover finished by another (lockTtlSeconds 5 + timers every 10 s = 15 s)",
      rows.find((r) => r.group === 'monitors')?.values,
      15_000,
    ),
  ];
}

export function goalsTable(rows: GoalRow[]): string {
  const cell = (m: boolean | undefined) => (m === undefined ? '-' : m ? 'met' : '**not met**');
  return [
    '| goal | measured (this run) | target | |',
    '| --- | --- | --- | --- |',
    ...goals(rows).map((g) => `| ${g.what} | ${g.measured} | ${g.target} | ${cell(g.met)} |`),
  ].join('\n');
}

const BEGIN = '<!-- bench:goals (written by npm run bench) -->';
const END = '<!-- /bench:goals -->';

/** Replaces the README's goals table (between its markers) with this run's; a README without them is left as is. */
export function writeReadmeGoals(readme: string, header: string, table: string): boolean {
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return false;
  writeFileSync(readme, `${text.slice(0, a + BEGIN.length)}\n${header}\n\n${table}\n${text.slice(b)}`);
  return true;
}
