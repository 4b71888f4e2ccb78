// The lint rule that keeps src/ a library (eslint.config.js) really fires: an import of an application (agents/
// or lab/) is refused from every layer of src/, whose own blocks replace the rule's options, and accepted from
// the applications themselves (teredo-lab imports the lab, lab occupants import an agent's status type).

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

/** The code of a module that imports `agent` and `lab` (both relative to the module) and uses them. */
function importing(agent: string, lab: string): string {
  return [`import type { ClientStatus } from '${agent}';`, `import type { Lab } from '${lab}';`, 'export type T = [ClientStatus, Lab];', ''].join('\n');
}

/** Each problem as "<rule>: <its message>". */
async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const REFUSED = "no-restricted-imports: '%s' import is restricted from being used by a pattern. src/ is the library: it must not import an application (agents/, lab/).";

describe('library lint rule', () => {
  it.each(['src/wire', 'src/engine', 'src/io', 'src/runtime'])('refuses agents/ and lab/ imports in %s', async (dir) => {
    const agent = '../../agents/teredo-client/status.js';
    const lab = '../../lab/lab.js';
    expect(await problems(importing(agent, lab), `${dir}/probe.ts`)).toEqual([REFUSED.replace('%s', agent), REFUSED.replace('%s', lab)]);
  });

  it('refuses them one directory deeper (src/engine/teredo)', async () => {
    const agent = '../../../agents/teredo-client/status.js';
    const lab = '../../../lab/lab.js';
    expect(await problems(importing(agent, lab), 'src/engine/teredo/probe.ts')).toEqual([REFUSED.replace('%s', agent), REFUSED.replace('%s', lab)]);
  });

  it('allows them in the applications: agents/ and lab/', async () => {
    expect(await problems(importing('../teredo-client/status.js', '../../lab/lab.js'), 'agents/teredo-lab/probe.ts')).toEqual([]);
    expect(await problems(importing('../../agents/teredo-client/status.js', '../lab.js'), 'lab/occupants/probe.ts')).toEqual([]);
  });
});
